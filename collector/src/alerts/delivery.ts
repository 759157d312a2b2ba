// Delivery of the outbox's notifications, per lane in order, and their history (issue #21, section 3):
//
//   outbox.onAdded ─┐                      ┌─► send (≤ concurrency at once) ─► SendResult ─┐
//   retry timer ────┼─► walk outbox.open() ┤                                              ├─► outbox.update
//   send settled ───┘   (oldest first)     └─► record / time out (inline) ────────────────┘   + store history
//
// A lane is one alert's one channel. Its oldest open delivery is its head: only the head is sent, and while
// it waits for a retry the lane's later notifications wait behind it, so a receiver that was down for an hour
// gets everything in order when it returns; other lanes go on. Nothing of the backlog is held in memory: each
// wake walks open() again from disk, keeping one entry per lane (the lanes seen, the heads' retry times) and
// the few notifications being sent or written.
//
// The history (DefinitionStore) is a mirror: a store that is down never holds delivery back. An entry keeps
// `recorded: false` until the store takes its latest deliveries, and a later walk records it again.
import type { Channel, ChannelContext, DefinitionStore, Delivery, Notification, Outbox, SendResult, SendToChannel } from './model'
import { clipBytes } from './channels/render'

/** Time as the deliverer sees it (the shipper's Clock shape): a test moves it by hand, no real waiting. */
export interface DelivererClock {
  now: () => number
  /** Runs `fn` after `ms`; returns what cancels it. `ref` false: the timer never keeps the process alive. */
  timer: (fn: () => void, ms: number, ref: boolean) => () => void
}

const systemClock: DelivererClock = {
  now: () => Date.now(),
  timer: (fn, ms, ref) => {
    const t = setTimeout(fn, ms)
    if (!ref) t.unref()
    return () => clearTimeout(t)
  }
}

export interface DelivererOptions {
  outbox: Outbox
  send: SendToChannel
  store: DefinitionStore
  ctx: ChannelContext
  /** ALERT_DELIVERY_TIMEOUT in ms: a delivery not done this long after its notification was made is failed. */
  timeoutMs: number
  /** Sends in flight at most, over all lanes. Default 4. */
  concurrency?: number
  /** First retry pause (full jitter: a random pause up to it), doubling per attempt. Default 1 s. */
  backoffBaseMs?: number
  /** Longest retry pause. Default 5 min. */
  backoffCapMs?: number
  /** A receiver's Retry-After is honoured up to this. Default 1 h. */
  retryAfterCapMs?: number
  /** How long one write to the history may take before it counts as failed (retried later). Default 10 s. */
  recordTimeoutMs?: number
  /** How long stop() waits for sends in flight. Default the send timeout + 1 s. */
  stopTimeoutMs?: number
  clock?: DelivererClock
  random?: () => number
  /** Errors of the outbox or the store, for the collector's log (never holding a secret: no URL is in them). */
  onError?: (err: Error) => void
}

export interface DelivererStats {
  /** Attempts and time-outs by `${channel type}:${result}`, result `delivered` | `retrying` | `failed`. */
  sends: Record<string, number>
  inFlight: number
  /** From the outbox: deliveries not yet final, and failed ones it holds. */
  pending: number
  failed: number
}

/** A notification being sent or written: the latest deliveries, ahead of what the outbox file says. */
interface Working {
  n: Notification
  recorded: boolean
  refs: number
  /** The writes of this notification, one after another, so the last one written is the latest. */
  chain: Promise<unknown>
}

const FINAL = new Set(['delivered', 'failed'])

export class Deliverer {
  readonly #o: Required<Omit<DelivererOptions, 'onError'>> & Pick<DelivererOptions, 'onError'>
  readonly #working = new Map<string, Working>()
  /** Notifications whose last write ended during the walk in progress: that walk may have read them stale. */
  readonly #retired = new Map<string, Working>()
  readonly #inFlight = new Set<string>()
  readonly #sends = new Set<Promise<void>>()
  /** When each lane head that failed may be tried again. One entry per lane at most. */
  readonly #retryAt = new Map<string, number>()
  /** When this process first found each open notification: its deadline is never before that plus the timeout. */
  readonly #firstSeen = new Map<string, number>()
  readonly #counts: Record<string, number> = {}
  #storeFailures = 0
  #storeRetryAt = 0
  #walking: Promise<void> | null = null
  #again = false
  #started = false
  #stopping = false
  #cancelTimer: (() => void) | null = null
  #timerAt = Infinity

