// The collector's engine, independent of HTTP: the journal, the MongoDB drain and retention, with one
// start and one bounded stop. app.ts puts the REST API in front of it.
import { AlertService, type AlertsStatus } from './alerts/service'
import type { CollectorConfig, FsyncPolicy } from './config'
import { KeyStore } from './idempotency/key-store'
import { KeyRing } from './keys'
import { AppQuota, type QuotasStatus } from './quota/quota'
import type { ServiceLogger } from './logger'
import { Checkpoint } from './journal/checkpoint'
import { JournalCompactor, type CompactionStatus } from './journal/compacted/compactor'
import { recoverCompactions } from './journal/compacted/recover'
import { JournalReader } from './journal/reader'
import { onDamagedSegment } from './journal/segment-file'
import { TORN_TAILS_FILE, type TornTail } from './journal/torn-tail'
import { JournalWriter, type JournalPosition } from './journal/writer'
import { Redactor, type RedactionStatus } from './redact/redactor'
import { RetentionPolicy } from './retention/policy'
import { RetentionScheduler, type RetentionStatus } from './retention/scheduler'
import { DeadLetter } from './sink/dead-letter'
import { Drainer } from './sink/drainer'
import { MongoSink } from './sink/mongo-sink'
import { createReadIndexes } from './read/mongo-indexes'
import { QueryAdmission, type QueriesStatus } from './read/admission'
import { Searcher } from './read/search'
import { ExpiryFilter } from './read/expiry'
import { closeScanPool, configureScanPool, scanPool, type ScanPoolStats } from './read/scan-pool'
import { JournalSet } from './read/sources'
import { TailHub } from './read/tail'

export type MongoStatus = 'connected' | 'disconnected' | 'not_configured'

export class MongoNotConfiguredError extends Error {}

export interface JournalStatus {
  dir: string
  /** The segment being written. */
  segment: string
  segments: number
  write_errors: number
  last_error: string | null
  fsync: FsyncPolicy
  /** JOURNAL_COMPACT=on: segments compacted since start, bytes in and out, errors; null when off. */
  compaction: CompactionStatus | null
}

/** The engine's part of GET /status (routes/admin.ts adds the service-wide keys around it). */
export interface ServiceStatus {
  /** Events journaled and not yet confirmed in MongoDB. */
  buffer_size: number
  /** Seconds since the last flush to MongoDB (since start before the first one). */
  time_since_last_flush: number
  accepted_total: number
  rejected_total: number
  flushed_total: number
  duplicates_on_replay: number
  dead_lettered: number
  dead_letter_file: string | null
  journal: JournalStatus
  /** The last retention pass; with RETENTION_RULES, each rule and what it removed. */
  retention: RetentionStatus | null
  /** Idempotency-Keys remembered, repeats answered without storing, keys forgotten early; null when off. */
  idempotency: { keys: number, window_seconds: number, replayed: number, evicted: number, log_errors: number } | null
  /** APP_QUOTAS in this process: the quotas, apps tracked, refusals by app; null when no quotas are set. */
  quotas: QuotasStatus | null
  /** Alert definitions, alerts firing, this process's outbox (notifications waiting for delivery, failed). */
  alerts: AlertsStatus | null
  /** REDACT_FIELDS and REDACT_PATTERNS in force, and what each replaced; null when neither is set. */
  redaction: RedactionStatus | null
  /** Queries running and waiting now (QUERY_CONCURRENCY, QUERY_QUEUE), and how each one ended since start. */
  queries: QueriesStatus
  /** SCAN_THREADS in this process: threads started, blocks they counted, jobs cancelled by a query's end, threads lost; null: none. */
  scan_pool: ScanPoolStats | null
  last_error: string | null
  uptime_seconds: number
}

