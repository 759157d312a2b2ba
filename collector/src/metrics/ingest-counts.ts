// What the ingest routes count per request, as plain numbers: the hot path only adds to fields of an
// object made once per route at start-up, and metrics.ts turns the totals into Prometheus counters when
// a scrape asks (so a request costs no label hashing and no allocation for these).

/**
 * Why events of a request were not accepted: a small fixed set, never the client's own text. A request
 * refused as a whole for its body (all but the first, the two journal reasons and the quota) counts as
 * one event: its events were never read. A request refused for an app's quota counts every event it held.
 * The last three are browser-key requests refused whole (routes/refusals.ts): one event each.
 */
export const REJECT_REASONS = ['invalid_event', 'invalid_json', 'invalid_otlp', 'invalid_mapping', 'body_too_large',
  'bad_encoding', 'unsupported_media_type', 'incomplete_body', 'journal_unavailable', 'journal_busy', 'quota_exceeded',
  'origin_refused', 'browser_key_app', 'browser_rate_limited'] as const
export type RejectReason = typeof REJECT_REASONS[number]

export class RouteCounts {
  #received = 0
  #accepted = 0
  #bytes = 0
  readonly #rejected = Object.fromEntries(REJECT_REASONS.map(r => [r, 0])) as Record<RejectReason, number>

  /** `onRejected` hears every rejection too (the service's total in /status). */
  constructor (private readonly onRejected: (events: number) => void) {}

  /** Events found in request bodies (accepted or not). */
  get received (): number { return this.#received }
  get accepted (): number { return this.#accepted }
  /** Request body bytes as sent (Content-Length, before decompression). */
  get bytes (): number { return this.#bytes }
  get rejected (): Readonly<Record<RejectReason, number>> { return this.#rejected }

  countReceived (events: number): void {
    this.#received += events
  }

  countAccepted (events: number): void {
    this.#accepted += events
  }

  countRejected (reason: RejectReason, events: number): void {
    this.#rejected[reason] += events
    this.onRejected(events)
  }

  /** Adds a request's Content-Length (absent with chunked encoding: not counted). */
  countBody (contentLength: string | undefined): void {
    if (contentLength !== undefined) this.#bytes += Number(contentLength) || 0
  }
}

/** The counts of every ingest route, by route path. */
export class IngestCounts {
  readonly routes = new Map<string, RouteCounts>()

  /** `onRejected` hears every route's rejections (so /status and /metrics cannot disagree). */
  constructor (private readonly onRejected: (events: number) => void = () => {}) {}

  route (path: string): RouteCounts {
    let counts = this.routes.get(path)
    if (counts === undefined) {
      counts = new RouteCounts(this.onRejected)
      this.routes.set(path, counts)
    }
    return counts
  }
}
