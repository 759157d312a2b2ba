// WORKER_COUNT > 1: one /status for the whole service from every worker's own status (cluster/ipc.ts).
// The original's six keys come first, as in a single process; then the same totals, summed; then each
// worker's own status under `workers`, a worker that did not answer named with the reason.
import { join } from 'node:path'
import type { WorkerReply } from './ipc'
import { sumRedaction } from '../redact/redactor'
import type { JournalStatus, MongoStatus, ServiceStatus } from '../service'
import type { CompactionStatus } from '../journal/compacted/compactor'
import type { QuotasStatus } from '../quota/quota'
import { DEAD_LETTER_FILE } from '../sink/dead-letter'

/** A single process's (or one worker's) GET /status: the original's six keys, then the engine's, then ours. */
export interface LocalStatus extends ServiceStatus {
  status: 'operational'
  mongodb_status: MongoStatus
  version: string
  timestamp: string
  process: { pid: number, worker_id: number | null }
  auth: { ingest: 'on' | 'off', admin: 'on' | 'off', browser_keys: number, key_reloads: number }
  tls: boolean
}

/** GET /status of a cluster: the totals over every worker that answered, then each worker's own. */
export interface ClusterStatus extends Omit<LocalStatus, 'journal'> {
  /** The service's journals: no one segment is being written. */
  journal: Omit<JournalStatus, 'segment'>
  workers_answering: number
  workers: Array<({ worker_id: number } & LocalStatus) | { worker_id: number, error: string }>
}

const sum = (list: LocalStatus[], read: (s: LocalStatus) => number): number => list.reduce((n, s) => n + read(s), 0)

function mongoStatus (list: LocalStatus[]): MongoStatus {
  if (list.some(s => s.mongodb_status === 'disconnected')) return 'disconnected'
  if (list.some(s => s.mongodb_status === 'connected')) return 'connected'
  return 'not_configured'
}

/**
 * The service's status from the workers' replies. `own` is the answering worker's status (it always has
 * one, even when the primary could not be asked); `logDir` is the service's LOG_DIR.
 */
/** The workers' compactions, added up (each compacts its own journal); null when compaction is off. */
function compactionTotal (list: readonly CompactionStatus[]): CompactionStatus | null {
  if (list.length === 0) return null
  const last = list.find(c => c.last_error !== null)
  const add = (read: (c: CompactionStatus) => number): number => list.reduce((n, c) => n + read(c), 0)
  return {
    segments: add(c => c.segments),
    bytes_in: add(c => c.bytes_in),
    bytes_out: add(c => c.bytes_out),
    running: list.some(c => c.running),
    segment: list.find(c => c.segment !== null)?.segment ?? null,
    errors: add(c => c.errors),
    last_error: last?.last_error ?? null,
    recovered: {
      partial: add(c => c.recovered.partial),
      finished: add(c => c.recovered.finished),
      corrupt: add(c => c.recovered.corrupt)
    },
    damaged_reads: add(c => c.damaged_reads)
  }
}

