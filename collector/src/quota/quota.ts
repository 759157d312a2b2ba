// Quotas per app (APP_QUOTAS): whether a request's events may be stored, and what was refused.
//
//   route: accepted events ─► AppTally ─► admit() ─► all apps within quota ─► journal (refund() if it fails)
//                                            └──► one app over ─► QuotaRefusal: 429, Retry-After, nothing stored
//
// Per process: with WORKER_COUNT > 1 each worker keeps its own buckets, so an app may get up to
// WORKER_COUNT times its quota across the service (connections are spread over workers by the OS).
// Refusals are counted by app for /status and /metrics under a bounded set of names: the apps APP_QUOTAS
// names, and `other` for the rest (so a client cannot grow a label per app_name it invents).
import type { AppTally } from './app-tally'
import { QuotaBuckets, type AppDemand } from './buckets'
import { DEFAULT_APP, quotaOf, type AppQuotaRules } from './rules'

/** Apps with a bucket at most (quiet apps are forgotten long before; see buckets.ts). */
export const MAX_TRACKED_APPS = 10_000
/** The label of refusals of apps APP_QUOTAS does not name. */
export const OTHER_APPS = 'other'

/** A request refused: the first app over its quota, its quota, and whole seconds until it would fit. */
export interface QuotaRefusal {
  app: string
  quota: number
  /** Apps over their quota besides `app`. */
  others: number
  retryAfterSeconds: number
}

export interface QuotasStatus {
  /** Events per minute: `*` for the apps not named, then each app named (0: no quota). */
  per_minute: Record<string, number>
  /** Apps with a bucket in this process now. */
  apps_tracked: number
  /** Requests refused, by app (the apps named, and `other`). */
  refused_requests: Record<string, number>
  /** Events of those requests, by app (an app over its quota takes its batch's other apps' events down too). */
  refused_events: Record<string, number>
}

export class AppQuota {
  readonly #buckets: QuotaBuckets
  readonly #requests = new Map<string, number>()
  readonly #events = new Map<string, number>()

  constructor (readonly rules: AppQuotaRules, now: () => number = Date.now, maxApps = MAX_TRACKED_APPS) {
    this.#buckets = new QuotaBuckets(now, maxApps)
  }

  /**
   * Takes the request's events from their apps' quotas, all or none. Answers what was taken (to refund if
   * the events are not stored after all), or the refusal.
   */
  admit (tally: AppTally): { taken: AppDemand[] } | { refused: QuotaRefusal } {
    const demands: AppDemand[] = []
    let total = 0
    for (const [app, events] of tally.entries()) {
      total += events
      const quota = quotaOf(this.rules, app)
      if (quota > 0) demands.push({ app, events, quota })
    }
    const over = demands.length === 0 ? undefined : this.#buckets.admit(demands)
    if (over === undefined) return { taken: demands }
    for (const d of over.over) {
      const label = this.label(d.app)
      this.#requests.set(label, (this.#requests.get(label) ?? 0) + 1)
    }
    // The request's events are counted once, under the first app over its quota.
    const first = over.over[0]!
    const label = this.label(first.app)
    this.#events.set(label, (this.#events.get(label) ?? 0) + total)
    return { refused: { app: first.app, quota: first.quota, others: over.over.length - 1, retryAfterSeconds: Math.max(1, Math.ceil(over.waitMs / 1000)) } }
  }

  refund (taken: readonly AppDemand[]): void {
    if (taken.length > 0) this.#buckets.refund(taken)
  }

  /** The name refusals of `app` are counted under. */
  label (app: string): string {
    return this.rules.apps.has(app) ? app : OTHER_APPS
  }

  /** Requests refused by label, for /metrics. */
  get refusals (): ReadonlyMap<string, number> { return this.#requests }

  status (): QuotasStatus {
    return {
      per_minute: Object.fromEntries([[DEFAULT_APP, this.rules.perMinute], ...this.rules.apps]),
      apps_tracked: this.#buckets.size,
      refused_requests: Object.fromEntries(this.#requests),
      refused_events: Object.fromEntries(this.#events)
    }
  }
}
