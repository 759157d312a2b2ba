// `count` alerts: how many matches in the trailing window, every min(window/10, 15 s), by one evaluator at a
// time (the lease holder with MongoDB; one process in embedded mode, see evaluatesCounts):
//
//   tick ─► lease? ─► each enabled count alert that is due:
//             store.countState ─► countMatches(window) ─► decide ─► notification? ─► outbox.add ─► store.setCountState
//                                                                     └► samples, alertLink
//
// The outbox has the notification before the state says it was made: a crash between the two re-evaluates
// from the old state and rebuilds the same id (the id comes from the alert, its revision, the new state and
// the stored moment it continues from — not from the clock), which the outbox, and webhook receivers by
// Idempotency-Key, take once.
//
// What a count sees is what GET /logs sees (alerts/count-source.ts). With several collectors on one MongoDB,
// the lease holder sees the others' events once they are flushed to MongoDB: each collector's journal part not
// yet drained (up to FLUSH_INTERVAL, longer while its drain is behind) is invisible here. So `above` may fire
// up to a flush interval late, and `below` alerts should have windows much longer than FLUSH_INTERVAL. With
// WORKER_COUNT > 1 every worker's read side lists all workers' journals, so one evaluator sees them all.
// An event being flushed during a count may be counted twice (read/aggregate.ts), never zero times.
//
// Incomplete counts (a source did not answer) are lower bounds: `above` may still fire on one, but nothing
// resolves on one, and `below` neither fires nor resolves — an outage must not page for every quiet app.
import { createHash } from 'node:crypto'
import type { Collection } from 'mongodb'
import { Lease, type LeaseDocument } from '../retention/lease'
import type { CountMatches, SampleMatches } from './count-source'
import type { AlertDefinition, CountState, DefinitionStore, Notification, Outbox } from './model'
import { alertLink } from './model'

type CountCondition = Extract<AlertDefinition['condition'], { type: 'count' }>

/** The part of retention/lease.ts's Lease the evaluator uses. */
export interface CountLease {
  acquire: () => Promise<boolean>
  readonly held: boolean
  release: () => Promise<void>
}

export interface CountEvaluatorOptions {
  count: CountMatches
  samples: SampleMatches
  outbox: Pick<Outbox, 'add'>
  store: Pick<DefinitionStore, 'countState' | 'setCountState'>
  /** With MongoDB: only the holder evaluates (countLease). Without: the caller runs one evaluator (evaluatesCounts). */
  lease?: CountLease
  /** PUBLIC_URL: the base of notification links. */
  publicUrl: string
  now?: () => number
  /** Evaluates every alert this often instead of min(window/10, 15 s) (tests). */
  intervalMs?: number
  /** An evaluation that failed (the alert is tried again when next due). */
  onError?: (err: Error, alertId: string | undefined) => void
}

export interface CountStats {
  alerts: number
  firing: number
  evaluations: number
  /** Evaluations whose count was incomplete. */
  incomplete: number
  notifications: number
  errors: number
  /** Whether the last tick held the lease (always true without one). */
  leader: boolean
  /** How long the last tick took. */
  lastTickMs: number
}

const MAX_INTERVAL_MS = 15_000
const MIN_INTERVAL_MS = 1000
/** How long a lease holding lasts without renewal; each tick renews it (at most every 15 s). */
export const COUNT_LEASE_TTL_MS = 60_000

/** How often an alert with this window is evaluated: a tenth of the window, 1 s to 15 s. */
export function countInterval (windowMs: number): number {
  return Math.max(MIN_INTERVAL_MS, Math.min(Math.floor(windowMs / 10), MAX_INTERVAL_MS))
}

/** Whether this process runs count alerts: with MongoDB every process may (the lease picks one); in embedded mode the single process, or worker 1. */
export function evaluatesCounts (workerId: number | undefined, mongo: boolean): boolean {
  return mongo || workerId === undefined || workerId === 1
}

