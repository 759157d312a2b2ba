// Runs retention every RETENTION_SWEEP_INTERVAL seconds: MongoDB indexes (once) and sweep, then the
// collector's own old segment files. One pass at a time; a failed pass is logged and tried next time.
// Several collectors (workers, hosts) on one collection: only the holder of a lease in MongoDB sweeps it
// (lease.ts); the others skip the MongoDB sweep. File cleanup stays per process (each owns its LOG_DIR).
// RETENTION_RULES (policy.ts): the sweeper deletes per rule, the TTL index sits at the longest rule's age, and
// in the embedded store a segment goes once every event in it has expired (segment-expiry.ts); what each
// rule removed is counted here for /status.retention.rules and maap_retention_removed_total{rule}.
import type { CollectorConfig } from '../config'
import type { JournalWriter } from '../journal/writer'
import type { ServiceLogger } from '../logger'
import type { MongoSink } from '../sink/mongo-sink'
import { SETTINGS } from '../config'
import { cleanupSegments } from './file-cleanup'
import { Lease, LEASE_COLLECTION, type LeaseDocument } from './lease'
import { RetentionPolicy } from './policy'
import { ensureRuleIndex } from './rule-index'
import { SegmentExpiries } from './segment-expiry'
import { retentionWarnings } from './warnings'
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

/** One rule in /status.retention.rules: what it matches, how long it keeps, and what it removed since start. */
export interface RuleStatus {
  rule: string
  apps: readonly string[] | null
  levels: readonly string[] | null
  /** 0 = forever. */
  days: number
  removed: number
}

export interface RetentionStatus extends Partial<RetentionResult> {
  /** RETENTION_RULES then the default (LOG_RETENTION_DAYS); null without rules. */
  rules: RuleStatus[] | null
}

export class RetentionScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private indexesReady = false
  private lease: Lease | undefined
  lastResult: RetentionResult | undefined
  /** RETENTION_RULES with LOG_RETENTION_DAYS for the rest; undefined without rules (the behaviour before rules). */
  readonly policy: RetentionPolicy | undefined
  /** Events removed since start, by rule index (policy.labels order). */
  readonly removed: number[]
  private readonly expiries: SegmentExpiries | undefined

  constructor (
    private readonly config: Readonly<CollectorConfig>,
    private readonly journal: JournalWriter,
    private readonly confirmedSegment: () => string | undefined,
    private readonly sink: MongoSink | undefined,
    private readonly log: ServiceLogger
  ) {
    const rules = config.retentionRules
    this.policy = rules === undefined ? undefined : new RetentionPolicy(rules, config.logRetentionDays)
    this.removed = this.policy?.labels.map(() => 0) ?? []
    this.expiries = this.policy !== undefined && sink === undefined ? new SegmentExpiries(this.policy) : undefined
  }

  start (): void {
    for (const warning of retentionWarnings(this.config, {
      maxDocuments: SETTINGS.maxDocuments.default as number,
      maxCollectionSize: SETTINGS.maxCollectionSize.default as number
    })) this.log.warn({ setting: 'RETENTION_RULES' }, warning)
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
      // With rules, the TTL backstop sits at the longest age any rule (or the default) keeps.
      retentionDays: this.policy?.longestDays ?? this.config.logRetentionDays,
      policy: this.policy,
      maxDocuments: this.config.maxDocuments,
      maxCollectionSize: this.config.maxCollectionSize
    }
    await sink.connect()
    if (!this.indexesReady) {
      const setup = await ensureRetentionIndexes(sink.collection, limits)
      this.indexesReady = true
      result.ttl_index = setup.ttl
      if (!setup.ttl) this.log.info({ reason: setup.reason }, 'no TTL index; the periodic sweeper enforces LOG_RETENTION_DAYS')
      if (this.policy !== undefined) {
        await ensureRuleIndex(sink.collection).catch((err: Error) =>
          this.log.warn({ err: err.message }, 'could not create the retention rules\' index; the rules are still applied'))
      }
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
      const swept = await sweepCollection(sink.collection, limits)
      swept.removedByRule?.forEach((n, i) => { this.removed[i]! += n })
      if (swept.cappedByRules === true) this.log.warn({ maxDocuments: limits.maxDocuments, maxCollectionSize: limits.maxCollectionSize }, 'the collection is over a cap and the rest is what RETENTION_RULES keep; the caps never delete that')
      Object.assign(result, swept)
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
      onError: (name, err) => this.log.warn({ segment: name, err: err.message }, 'could not delete an old journal segment; will retry'),
      ...(this.expiries === undefined ? {} : { expiresAt: async (name, path, size, mtimeMs) => (await this.expiries!.of(name, path, size, mtimeMs)).expiresAt })
    })
    result.files_deleted = deleted.length
    for (const name of deleted) this.expiries?.take(name)?.forEach((n, i) => { this.removed[i]! += n })
    if (deleted.length > 0) {
      this.journal.forgetSegments(deleted)
      this.log.info({ deleted }, 'deleted old journal segments')
    }
  }

  /** /status.retention: the last pass, and the rules with what each removed since start. */
  status (): RetentionStatus | null {
    const policy = this.policy
    if (policy === undefined) return this.lastResult === undefined ? null : { ...this.lastResult, rules: null }
    const rules = policy.labels.map((rule, i): RuleStatus => ({
      rule,
      apps: policy.rules[i]?.apps ?? null,
      levels: policy.rules[i]?.levels ?? null,
      days: policy.days[i]!,
      removed: this.removed[i]!
    }))
    return { ...this.lastResult, rules }
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.running
    // Another collector may take over the sweep at once rather than when the term runs out.
    await this.lease?.release().catch(() => {})
  }
}
