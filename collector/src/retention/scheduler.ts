// Runs retention every RETENTION_SWEEP_INTERVAL seconds: MongoDB indexes (once) and sweep, then the
// collector's own old segment files. One pass at a time; a failed pass is logged and tried next time.
// Several collectors (workers, hosts) on one collection: only the holder of a lease in MongoDB sweeps it
// (lease.ts); the others skip the MongoDB sweep. File cleanup stays per process (each owns its LOG_DIR).
import type { CollectorConfig } from '../config'
import type { JournalWriter } from '../journal/writer'
import type { ServiceLogger } from '../logger'
import type { MongoSink } from '../sink/mongo-sink'
import { cleanupSegments } from './file-cleanup'
import { Lease, LEASE_COLLECTION, type LeaseDocument } from './lease'
import { sweepCollection, type SweepResult } from './sweeper'
import { ensureRetentionIndexes } from './ttl-index'

export interface RetentionResult extends Partial<SweepResult> {
  at: string
  ttl_index?: boolean
  /** Whether this process held the sweeper lease this pass, and who did when it did not. */
  lease?: { held: boolean, holder: string | null }
  files_deleted: number
  error?: string
}

export class RetentionScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private indexesReady = false
  private lease: Lease | undefined
  lastResult: RetentionResult | undefined

  constructor (
    private readonly config: Readonly<CollectorConfig>,
    private readonly journal: JournalWriter,
    private readonly confirmedSegment: () => string | undefined,
    private readonly sink: MongoSink | undefined,
    private readonly log: ServiceLogger
  ) {}

  start (): void {
    this.timer = setInterval(() => { void this.runOnce() }, this.config.retentionSweepSeconds * 1000).unref()
    void this.runOnce()
  }

  /** One pass; concurrent calls share the pass already running. */
  runOnce (): Promise<void> {
    this.running ??= this.pass().finally(() => { this.running = undefined })
    return this.running
  }

  private async pass (): Promise<void> {
    const result: RetentionResult = { at: new Date().toISOString(), files_deleted: 0 }
    const errors: string[] = []
    // The two halves fail independently: old files are still cleaned up while MongoDB is down.
    if (this.sink !== undefined) {
      await this.sweepMongo(this.sink, result).catch((err: Error) => errors.push(`MongoDB: ${err.message}`))
    }
    await this.cleanupFiles(result).catch((err: Error) => errors.push(`files: ${err.message}`))
    if (errors.length > 0) {
      result.error = errors.join('; ')
      this.log.warn({ err: result.error }, 'retention pass failed; will retry')
    }
    this.lastResult = result
  }

  private async sweepMongo (sink: MongoSink, result: RetentionResult): Promise<void> {
    const limits = {
      retentionDays: this.config.logRetentionDays,
      maxDocuments: this.config.maxDocuments,
      maxCollectionSize: this.config.maxCollectionSize
    }
    await sink.connect()
    if (!this.indexesReady) {
      const setup = await ensureRetentionIndexes(sink.collection, limits)
      this.indexesReady = true
      result.ttl_index = setup.ttl
      if (!setup.ttl) this.log.info({ reason: setup.reason }, 'no TTL index; the periodic sweeper enforces LOG_RETENTION_DAYS')
    }
    // Held across passes and renewed at each, so one process keeps sweeping while it lives; a holder that
    // dies is replaced once its term runs out (at least a minute, and three sweep intervals).
    const ttlMs = Math.max(60_000, 3 * this.config.retentionSweepSeconds * 1000)
    const lease = this.lease ??= new Lease(sink.collection.db.collection<LeaseDocument>(LEASE_COLLECTION),
      `retention:${sink.collection.dbName}.${sink.collection.collectionName}`, { ttlMs })
    if (!(await lease.acquire())) {
      result.lease = { held: false, holder: lease.holder ?? null }
      return
    }
    result.lease = { held: true, holder: lease.owner }
    // A long sweep keeps its term alive.
    const keepAlive = setInterval(() => {
      lease.acquire().then(held => {
        if (!held) this.log.error({ lease: lease.name }, 'lost the retention lease during a sweep')
      }, () => {})
    }, ttlMs / 3).unref()
    try {
      Object.assign(result, await sweepCollection(sink.collection, limits))
    } finally {
      clearInterval(keepAlive)
    }
  }

  private async cleanupFiles (result: RetentionResult): Promise<void> {
    const deleted = await cleanupSegments({
      dir: this.config.logDir,
      olderThanDays: this.config.deleteLogsOlderThanDays,
      confirmedBefore: this.confirmedSegment(),
      mongoConfigured: this.sink !== undefined,
      current: this.journal.end.segment,
      onError: (name, err) => this.log.warn({ segment: name, err: err.message }, 'could not delete an old journal segment; will retry')
    })
    result.files_deleted = deleted.length
    if (deleted.length > 0) {
      this.journal.forgetSegments(deleted)
      this.log.info({ deleted }, 'deleted old journal segments')
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.running
    // Another collector may take over the sweep at once rather than when the term runs out.
    await this.lease?.release().catch(() => {})
  }
}