export class CollectorService {
  readonly journal: JournalWriter
  readonly deadLetter: DeadLetter
  /** The API keys in force (reloaded on SIGHUP). */
  readonly keys: KeyRing
  /** The Idempotency-Keys of batches journaled here; undefined with IDEMPOTENCY_MAX_KEYS=0. */
  readonly batchKeys: KeyStore | undefined
  /** Quotas per app (APP_QUOTAS); undefined when none are set. */
  readonly quota: AppQuota | undefined
  /** REDACT_FIELDS and REDACT_PATTERNS compiled once; undefined when neither is set (ingest skips it). */
  readonly redactor: Redactor | undefined
  /** This process's worker id under WORKER_COUNT > 1 (the primary sets MAAP_WORKER_ID); undefined in a single process. */
  readonly workerId: number | undefined = process.env.MAAP_WORKER_ID === undefined ? undefined : Number(process.env.MAAP_WORKER_ID)
  private readonly reader: JournalReader
  /** JOURNAL_COMPACT=on: compacts closed segments in a worker thread. */
  readonly compactor: JournalCompactor | undefined
  private readonly checkpoint: Checkpoint
  private sink: MongoSink | undefined
  private drainer: Drainer | undefined
  private retention: RetentionScheduler | undefined
  private readonly startedAt = Date.now()
  private indexRetry: NodeJS.Timeout | undefined
  /** The read side: search (GET /logs) and live tails (GET /logs/tail), over the journal and MongoDB. */
  searcher!: Searcher
  tails!: TailHub
  /** Which queries run now, which wait, which are refused (read/admission.ts). */
  readonly queries: QueryAdmission
  /** Saved searches and alerts: definitions, evaluation, the outbox and delivery. */
  alerts!: AlertService
  private accepted = 0
  private rejected = 0
  private journalErrors = 0
  private lastJournalError: string | undefined

  /** `now`: the clock quotas are measured by (tests drive it). */
  constructor (readonly config: Readonly<CollectorConfig>, private readonly log: ServiceLogger, { now = Date.now }: { now?: () => number } = {}) {
    this.queries = new QueryAdmission({
      concurrency: config.queryConcurrency,
      queue: config.queryQueue,
      queueWaitMs: config.queryQueueWaitSeconds * 1000,
      timeoutMs: config.queryTimeoutSeconds * 1000,
      exportTimeoutMs: config.exportTimeoutSeconds * 1000
    })
    // The machine's scan threads shared among the worker processes: each already has its share of ingest.
    configureScanPool(config.workerCount > 1 ? Math.max(1, Math.floor(config.scanThreads / config.workerCount)) : config.scanThreads)
    this.journal = new JournalWriter({
      dir: config.logDir, fsync: config.journalFsync, segmentMaxBytes: config.segmentMaxBytes, maxQueueBytes: config.journalMaxQueueBytes
    })
    this.reader = new JournalReader(config.logDir, () => this.journal.segments, () => this.journal.end)
    this.checkpoint = new Checkpoint(config.logDir)
    this.compactor = config.journalCompact === 'off'
      ? undefined
      : new JournalCompactor({
        dir: config.logDir,
        segments: () => this.journal.segments,
        current: () => this.journal.end.segment,
        // With MongoDB, only what the drain confirmed: the drain and the replay read NDJSON alone.
        confirmedBefore: config.mongodbUri === undefined ? undefined : () => this.drainer?.confirmed.segment,
        onError: (segment, err) => this.log.warn({ segment, err: err.message }, 'a journal segment could not be compacted; it stays NDJSON')
      })
    this.deadLetter = new DeadLetter(config.logDir)
    this.keys = new KeyRing(config)
    this.quota = config.appQuotas === undefined ? undefined : new AppQuota(config.appQuotas, now)
    this.redactor = Redactor.compile(config.redactFields, config.redactPatterns)
    this.batchKeys = config.idempotencyMaxKeys === 0
      ? undefined
      : new KeyStore(config.logDir, {
        windowMs: config.idempotencyWindowSeconds * 1000,
        maxKeys: config.idempotencyMaxKeys,
        sync: config.journalFsync === 'always',
        onError: err => this.log.warn({ err: err.message }, 'an Idempotency-Key could not be written to its log; a retry of that batch may be stored again')
      })
  }

