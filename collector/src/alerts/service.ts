// Saved searches and alerts, put together for one collector process (service.ts starts and stops it):
//
//   DefinitionStore (MongoDB, or LOG_DIR/definitions shared by workers) ──onChange──► reload()
//        ├─► EachEvaluator over this process's own journal ──┐
//        └─► CountEvaluator over what GET /logs sees ─────────┴─► FileOutbox (this journal's LOG_DIR, synced)
//                 (the lease holder; one worker in embedded mode)           │
//                                                                Deliverer ─┴─► webhook / Slack / e-mail
//                                                                     └─► DefinitionStore history
//
// Every process evaluates `each` alerts over its own journal (each event is in exactly one journal, so it is
// notified once) and delivers its own outbox. Definitions are kept in memory between changes, so alerts go
// on while MongoDB is down; what fails then is the history's mirror, which the deliverer catches up later.
import { hostname } from 'node:os'
import type { CollectorConfig } from '../config'
import { serviceLogDir } from '../journal/worker-dirs'
import type { JournalWriter } from '../journal/writer'
import type { ServiceLogger } from '../logger'
import type { Searcher } from '../read/search'
import { LEASE_COLLECTION, type LeaseDocument } from '../retention/lease'
import { closeEmailTransports, sendToChannel, testChannels } from './channels'
import { countLease, CountEvaluator, evaluatesCounts } from './count'
import { countSource } from './count-source'
import { Deliverer } from './delivery'
import { EachEvaluator } from './evaluator'
import { journalId } from './journal-id'
import type { AlertDefinition, ChannelContext, DefinitionStore } from './model'
import { FileOutbox } from './outbox'
import { FileDefinitionStore } from './store-file'
import { MongoDefinitionStore } from './store-mongo'

/**
 * A read of the definitions that failed is tried again after this. The store's poll reloads only when the
 * version moves, so without it a collector started while MongoDB was down (or whose reload met an outage)
 * would keep what it had, none at start, until someone next changed a definition.
 */
const RELOAD_RETRY_MS = 1000

/** What GET /status shows of alerts (this process's part; a cluster sums the workers'). */
export interface AlertsStatus {
  alerts: number
  enabled: number
  firing: number
  outbox: { pending: number, failed: number, notifications: number, bytes: number }
  notifications: number
  /** Journal segments deleted by retention before the alerts had read them to their end (their rest is not notified). */
  skipped_segments: number
  definitions_error: string | null
}