export function serviceStatus (replies: readonly WorkerReply[], own: LocalStatus, logDir: string): ClusterStatus {
  const answered = replies.flatMap(r => r.ok ? [r.value as LocalStatus] : [])
  const list = answered.length > 0 ? answered : [own]
  const firstError = list.find(s => s.last_error !== null)
  const journalError = list.find(s => s.journal.last_error !== null)
  const deadLettered = sum(list, s => s.dead_lettered)
  const workers = replies.map(r => r.ok ? { worker_id: r.worker_id, ...(r.value as LocalStatus) } : { worker_id: r.worker_id, error: r.error })
  return {
    status: own.status,
    mongodb_status: mongoStatus(list),
    buffer_size: sum(list, s => s.buffer_size),
    // The stalest worker: what has waited longest for MongoDB.
    time_since_last_flush: Math.max(...list.map(s => s.time_since_last_flush)),
    version: own.version,
    timestamp: own.timestamp,
    accepted_total: sum(list, s => s.accepted_total),
    rejected_total: sum(list, s => s.rejected_total),
    flushed_total: sum(list, s => s.flushed_total),
    duplicates_on_replay: sum(list, s => s.duplicates_on_replay),
    dead_lettered: deadLettered,
    dead_letter_file: deadLettered > 0 ? join(logDir, 'worker-*', DEAD_LETTER_FILE) : null,
    journal: {
      dir: logDir,
      segments: sum(list, s => s.journal.segments),
      write_errors: sum(list, s => s.journal.write_errors),
      last_error: journalError === undefined ? null : `worker ${journalError.process.worker_id}: ${journalError.journal.last_error}`,
      fsync: own.journal.fsync,
      compaction: compactionTotal(list.flatMap(s => s.journal.compaction ?? []))
    },
    // The sweep of the worker that holds the lease (the others skip the MongoDB sweep).
    retention: (list.find(s => s.retention?.lease?.held === true) ?? list.find(s => s.retention !== null) ?? own).retention,
    idempotency: own.idempotency === null
      ? null
      : {
          keys: sum(list, s => s.idempotency?.keys ?? 0),
          window_seconds: own.idempotency.window_seconds,
          replayed: sum(list, s => s.idempotency?.replayed ?? 0),
          evicted: sum(list, s => s.idempotency?.evicted ?? 0),
          log_errors: sum(list, s => s.idempotency?.log_errors ?? 0)
        },
    quotas: own.quotas == null ? null : clusterQuotas(list, own.quotas),
    alerts: own.alerts == null ? null : clusterAlerts(list, own.alerts),
    redaction: sumRedaction(list.map(s => s.redaction)),
    queries: clusterQueries(list, own.queries),
    scan_pool: own.scan_pool === null
      ? null
      : {
          threads: sum(list, s => s.scan_pool?.threads ?? 0),
          started: sum(list, s => s.scan_pool?.started ?? 0),
          busy: sum(list, s => s.scan_pool?.busy ?? 0),
          blocks: sum(list, s => s.scan_pool?.blocks ?? 0),
          jobs: sum(list, s => s.scan_pool?.jobs ?? 0),
          cancelled: sum(list, s => s.scan_pool?.cancelled ?? 0),
          failures: sum(list, s => s.scan_pool?.failures ?? 0)
        },
    last_error: firstError === undefined ? null : `worker ${firstError.process.worker_id}: ${firstError.last_error}`,
    uptime_seconds: Math.max(...list.map(s => s.uptime_seconds)),
    process: own.process,
    auth: own.auth,
    tls: own.tls,
    workers_answering: answered.length,
    workers
  }
}

/** Alerts over the workers: definitions are shared (the answering worker's view); firing, outboxes and notifications add up. */
function clusterAlerts (list: LocalStatus[], own: NonNullable<LocalStatus['alerts']>): NonNullable<LocalStatus['alerts']> {
  const outbox = (read: (o: NonNullable<LocalStatus['alerts']>['outbox']) => number): number => sum(list, s => s.alerts == null ? 0 : read(s.alerts.outbox))
  return {
    alerts: own.alerts,
    enabled: own.enabled,
    firing: sum(list, s => s.alerts?.firing ?? 0),
    outbox: { pending: outbox(o => o.pending), failed: outbox(o => o.failed), notifications: outbox(o => o.notifications), bytes: outbox(o => o.bytes) },
    notifications: sum(list, s => s.alerts?.notifications ?? 0),
    skipped_segments: sum(list, s => s.alerts?.skipped_segments ?? 0),
    definitions_error: list.find(s => s.alerts?.definitions_error != null)?.alerts?.definitions_error ?? null
  }
}

/**
 * Query admission is per worker: the limits are each worker's, the counts add up. A status without it (a
 * worker of an older version, while an upgrade rolls) adds nothing.
 */
function clusterQueries (list: LocalStatus[], own: LocalStatus['queries'] | undefined): LocalStatus['queries'] {
  const add = (read: (q: LocalStatus['queries']) => number): number => sum(list, s => s.queries === undefined ? 0 : read(s.queries))
  return {
    concurrency: own?.concurrency ?? 0,
    queue: own?.queue ?? 0,
    running: add(q => q.running),
    queued: add(q => q.queued),
    answered: add(q => q.answered),
    refused: add(q => q.refused),
    timed_out: add(q => q.timed_out),
    aborted: add(q => q.aborted)
  }
}

/** Quotas are per worker: the same quotas, apps tracked and refusals summed over the workers. */
function clusterQuotas (list: LocalStatus[], own: QuotasStatus): QuotasStatus {
  const add = (read: (q: QuotasStatus) => Record<string, number>): Record<string, number> => {
    const out = new Map<string, number>()
    for (const s of list) for (const [app, n] of Object.entries(s.quotas == null ? {} : read(s.quotas))) out.set(app, (out.get(app) ?? 0) + n)
    return Object.fromEntries(out)
  }
  return {
    per_minute: own.per_minute,
    apps_tracked: sum(list, s => s.quotas?.apps_tracked ?? 0),
    refused_requests: add(q => q.refused_requests),
    refused_events: add(q => q.refused_events)
  }
}