  /** Opens the journal and, with MongoDB configured, replays what is not yet confirmed there. */
  async start (): Promise<void> {
    this.journal.on('torn-tail', (torn: TornTail) => this.log.warn({ ...torn, file: TORN_TAILS_FILE },
      'journal segment ended in a partial line (a crash mid-write, never acknowledged); moved aside'))
    onDamagedSegment((file, reason) => this.log.error({ file, reason },
      'a read found a compacted journal segment damaged; its damaged part reads as nothing, the other segments answer'))
    // Before the writer lists the segments: a crash may have left a compaction half done — also when
    // JOURNAL_COMPACT was turned off since (its .tmp would stay for good, a segment in both forms).
    const r = this.compactor !== undefined ? await this.compactor.recover() : await recoverCompactions(this.config.logDir)
    if (r.partial + r.finished > 0) this.log.info({ partial: r.partial, finished: r.finished }, 'finished or discarded compactions a stop interrupted')
    for (const c of r.corrupt) {
      this.log.error({ segment: c.segment, reason: c.reason, kept: c.kept }, c.kept
        ? 'a compacted journal segment is damaged and there is no NDJSON copy; renamed <segment>.z.damaged for inspection, reads skip it'
        : 'a compacted journal segment was damaged; deleted, its NDJSON copy is kept')
    }
    await this.journal.open()
    if (this.batchKeys !== undefined) {
      await this.batchKeys.load(from => this.linesFrom(from), () => this.oldestPosition(), this.journal.end)
      this.journal.setSidecar(this.batchKeys)
    }
    this.journal.on('write-error', (err: Error) => {
      this.journalErrors++
      this.lastJournalError = err.message
      this.log.error({ err }, 'journal write failed; requests are answered 503')
    })
    this.journal.on('committed', (events: number) => { this.accepted += events })

    if (this.config.mongodbUri !== undefined) {
      const from = (await this.checkpoint.load()) ?? this.oldestPosition()
      const pending = await this.reader.countFrom(from)
      this.sink = new MongoSink(this.config.mongodbUri, this.config.mongodbDbName, this.config.mongodbCollection)
      this.drainer = new Drainer(this.sink, this.reader, this.checkpoint, this.deadLetter, {
        batchSize: this.config.logBufferSize,
        flushIntervalMs: this.config.flushIntervalSeconds * 1000
      }, from, pending)
      this.journal.on('committed', (events: number) => this.drainer!.added(events))
      this.drainer.on('drain-error', (err: Error) => this.log.warn({ err: err.message }, 'flush to MongoDB failed; will retry'))
      this.drainer.on('torn-tail', (segment: string, bytes: number) =>
        this.log.warn({ segment, bytes }, 'journal segment ends in a partial line (a crash mid-write); it was never acknowledged and is skipped'))
      this.drainer.on('dead-lettered', (entries: unknown[]) =>
        this.log.warn({ count: entries.length, file: this.deadLetter.file }, 'MongoDB rejected events; written to the dead-letter file'))
      if (pending > 0) {
        this.log.info({ pending, from }, 'replaying journal into MongoDB')
        try {
          await this.drainer.flushAll()
        } catch (err) {
          this.log.warn({ err: (err as Error).message, pending: this.drainer.stats.pending },
            'MongoDB unavailable at start; accepting into the journal and retrying in the background')
        }
      }
      this.drainer.start()
    }
    this.startReadSide()
    this.alerts = new AlertService(this.config, { journal: this.journal, searcher: () => this.searcher, workerId: this.workerId, log: this.log })
    await this.alerts.start()
    this.retention = new RetentionScheduler(this.config, this.journal, () => this.confirmedSegment(), this.sink, this.log)
    this.retention.start()
    this.compactor?.start()
    // A segment that closes is compacted now, not at the compactor's next look (every 2 s).
    this.journal.on('segment-closed', () => { this.compactor?.kick() })
  }

  private startReadSide (): void {
    const journals = new JournalSet({
      dir: this.config.logDir,
      segments: () => this.journal.segments,
      end: () => this.journal.end,
      confirmed: () => this.drainer?.confirmed
    }, this.workerId, this.sink !== undefined, this.config.retentionRules === undefined
      ? undefined
      // RETENTION_RULES: no journal read answers an event past its rule's age.
      : new ExpiryFilter(new RetentionPolicy(this.config.retentionRules, this.config.logRetentionDays)))
    const sink = this.sink
    const drainer = this.drainer
    this.searcher = new Searcher(journals, sink === undefined || drainer === undefined
      ? undefined
      // Until a flush has failed, MongoDB is taken to be up (a collector that has not flushed yet has not
      // connected either).
      : { collection: sink.collection, connected: () => drainer.stats.connected || drainer.stats.lastError === undefined })
    this.tails = new TailHub(journals, {
      maxClients: this.config.maxTailClients,
      heartbeatMs: this.config.tailHeartbeatSeconds * 1000,
      siblingPollMs: 20
    })
    this.journal.on('committed', () => this.tails.notify())
    if (sink !== undefined) this.ensureReadIndexes(sink)
  }