  constructor (options: DelivererOptions) {
    this.#o = {
      concurrency: 4,
      backoffBaseMs: 1000,
      backoffCapMs: 300_000,
      retryAfterCapMs: 3_600_000,
      recordTimeoutMs: 10_000,
      stopTimeoutMs: options.ctx.timeoutMs + 1000,
      clock: systemClock,
      random: Math.random,
      ...options
    }
  }

  start (): void {
    if (this.#started) return
    this.#started = true
    this.#o.outbox.onAdded(() => { this.#wake() })
    this.#wake()
  }

  /** Stops starting sends and waits (at most stopTimeoutMs) for those in flight and their writes. */
  async stop (): Promise<void> {
    this.#stopping = true
    this.#cancelTimer?.()
    this.#cancelTimer = null
    const settled = Promise.allSettled([...this.#sends, this.#walking])
    // Real time, not the clock: this bounds I/O that is under way.
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>(resolve => { timer = setTimeout(resolve, this.#o.stopTimeoutMs) })
    await Promise.race([settled, bound])
    clearTimeout(timer)
  }

  stats (): DelivererStats {
    const s = this.#o.outbox.stats()
    return { sends: { ...this.#counts }, inFlight: this.#inFlight.size, pending: s.pending, failed: s.failed }
  }

  #wake (): void {
    if (this.#stopping || !this.#started) return
    if (this.#walking !== null) {
      this.#again = true
      return
    }
    this.#walking = this.#run()
  }

  async #run (): Promise<void> {
    do {
      this.#again = false
      try {
        await this.#walk()
      } catch (err) {
        // The outbox could not be read: try again after a pause rather than spin.
        this.#report(err)
        this.#schedule(this.#o.clock.now() + this.#o.backoffBaseMs)
      }
      this.#retired.clear()
    } while (this.#again && !this.#stopping)
    this.#walking = null
  }

  async #walk (): Promise<void> {
    const now = this.#o.clock.now()
    const lanes = new Set<string>()
    let next = Infinity
    let recordable = now >= this.#storeRetryAt
    // Alerts whose every lane is taken in this walk: their later notifications wait, unread (a backlog of
    // one lane costs one read per walk, not one per notification).
    const full = new Set<string>()
    for await (const entry of this.#o.outbox.open(alertId => full.has(alertId))) {
      if (this.#stopping) break
      const id = entry.notification.id
      const known = this.#working.get(id) ?? this.#retired.get(id)
      const n = known?.n ?? entry.notification
      const recorded = known?.recorded ?? entry.recorded
      if (!recorded && known === undefined) {
        if (recordable) recordable = await this.#change(n, recorded, () => {})
        else next = Math.min(next, this.#storeRetryAt)
      }
      const deadline = this.#deadline(n)
      for (const d of n.deliveries) {
        if (FINAL.has(d.status)) continue
        const lane = `${n.alert_id}\0${d.channel}`
        if (lanes.has(lane)) continue
        const key = `${id}\0${d.channel}`
        if (this.#inFlight.has(key)) {
          lanes.add(lane)
          continue
        }
        // Tried at least once: a notification made after its deadline (a collector down longer than
        // ALERT_DELIVERY_TIMEOUT, or a timeout shorter than the group window) still gets its one attempt.
        if (now >= deadline && d.attempts > 0) {
          // Timed out while waiting: failed with the last error it had; the lane's next one is its head now.
          this.#retryAt.delete(key)
          this.#count(d.type, 'failed')
          await this.#change(n, recorded, w => {
            const cur = w.n.deliveries.find(x => x.channel === d.channel)!
            cur.status = 'failed'
            cur.last_error = clipBytes(cur.last_error ?? `not delivered within ALERT_DELIVERY_TIMEOUT (${this.#o.timeoutMs} ms)`)
          })
          continue
        }
        lanes.add(lane)
        const due = Math.min(this.#retryAt.get(key) ?? 0, deadline)
        if (due > now) {
          next = Math.min(next, due)
          continue
        }
        // At capacity: a send that settles wakes a new walk, which starts this one.
        if (this.#inFlight.size < this.#o.concurrency) this.#startSend(n, recorded, d)
      }
      if (n.deliveries.every(d => lanes.has(`${n.alert_id}\0${d.channel}`))) full.add(n.alert_id)
    }
    if (Number.isFinite(next)) this.#schedule(next)
  }

  /**
   * ALERT_DELIVERY_TIMEOUT after the notification was made — or after this process first found it, if that
   * is later (a collector down longer than the timeout, or a notification made late): every notification
   * gets the whole timeout of retries.
   */
  #deadline (n: Notification): number {
    let seen = this.#firstSeen.get(n.id)
    if (seen === undefined) this.#firstSeen.set(n.id, seen = this.#o.clock.now())
    const made = Date.parse(n.created_at)
    return Math.max(Number.isFinite(made) ? made : seen, seen) + this.#o.timeoutMs
  }

  /** One timer, for the earliest thing due. */
  #schedule (at: number): void {
    if (this.#stopping || (this.#cancelTimer !== null && this.#timerAt <= at)) return
    this.#cancelTimer?.()
    this.#timerAt = at
    this.#cancelTimer = this.#o.clock.timer(() => {
      this.#cancelTimer = null
      this.#timerAt = Infinity
      this.#wake()
    }, Math.max(0, at - this.#o.clock.now()), false)
  }

  #acquire (n: Notification, recorded: boolean): Working {
    let w = this.#working.get(n.id)
    if (w === undefined) {
      // A notification whose last write ended during this walk: its latest deliveries, not the walk's
      // older copy `n` (a second change of the same entry in one walk, e.g. two channels timed out, must
      // not undo the first).
      w = this.#retired.get(n.id)
      if (w !== undefined) this.#retired.delete(n.id)
      // A copy: the outbox's entry may be its own object, changed only through update().
      else w = { n: { ...n, deliveries: n.deliveries.map(d => ({ ...d })) }, recorded, refs: 0, chain: Promise.resolve() }
      this.#working.set(n.id, w)
    }
    w.refs++
    return w
  }

  #release (w: Working): void {
    if (--w.refs > 0) return
    this.#working.delete(w.n.id)
    if (this.#walking !== null) this.#retired.set(w.n.id, w)
  }

  /** Applies `mutate` to the notification's latest deliveries and writes them (history, then outbox); resolves with whether the history took them. */
  async #change (n: Notification, recorded: boolean, mutate: (w: Working) => void): Promise<boolean> {
    const w = this.#acquire(n, recorded)
    try {
      mutate(w)
      if (w.n.deliveries.every(d => FINAL.has(d.status))) this.#firstSeen.delete(w.n.id)
      const written = w.chain.then(async () => await this.#persist(w))
      w.chain = written
      return await written
    } finally {
      this.#release(w)
    }
  }

  async #persist (w: Working): Promise<boolean> {
    const deliveries: Delivery[] = w.n.deliveries.map(d => ({ ...d }))
    let recorded = false
    if (this.#o.clock.now() >= this.#storeRetryAt) {
      try {
        await this.#bounded(async () => {
          await this.#o.store.recordNotification({ ...w.n, deliveries })
          await this.#o.store.recordDeliveries(w.n.id, deliveries)
        })
        recorded = true
        this.#storeFailures = 0
      } catch (err) {
        this.#report(err)
        this.#storeFailures++
        this.#storeRetryAt = this.#o.clock.now() + this.#backoff(this.#storeFailures)
        this.#schedule(this.#storeRetryAt)
      }
    }
    try {
      await this.#o.outbox.update(w.n.id, deliveries, recorded)
    } catch (err) {
      // Not written: the outbox keeps the older state and a later walk sends or records it again (at least once).
      this.#report(err)
    }
    w.recorded = recorded
    return recorded
  }

  async #bounded (fn: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const limit = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the history did not answer within ${this.#o.recordTimeoutMs} ms`)), this.#o.recordTimeoutMs)
      timer.unref()
    })
    try {
      await Promise.race([fn(), limit])
    } finally {
      clearTimeout(timer)
    }
  }

  #startSend (n: Notification, recorded: boolean, d: Delivery): void {
    const key = `${n.id}\0${d.channel}`
    this.#inFlight.add(key)
    const w = this.#acquire(n, recorded)
    const p = this.#sendOne(w, d.channel, key).catch(err => { this.#report(err) }).finally(() => {
      this.#inFlight.delete(key)
      this.#sends.delete(p)
      this.#release(w)
      this.#wake()
    })
    this.#sends.add(p)
  }

  async #sendOne (w: Working, channel: number, key: string): Promise<void> {
    const target: Channel | undefined = w.n.channels[channel]
    let result: SendResult
    if (target === undefined) {
      result = { ok: false, permanent: true, error: `the notification has no channel ${channel}` }
    } else {
      try {
        result = await this.#o.send(target, w.n, this.#o.ctx)
      } catch (err) {
        result = { ok: false, error: err instanceof Error ? err.message : String(err) }
      }
    }
    const now = this.#o.clock.now()
    const deadline = this.#deadline(w.n)
    await this.#change(w.n, w.recorded, () => {
      const d = w.n.deliveries.find(x => x.channel === channel)!
      d.attempts++
      if (result.ok) {
        d.status = 'delivered'
        d.delivered_at = new Date(now).toISOString()
        d.last_error = null
        this.#retryAt.delete(key)
      } else {
        d.last_error = clipBytes(result.error ?? (result.status === undefined ? 'failed' : `status ${result.status}`))
        if (result.permanent === true || now >= deadline) {
          d.status = 'failed'
          this.#retryAt.delete(key)
        } else {
          d.status = 'retrying'
          this.#retryAt.set(key, now + this.#retryDelay(d.attempts, result.retryAfterMs))
        }
      }
      this.#count(d.type, d.status)
    })
  }

  /** Full jitter (a random pause up to the doubled ceiling); a Retry-After is a floor, capped so a receiver cannot park a lane for days. */
  #retryDelay (attempts: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.max(Math.min(retryAfterMs, this.#o.retryAfterCapMs), this.#o.backoffBaseMs)
    return Math.round(this.#o.random() * this.#backoff(attempts))
  }

  #backoff (attempts: number): number {
    return Math.min(this.#o.backoffCapMs, this.#o.backoffBaseMs * 2 ** Math.min(attempts - 1, 30))
  }

  #count (type: string, result: string): void {
    const k = `${type}:${result}`
    this.#counts[k] = (this.#counts[k] ?? 0) + 1
  }

  #report (err: unknown): void {
    this.#o.onError?.(err instanceof Error ? err : new Error(String(err)))
  }
}
