// GET /metrics: the collector's Prometheus metrics (prom-client), one registry per collector instance.
//
//   ingest routes ──plain counts──► IngestCounts ─┐
//   service totals (journal, drain, dead letters) ├─► read when a scrape asks (collect) ──► text
//   request / journal-commit / flush latencies ───┘   (observed as they happen: histograms)
//
// Counters that mirror a total the collector keeps anyway are set from it at scrape time, so the hot path
// pays nothing for them. Names carry the `maap_` prefix and base units (seconds, bytes); prom-client's
// default process_* and nodejs_* metrics come along. With WORKER_COUNT > 1 the primary sums the workers'
// registries (metrics/cluster.ts, over cluster/ipc.ts); each metric's `aggregator` says how, where summing would be wrong.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import { ClosedSizes } from '../journal/closed-sizes'
import type { CollectorService } from '../service'
import { LightHistogram, type Series } from './histogram'
import { IngestCounts, REJECT_REASONS, type RouteCounts } from './ingest-counts'
import { scanPool, type ScanPoolStats } from '../read/scan-pool'

export interface MetricsOptions {
  /** Live tail clients connected now (the app passes the service's tail hub; 0 when not given). */
  tailClients?: () => number
}

/** What the scan-pool metrics read when there is no pool (SCAN_THREADS=0, or threads that could not start). */
const NO_POOL: ScanPoolStats = { threads: 0, started: 0, busy: 0, blocks: 0, jobs: 0, cancelled: 0, failures: 0 }