  private ensureReadIndexes (sink: MongoSink): void {
    createReadIndexes(sink.collection).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'could not create the read indexes; retrying in a minute')
      this.indexRetry = setTimeout(() => this.ensureReadIndexes(sink), 60_000).unref()
    })
  }

  /** The journal's lines from `from` to its end, a batch at a time. */
  private async * linesFrom (from: JournalPosition): AsyncGenerator<string[]> {
    for (let pos = from; ;) {
      const batch = await this.reader.read(pos, 10_000)
      if (batch.lines.length === 0) return
      yield batch.lines
      pos = batch.next
    }
  }

  private oldestPosition (): JournalPosition {
    return { segment: this.journal.segments[0] ?? this.journal.end.segment, offset: 0 }
  }

  /** Segments before this one are confirmed in MongoDB; undefined when MongoDB is not configured. */
  private confirmedSegment (): string | undefined {
    return this.drainer?.confirmed.segment
  }

  /** Counts events the ingest routes refused, for any reason (metrics/ingest-counts.ts calls it); the journal counts what it accepted. */
  countRejected (events: number): void {
    this.rejected += events
  }

  /** Events retention removed since start, by RETENTION_RULES label (none without rules). */
  get retentionRemoved (): Array<[string, number]> {
    const r = this.retention
    return r?.policy === undefined ? [] : r.policy.labels.map((label, i) => [label, r.removed[i]!])
  }

  /** Journal writes that failed since start (their requests were answered 503). */
  get journalWriteErrors (): number {
    return this.journalErrors
  }

  /** The MongoDB drain (its stats and events, for metrics); undefined in embedded mode. */
  get drain (): Drainer | undefined {
    return this.drainer
  }

  get mongoStatus (): MongoStatus {
    if (this.drainer === undefined) return 'not_configured'
    return this.drainer.stats.connected ? 'connected' : 'disconnected'
  }

  /** Flushes everything journaled so far into MongoDB; resolves with the number of events flushed. */
  async forceFlush (): Promise<number> {
    if (this.drainer === undefined) throw new MongoNotConfiguredError('MongoDB is not configured (MONGODB_URI is unset); events are kept in the local journal')
    // Counted as what reached MongoDB (or the dead-letter file) while this call waited, so events that
    // a background flush already in flight was carrying count too.
    const before = this.drainer.stats.flushed + this.drainer.stats.deadLettered
    await this.drainer.flushAll()
    return this.drainer.stats.flushed + this.drainer.stats.deadLettered - before
  }

  status (): ServiceStatus {
    const d = this.drainer?.stats
    const lastFlushAt = d?.lastFlushAt ?? this.startedAt
    return {
      buffer_size: d?.pending ?? 0,
      time_since_last_flush: Math.round((Date.now() - lastFlushAt) / 10) / 100,
      accepted_total: this.accepted,
      rejected_total: this.rejected,
      flushed_total: d?.flushed ?? 0,
      duplicates_on_replay: d?.duplicates ?? 0,
      dead_lettered: this.deadLetter.count,
      dead_letter_file: this.deadLetter.count > 0 ? this.deadLetter.file : null,
      journal: {
        dir: this.config.logDir,
        segment: this.journal.end.segment,
        segments: this.journal.segments.length,
        write_errors: this.journalErrors,
        last_error: this.lastJournalError ?? null,
        fsync: this.config.journalFsync,
        compaction: this.compactor?.status() ?? null
      },
      retention: this.retention?.status() ?? null,
      idempotency: this.idempotencyStatus(),
      quotas: this.quota?.status() ?? null,
      alerts: this.alerts?.status() ?? null,
      redaction: this.redactor?.status() ?? null,
      queries: this.queries.status(),
      scan_pool: scanPool()?.status() ?? null,
      last_error: d?.lastError ?? this.lastJournalError ?? null,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000)
    }
  }

  private idempotencyStatus (): ServiceStatus['idempotency'] {
    if (this.batchKeys === undefined) return null
    const s = this.batchKeys.stats()
    return { keys: s.keys, window_seconds: this.config.idempotencyWindowSeconds, replayed: s.replayed, evicted: s.evicted, log_errors: s.logErrors }
  }

  /**
   * Stops retention, flushes what it can within `timeoutMs`, closes the journal and MongoDB. What is not
   * flushed stays in the journal and is replayed on the next start.
   */
  async stop (timeoutMs: number): Promise<{ flushed: number, pending: number }> {
    clearTimeout(this.indexRetry)
    this.tails?.close()
    await this.compactor?.stop()
    await closeScanPool()
    await this.retention?.stop()
    // Before the journal closes: the evaluator reads it, and what it found is in the outbox (synced) already.
    await this.alerts?.stop()
    let flushed = 0
    if (this.drainer !== undefined) {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), timeoutMs) })
      const result = await Promise.race([this.drainer.flushAll().catch(() => 0), deadline])
      clearTimeout(timer)
      if (result !== 'timeout') flushed = result
    }
    // Closing the client first makes a flush still waiting on MongoDB give up at once.
    const drainerStopped = this.drainer?.stop()
    await this.sink?.close().catch(() => {})
    await drainerStopped?.catch(() => {})
    await this.journal.close()
    this.batchKeys?.close()
    return { flushed, pending: this.drainer?.stats.pending ?? 0 }
  }
}