/** The address links start with: PUBLIC_URL, else this host and port (a wildcard HOST becomes the host's name). */
export function linkBase (config: Readonly<CollectorConfig>): string {
  if (config.publicUrl !== undefined) return config.publicUrl
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === ''
  const host = wildcard ? hostname() : config.host
  const scheme = config.tlsCertFile === undefined ? 'http' : 'https'
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.port}`
}

export class AlertService {
  readonly store: DefinitionStore
  private outbox: FileOutbox | undefined
  private each: EachEvaluator | undefined
  private count: CountEvaluator | undefined
  private deliverer: Deliverer | undefined
  private definitions: AlertDefinition[] = []
  private definitionsError: string | undefined
  private reloading: Promise<void> | undefined
  private reloadAgain = false
  private reloadRetry: NodeJS.Timeout | undefined
  private stopped = false
  private readonly ctx: ChannelContext
  private base: string

  constructor (private readonly config: Readonly<CollectorConfig>, private readonly deps: {
    journal: JournalWriter
    searcher: () => Searcher
    workerId: number | undefined
    log: ServiceLogger
  }) {
    this.store = config.mongodbUri === undefined
      ? new FileDefinitionStore(serviceLogDir(config.logDir))
      : MongoDefinitionStore.open(config.mongodbUri, config.mongodbDbName, config.mongodbCollection)
    this.ctx = { smtpUrl: config.smtpUrl, emailFrom: config.alertEmailFrom, timeoutMs: config.alertSendTimeoutSeconds * 1000 }
    this.base = linkBase(config)
  }

  async start (): Promise<void> {
    const { config, deps } = this
    const self = this
    const outbox = this.outbox = await FileOutbox.open(config.logDir)
    this.each = new EachEvaluator({
      journal: deps.journal,
      dir: config.logDir,
      journalKey: deps.workerId === undefined ? '' : String(deps.workerId),
      journalId: await journalId(config.logDir),
      outbox,
      // Read when a notification is made: the port is known only once the collector listens (PORT=0).
      get publicUrl () { return self.base },
      log: deps.log
    })
    const mongo = this.store instanceof MongoDefinitionStore ? this.store : undefined
    if (evaluatesCounts(deps.workerId, mongo !== undefined)) {
      this.count = new CountEvaluator({
        ...countSource(deps.searcher()),
        outbox,
        store: this.store,
        ...(mongo === undefined ? {} : { lease: countLease(mongo.db.collection<LeaseDocument>(LEASE_COLLECTION), config.mongodbDbName, config.mongodbCollection) }),
        get publicUrl () { return self.base },
        onError: (err, alertId) => deps.log.warn({ err: err.message, alert_id: alertId }, 'a count alert could not be evaluated; it is tried again when next due')
      })
    }
    this.deliverer = new Deliverer({
      outbox,
      send: sendToChannel,
      store: this.store,
      ctx: this.ctx,
      timeoutMs: config.alertDeliveryTimeoutSeconds * 1000,
      onError: err => deps.log.warn({ err: err.message }, 'alert outbox or history could not be written; retrying')
    })
    this.store.onChange(() => this.reload())
    await this.reload()
    this.each.start()
    this.count?.start()
    this.deliverer.start()
  }

  /** The collector listens at `port`: links use it when PUBLIC_URL is not set (PORT=0 picks it only now). */
  listening (port: number): void {
    if (this.config.publicUrl === undefined) this.base = linkBase({ ...this.config, port })
  }

  /** Reads the definitions again (a change here, or seen in another process); a store that fails keeps the last ones. */
  reload (): Promise<void> {
    if (this.reloading !== undefined) {
      this.reloadAgain = true
      return this.reloading
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false
        try {
          this.definitions = await this.store.listAlerts()
          this.definitionsError = undefined
        } catch (err) {
          // MongoDB down: the alerts in memory go on, and the read is tried again until it answers.
          if (this.definitionsError === undefined) this.deps.log.warn({ err: (err as Error).message }, 'alert definitions could not be read; the last ones read stay in force')
          this.definitionsError = (err as Error).message
          this.retryReload()
        }
        if (this.stopped) return
        const enabled = this.definitions.filter(d => d.enabled)
        this.each?.setAlerts(enabled.filter(d => d.condition.type === 'each'))
        this.count?.setAlerts(enabled.filter(d => d.condition.type === 'count'))
      } while (this.reloadAgain)
    })().finally(() => { this.reloading = undefined })
    return this.reloading
  }

  private retryReload (): void {
    if (this.reloadRetry !== undefined || this.stopped) return
    this.reloadRetry = setTimeout(() => {
      this.reloadRetry = undefined
      void this.reload()
    }, RELOAD_RETRY_MS).unref()
  }

  /** POST /alerts/:id/test: a test notification to every channel, and what each answered. */
  async test (alert: AlertDefinition): Promise<unknown> {
    return { results: await testChannels(alert, this.ctx, this.base) }
  }

  status (): AlertsStatus {
    const outbox = this.outbox?.stats() ?? { pending: 0, failed: 0, notifications: 0, bytes: 0 }
    const each = this.each?.stats()
    const count = this.count?.stats()
    return {
      alerts: this.definitions.length,
      enabled: this.definitions.filter(d => d.enabled).length,
      firing: (each?.open_groups ?? 0) + (count?.firing ?? 0),
      outbox,
      notifications: (each?.notifications ?? 0) + (count?.notifications ?? 0),
      skipped_segments: each?.skipped_segments ?? 0,
      definitions_error: this.definitionsError ?? null
    }
  }

  /** For /metrics: deliveries by channel type and result, evaluation time. */
  metrics (): { deliveries: Record<string, number>, notifications: number, evaluationSeconds: number, outboxPending: number, outboxBytes: number, firing: number } {
    const s = this.status()
    return {
      deliveries: this.deliverer?.stats().sends ?? {},
      notifications: s.notifications,
      evaluationSeconds: (this.each?.stats().evaluation_ms ?? 0) / 1000,
      outboxPending: s.outbox.pending,
      outboxBytes: s.outbox.bytes,
      firing: s.firing
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.reloadRetry)
    await this.each?.stop()
    await this.count?.stop()
    await this.deliverer?.stop()
    closeEmailTransports()
    await this.store.close().catch(() => {})
    await this.outbox?.close()
  }
}