/** Latency buckets in seconds: from a group commit's fdatasync (~1 ms) to a slow insertMany. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export class CollectorMetrics {
  readonly registry = new Registry()
  readonly ingest: IngestCounts
  private readonly requestSeconds: LightHistogram
  private readonly commitSeconds: Series
  private readonly flushSeconds: Series
  /** Sizes of closed segments, so a scrape stats each segment once. */
  private readonly segmentBytes: ClosedSizes

  constructor (private readonly service: CollectorService, opts: MetricsOptions = {}) {
    this.ingest = new IngestCounts(events => service.countRejected(events))
    this.segmentBytes = new ClosedSizes(service.config.logDir)
    const registers = [this.registry]
    const tailClients = opts.tailClients ?? (() => 0)
    const routes = this.ingest.routes
    const byRoute = <T>(read: (c: RouteCounts) => T): Array<[string, T]> =>
      [...routes].map(([route, c]) => [route, read(c)])

    const total = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect () { this.reset(); this.inc(read()) } })
    }

    new Counter({
      name: 'maap_events_received_total', help: 'Events found in ingest request bodies, accepted or not (a body refused as a whole: one)', labelNames: ['route'], registers,
      collect () { this.reset(); for (const [route, n] of byRoute(c => c.received)) this.inc({ route }, n) }
    })
    new Counter({
      name: 'maap_events_accepted_total', help: 'Events journaled and acknowledged', labelNames: ['route'], registers,
      collect () { this.reset(); for (const [route, n] of byRoute(c => c.accepted)) this.inc({ route }, n) }
    })
    new Counter({
      name: 'maap_events_rejected_total', help: `Events not accepted, by reason (${REJECT_REASONS.join(', ')})`, labelNames: ['route', 'reason'], registers,
      collect () {
        this.reset()
        for (const [route, rejected] of byRoute(c => c.rejected)) for (const reason of REJECT_REASONS) this.inc({ route, reason }, rejected[reason])
      }
    })
    new Counter({
      name: 'maap_received_bytes_total', help: 'Ingest request body bytes as sent (Content-Length, before decompression)', labelNames: ['route'], registers,
      collect () { this.reset(); for (const [route, n] of byRoute(c => c.bytes)) this.inc({ route }, n) }
    })
    total('maap_events_flushed_total', 'Events stored in MongoDB', () => service.drain?.stats.flushed ?? 0)
    total('maap_events_dead_lettered_total', 'Events MongoDB refused for good, written to the dead-letter file', () => service.deadLetter.count)
    total('maap_replay_duplicates_total', 'Events already in MongoDB when a replay inserted them again (counted as stored)', () => service.drain?.stats.duplicates ?? 0)
    total('maap_journal_write_errors_total', 'Journal writes that failed (their requests were answered 503)', () => service.journalWriteErrors)
    total('maap_idempotent_replays_total', 'Batches whose Idempotency-Key was already journaled here: answered as the first time, not stored again', () => service.batchKeys?.stats().replayed ?? 0)
    total('maap_idempotency_keys_evicted_total', 'Idempotency-Keys forgotten before IDEMPOTENCY_WINDOW ended, past IDEMPOTENCY_MAX_KEYS', () => service.batchKeys?.stats().evicted ?? 0)
    const compaction = (): ReturnType<NonNullable<typeof service.compactor>['status']> | undefined => service.compactor?.status()
    total('maap_journal_compacted_segments_total', 'Journal segments compacted (JOURNAL_COMPACT=on)', () => compaction()?.segments ?? 0)
    total('maap_journal_compaction_read_bytes_total', 'NDJSON bytes compacted', () => compaction()?.bytes_in ?? 0)
    total('maap_journal_compaction_written_bytes_total', 'Compacted bytes written in their place', () => compaction()?.bytes_out ?? 0)
    total('maap_journal_compaction_errors_total', 'Segments that could not be compacted (they stay NDJSON), and damaged compacted files found at start', () => compaction()?.errors ?? 0)
    new Gauge({ name: 'maap_idempotency_keys', help: 'Idempotency-Keys remembered', registers, collect () { this.set(service.batchKeys?.stats().keys ?? 0) } })

    // Quotas per app (APP_QUOTAS): labels are the apps named there and `other`, never a client's own app_name.
    new Counter({
      name: 'maap_quota_refusals_total', help: 'Ingest requests refused because an app was past its APP_QUOTAS quota, by app (the apps named, and other)', labelNames: ['app'], registers,
      collect () { this.reset(); for (const [app, n] of service.quota?.refusals ?? []) this.inc({ app }, n) }
    })

    // Alerts: read from the alert service when a scrape comes (it exists once the service has started).
    const alerts = (): ReturnType<CollectorService['alerts']['metrics']> | undefined => service.alerts?.metrics()
    new Counter({
      name: 'maap_alert_deliveries_total', help: 'Attempts to deliver a notification, by channel type and result (delivered, retried, failed)', labelNames: ['channel', 'result'], registers,
      collect () {
        this.reset()
        for (const [key, n] of Object.entries(alerts()?.deliveries ?? {})) {
          const [channel, result] = key.split(':')
          this.inc({ channel, result }, n)
        }
      }
    })
    total('maap_alert_notifications_total', 'Notifications made (each and count alerts) and stored in the outbox', () => alerts()?.notifications ?? 0)
    new Gauge({ name: 'maap_alert_outbox_pending', help: 'Notifications in the outbox with a delivery not yet delivered or failed', registers, collect () { this.set(alerts()?.outboxPending ?? 0) } })
    new Gauge({ name: 'maap_alert_outbox_bytes', help: 'Size of the alert outbox files', registers, collect () { this.set(alerts()?.outboxBytes ?? 0) } })
    new Gauge({ name: 'maap_alerts_firing', help: 'Count alerts firing, and each alerts with a group open', registers, collect () { this.set(alerts()?.firing ?? 0) } })
    total('maap_alert_evaluation_seconds_total', 'Time spent evaluating each alerts over the journal', () => alerts()?.evaluationSeconds ?? 0)

    // Retention by rule (RETENTION_RULES): labels are the rules as configured and `default`, never an event's value.
    new Counter({
      name: 'maap_retention_removed_total', help: 'Events retention removed, by RETENTION_RULES rule (default: what no rule matches, LOG_RETENTION_DAYS): MongoDB documents the sweeper deleted, and in the embedded store the events of deleted segments', labelNames: ['rule'], registers,
      collect () { this.reset(); for (const [rule, n] of service.retentionRemoved) this.inc({ rule }, n) }
    })

    // Redaction at ingest (REDACT_FIELDS, REDACT_PATTERNS): values and matches replaced, by rule.
    new Counter({
      name: 'maap_redactions_total', help: 'Values (REDACT_FIELDS) and matches (REDACT_PATTERNS) replaced by [REDACTED] at ingest, by rule (field:<name> or pattern:<detector>)', labelNames: ['rule'], registers,
      collect () { this.reset(); for (const [rule, n] of service.redactor?.countsByRule() ?? []) this.inc({ rule }, n) }
    })

    new Gauge({
      name: 'maap_mongodb_backlog_events', help: 'Events journaled and not yet confirmed in MongoDB', registers,
      collect () { this.set(service.drain?.stats.pending ?? 0) }
    })
    new Gauge({
      name: 'maap_mongodb_up', help: '1 when the last flush to MongoDB succeeded (0 when it failed or MongoDB is not configured); the minimum over workers',
      registers, aggregator: 'min', collect () { this.set(service.mongoStatus === 'connected' ? 1 : 0) }
    })
    new Gauge({
      name: 'maap_journal_segments', help: 'Journal segment files in LOG_DIR', registers,
      collect () { this.set(service.journal.segments.length) }
    })
    const journalBytes = async (): Promise<number> => await this.journalBytes()
    new Gauge({
      name: 'maap_journal_bytes', help: 'Bytes of the journal segments (original NDJSON bytes, compacted ones too)', registers,
      async collect () { this.set(await journalBytes()) }
    })
    new Gauge({ name: 'maap_tail_clients', help: 'Live tail clients connected', registers, collect () { this.set(tailClients()) } })

    // Read admission (QUERY_CONCURRENCY, QUERY_QUEUE, QUERY_TIMEOUT): in flight now, and how each query ended.
    new Gauge({ name: 'maap_queries_running', help: 'Queries (search, export, histogram, values, fields) running now', registers, collect () { this.set(service.queries.status().running) } })
    new Gauge({ name: 'maap_queries_queued', help: 'Queries waiting for a slot (QUERY_CONCURRENCY) now', registers, collect () { this.set(service.queries.status().queued) } })
    new Counter({
      name: 'maap_queries_total', help: 'Queries ended, by outcome: answered, refused (503 MAAP_TOO_MANY_QUERIES), timed_out (QUERY_TIMEOUT: partial page, 504, export cut), aborted (client gone)', labelNames: ['outcome'], registers,
      collect () {
        const q = service.queries.status()
        this.reset()
        this.inc({ outcome: 'answered' }, q.answered)
        this.inc({ outcome: 'refused' }, q.refused)
        this.inc({ outcome: 'timed_out' }, q.timed_out)
        this.inc({ outcome: 'aborted' }, q.aborted)
      }
    })

    // The scan threads (SCAN_THREADS) that count compacted blocks: /status.scan_pool, all zero when there are none.
    const pool = (): ScanPoolStats | undefined => scanPool()?.status()
    new Gauge({ name: 'maap_scan_pool_threads', help: 'Scan threads configured (SCAN_THREADS for this process; 0 when counts run on the main thread)', registers, collect () { this.set(pool()?.threads ?? 0) } })
    new Gauge({ name: 'maap_scan_pool_threads_started', help: 'Scan threads running now', registers, collect () { this.set(pool()?.started ?? 0) } })
    new Gauge({ name: 'maap_scan_pool_busy', help: 'Scan threads working for a count now', registers, collect () { this.set(pool()?.busy ?? 0) } })
    for (const [name, help, read] of [
      ['maap_scan_pool_blocks_total', 'Compacted blocks the scan threads counted or picked lines from', (p: ScanPoolStats) => p.blocks],
      ['maap_scan_pool_jobs_total', 'Jobs (runs of blocks) the scan threads took', (p: ScanPoolStats) => p.jobs],
      ['maap_scan_pool_cancelled_total', 'Scan thread jobs stopped because their query ended first', (p: ScanPoolStats) => p.cancelled],
      ['maap_scan_pool_failures_total', 'Scan threads that died (their jobs went back to the main thread)', (p: ScanPoolStats) => p.failures]
    ] as const) {
      new Counter({ name, help, registers, collect () { this.reset(); this.inc(read(pool() ?? NO_POOL)) } })
    }

    this.requestSeconds = new LightHistogram('maap_http_request_duration_seconds',
      'HTTP requests, from arrival to the reply sent, by route, method and status code', LATENCY_BUCKETS, this.registry)
    this.commitSeconds = new LightHistogram('maap_journal_commit_duration_seconds',
      'Ingest requests: from handing events to the journal to their group commit (write + fdatasync)', LATENCY_BUCKETS, this.registry).series()
    this.flushSeconds = new LightHistogram('maap_flush_duration_seconds', 'One insertMany batch into MongoDB', LATENCY_BUCKETS, this.registry).series()
    collectDefaultMetrics({ register: this.registry })
  }

  /** Starts observing the MongoDB drain (call once the service has started). */
  watchDrain (): void {
    this.service.drain?.on('batch-stored', (seconds: number) => this.flushSeconds.observe(seconds))
  }

  /**
   * Observes every request's latency: each route gets its own onResponse hook that knows its path
   * (request.routeOptions would build an object per request). Call before the routes are registered.
   */
  observeRequests (app: FastifyInstance): void {
    /** The series of one route, by method and status code, made on first use. */
    const routeSeries = (route: string): (request: FastifyRequest, reply: FastifyReply) => Series => {
      const byMethod = new Map<string, Map<number, Series>>()
      return (request, reply) => {
        let byStatus = byMethod.get(request.method)
        if (byStatus === undefined) byMethod.set(request.method, byStatus = new Map())
        let series = byStatus.get(reply.statusCode)
        if (series === undefined) {
          series = this.requestSeconds.series({ route, method: request.method, status_code: String(reply.statusCode) })
          byStatus.set(reply.statusCode, series)
        }
        return series
      }
    }
    app.addHook('onRoute', options => {
      const seriesOf = routeSeries(options.url)
      const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
        seriesOf(request, reply).observe(reply.elapsedTime / 1000)
        done()
      }
      options.onResponse = options.onResponse === undefined ? [hook] : [...[options.onResponse].flat(), hook]
    })
    // Requests that matched no route (404): one label, never the client's URL.
    const unmatched = routeSeries('unmatched')
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) unmatched(request, reply).observe(reply.elapsedTime / 1000)
      done()
    })
  }

  journalCommit (seconds: number): void {
    this.commitSeconds.observe(seconds)
  }

  private async journalBytes (): Promise<number> {
    const journal = this.service.journal
    const current = journal.end
    this.segmentBytes.retain(journal.segments)
    let bytes = current.offset
    for (const name of journal.segments) {
      // A segment deleted between the listing and here (retention) simply counts no more.
      if (name !== current.segment) bytes += await this.segmentBytes.of(name, true).catch(() => 0)
    }
    return bytes
  }
}
