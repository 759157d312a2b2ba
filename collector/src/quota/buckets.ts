// A token bucket per app_name: `quota` events a minute, refilled continuously, full when an app is new.
//
//   request's events by app ─► refill each app's bucket to now ─► all fit? ─yes─► take them (admitted)
//                                                                  │ no
//                                                                  └─► take nothing; wait = when the
//                                                                      slowest app's bucket holds enough
//
// O(1) per app per batch; no timers: a bucket is brought up to date when its app next sends. A full
// bucket is the same as no bucket, so an app that has been quiet for a minute is forgotten without
// changing any answer; the buckets live in a Map kept in least-recently-used order (delete + set), and
// each admission forgets up to two quiet apps from the old end. Past `maxApps` the app seen least
// recently is forgotten even if its bucket is not full: that app starts afresh when it returns (memory
// stays bounded; an app name costs about 100 bytes).
//
// A batch larger than an app's whole quota would never fit: it is admitted when the bucket is full and
// leaves it in debt, so the app's next events wait until its average is back under the quota.

const MINUTE_MS = 60_000

interface Bucket {
  tokens: number
  /** When `tokens` was last brought up to date (ms, from the clock). */
  at: number
  /** Events per minute. */
  quota: number
}

/** One app's events in a request, and its quota (> 0). */
export interface AppDemand {
  app: string
  events: number
  quota: number
}

export class QuotaBuckets {
  readonly #buckets = new Map<string, Bucket>()

  constructor (private readonly now: () => number, private readonly maxApps: number) {}

  /** Apps with a bucket now (quiet ones are forgotten as admissions go by). */
  get size (): number { return this.#buckets.size }

  /**
   * Takes every demand's events, or none: undefined when admitted, else the milliseconds until all of them
   * would fit and the demands that do not fit now.
   */
  admit (demands: readonly AppDemand[]): { waitMs: number, over: AppDemand[] } | undefined {
    const now = this.now()
    let waitMs = 0
    let over: AppDemand[] | undefined
    for (const d of demands) {
      const tokens = this.#tokens(d.app, d.quota, now)
      const needed = Math.min(d.events, d.quota)
      if (tokens >= needed) continue
      waitMs = Math.max(waitMs, (needed - tokens) * MINUTE_MS / d.quota)
      ;(over ??= []).push(d)
    }
    if (over !== undefined) return { waitMs, over }
    for (const d of demands) this.#take(d, now, d.events)
    this.#forgetQuiet(now)
    return undefined
  }

  /** Gives back what admit() took for events that were not stored after all (the journal refused them). */
  refund (demands: readonly AppDemand[]): void {
    const now = this.now()
    for (const d of demands) this.#take(d, now, -d.events)
  }

  #tokens (app: string, quota: number, now: number): number {
    const b = this.#buckets.get(app)
    if (b === undefined) return quota
    return Math.min(quota, b.tokens + Math.max(0, now - b.at) * quota / MINUTE_MS)
  }

  #take (d: AppDemand, now: number, events: number): void {
    const tokens = Math.min(d.quota, this.#tokens(d.app, d.quota, now) - events)
    // Delete and set: the Map's order is least recently used first.
    this.#buckets.delete(d.app)
    this.#buckets.set(d.app, { tokens, at: now, quota: d.quota })
    if (this.#buckets.size > this.maxApps) this.#buckets.delete(this.#buckets.keys().next().value!)
  }

  /** Forgets up to two apps from the least recent end whose buckets have refilled. */
  #forgetQuiet (now: number): void {
    let checked = 0
    for (const [app, b] of this.#buckets) {
      if (checked++ === 2) return
      if (this.#tokens(app, b.quota, now) < b.quota) return
      this.#buckets.delete(app)
    }
  }
}