/** The lease count alerts run under, one per logs collection: `alerts:<db>.<collection>` in maap_locks. */
export function countLease (locks: Collection<LeaseDocument>, dbName: string, collectionName: string, opts: { owner?: string, now?: () => number } = {}): Lease {
  return new Lease(locks, `alerts:${dbName}.${collectionName}`, { ttlMs: COUNT_LEASE_TTL_MS, ...opts })
}

/** A window as the API shows it: the largest unit that divides it (1h, 5m, 30s, 1500ms). */
export function durationText (ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** The condition as the API shows it. */
export function conditionJson (c: CountCondition): Record<string, unknown> {
  return 'above' in c ? { type: 'count', above: c.above, window: durationText(c.window_ms) } : { type: 'count', below: c.below, window: durationText(c.window_ms) }
}

/** The alert's query narrowed to what it counts on received_at, exactly as alertLink narrows the link's. */
function countedQuery (query: string, received: { from: string, to: string }): string {
  return `${query.trim() === '' ? '' : `(${query}) and `}received_at >= ${received.from} and received_at <= ${received.to}`
}

export function notificationId (alertId: string, revision: number, state: 'firing' | 'resolved', continuesFrom: string): string {
  return createHash('sha256').update(JSON.stringify(['count', alertId, revision, state, continuesFrom])).digest('hex').slice(0, 32)
}

function isCount (def: AlertDefinition): def is AlertDefinition & { condition: CountCondition } {
  return def.enabled && def.condition.type === 'count'
}

export class CountEvaluator {
  private alerts: Array<AlertDefinition & { condition: CountCondition }> = []
  /** When each alert (by id and revision) is next due. */
  private readonly due = new Map<string, number>()
  private readonly states = new Map<string, 'ok' | 'firing'>()
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private readonly counters: Omit<CountStats, 'alerts' | 'firing'> = { evaluations: 0, incomplete: 0, notifications: 0, errors: 0, leader: false, lastTickMs: 0 }

  constructor (private readonly opts: CountEvaluatorOptions) {
    this.now = opts.now ?? Date.now
  }

  /** The definitions as they are now; only enabled count alerts are kept. A new alert or revision is due at once. */
  setAlerts (defs: readonly AlertDefinition[]): void {
    this.alerts = defs.filter(isCount)
    const keys = new Set(this.alerts.map(keyOf))
    for (const key of this.due.keys()) if (!keys.has(key)) this.due.delete(key)
    const ids = new Set(this.alerts.map(a => a.id))
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id)
    // Due at once: the timer waiting may have been set with no count alert (15 s) or a longer window.
    // (While a tick runs there is no timer: it schedules the next with these alerts when it ends.)
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.schedule(0)
    }
  }

  start (): void {
    if (this.timer !== undefined || this.stopped) return
    this.schedule()
  }

  /** Stops the timer, waits for an evaluation under way, and gives the lease up. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
    await this.opts.lease?.release().catch(() => {})
  }

  stats (): CountStats {
    let firing = 0
    for (const s of this.states.values()) if (s === 'firing') firing++
    return { alerts: this.alerts.length, firing, ...this.counters }
  }

  private schedule (delayMs?: number): void {
    const every = delayMs ?? this.opts.intervalMs ?? Math.min(MAX_INTERVAL_MS, ...this.alerts.map(a => countInterval(a.condition.window_ms)))
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.tick().finally(() => { if (!this.stopped) this.schedule() })
    }, every)
    this.timer.unref()
  }

  /** Evaluates every alert that is due (the timer calls it; tests call it after moving their clock). */
  async tick (): Promise<void> {
    if (this.running !== undefined) return await this.running
    this.running = this.evaluateDue().finally(() => { this.running = undefined })
    return await this.running
  }

  private async evaluateDue (): Promise<void> {
    const started = this.now()
    try {
      if (this.opts.lease !== undefined) {
        let held = false
        try {
          held = await this.opts.lease.acquire()
        } catch (err) {
          this.failed(err, undefined)
        }
        this.counters.leader = held
        if (!held) {
          // Another process evaluates: what this one knew of the states is no longer news.
          this.states.clear()
          return
        }
      } else {
        this.counters.leader = true
      }
      for (const def of this.alerts) {
        if (this.stopped) return
        const now = this.now()
        const key = keyOf(def)
        if ((this.due.get(key) ?? 0) > now) continue
        this.due.set(key, now + (this.opts.intervalMs ?? countInterval(def.condition.window_ms)))
        try {
          await this.evaluate(def, now)
        } catch (err) {
          this.failed(err, def.id)
        }
      }
    } finally {
      this.counters.lastTickMs = this.now() - started
    }
  }

  private failed (err: unknown, alertId: string | undefined): void {
    this.counters.errors++
    this.opts.onError?.(err instanceof Error ? err : new Error(String(err)), alertId)
  }

  /** One evaluation of one alert at `now`: a notification when it starts firing, repeats, or resolves. */
  async evaluate (def: AlertDefinition & { condition: CountCondition }, now: number): Promise<Notification | undefined> {
    const c = def.condition
    const stored = await this.opts.store.countState(def.id)
    // A new revision starts fresh: what the previous one counted or notified is not its business.
    const state: CountState = stored !== undefined && stored.revision === def.revision
      ? stored
      : { alert_id: def.id, revision: def.revision, state: 'ok', since: def.active_since, last_notified_at: null }
    const activeMs = Date.parse(def.active_since)
    const to = now
    const from = Math.min(to, Math.max(to - c.window_ms, activeMs))
    const received = { from: def.active_since, to: new Date(now).toISOString() }
    const query = countedQuery(def.query, received)
    const { count, complete } = await this.opts.count(query, new Date(from), new Date(to))
    this.counters.evaluations++
    if (!complete) this.counters.incomplete++

    let breached: boolean
    let holds: boolean
    if ('above' in c) {
      breached = count > c.above
      holds = breached || !complete
    } else {
      // Not before a whole window of this revision has passed: a new alert has not seen a window yet.
      breached = complete && count < c.below && now - activeMs >= c.window_ms
      holds = !complete || count < c.below
    }
    const firing = state.state === 'firing'
    let next: 'firing' | 'resolved' | undefined
    if (!firing && breached) next = 'firing'
    else if (firing && !holds) next = 'resolved'
    else if (firing && breached && def.repeat_after_ms !== null && now - Date.parse(state.last_notified_at ?? state.since) >= def.repeat_after_ms) next = 'firing'
    this.states.set(def.id, firing ? 'firing' : 'ok')
    if (next === undefined) return undefined

    const nowIso = new Date(now).toISOString()
    const window = { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
    const events = def.sample > 0 ? await this.opts.samples(query, new Date(from), new Date(to), def.sample) : []
    const n: Notification = {
      id: notificationId(def.id, def.revision, next, state.last_notified_at ?? state.since),
      alert_id: def.id,
      alert_name: def.name,
      revision: def.revision,
      state: next,
      condition: conditionJson(c),
      count,
      events,
      link: alertLink(this.opts.publicUrl, def.query, received, { from: window.from, to: new Date(Math.max(from, to - 1)).toISOString() }),
      range: window,
      created_at: nowIso,
      channels: def.channels.map(ch => ({ ...ch })),
      deliveries: def.channels.map((ch, i) => ({ channel: i, type: ch.type, status: 'pending', attempts: 0, last_error: null, delivered_at: null }))
    }
    // The lease may have run out while counting: another process may be evaluating by now.
    if (this.opts.lease !== undefined && !this.opts.lease.held) return undefined
    await this.opts.outbox.add(n)
    this.counters.notifications++
    const transition = next === 'firing' ? !firing : true
    await this.opts.store.setCountState({
      alert_id: def.id,
      revision: def.revision,
      state: next === 'firing' ? 'firing' : 'ok',
      since: transition ? nowIso : state.since,
      last_notified_at: nowIso
    })
    this.states.set(def.id, next === 'firing' ? 'firing' : 'ok')
    return n
  }
}

function keyOf (def: AlertDefinition): string {
  return `${def.id}#${def.revision}`
}
