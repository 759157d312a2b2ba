// What a flush reports: how many of the records written to this shipper are in the collector. Every
// record written is in exactly one place at any moment, so "pending" is simply what is left:
//
//   write() ─► written ─┬─► delivered   the collector acknowledged it
//                       ├─► rejected    refused for good (4xx, per-record error)     ┐
//                       ├─► dropped     memory bound / close deadline / unmappable   │ undelivered
//                       ├─► on disk     spooled, not replayed yet                    │
//                       └─► pending     in memory: queued, retrying, in flight       ┘
//
// A flush reports a window. It starts where the last report that had ended before this flush began left
// off (so what that report already told is not told again) and ends with the flush: what was written,
// delivered, rejected and dropped in it, and what is pending or on disk at the end — those are still
// not delivered, so every flush reports them again until they are. So `undelivered === 0` means:
// everything logged before the flush ended is in the collector, except losses a flush that had already
// ended when this one began reported. Flushes that overlap (logger.flush(cb) and dest.flush(), a flush
// and close()) each report their own window from their own start: a loss in the overlap is told to
// both callers, never to neither. A spool is not delivery (in a function, /tmp goes with the
// instance). Records replayed from a spool file an earlier run left are not this shipper's records:
// they count in stats().sent only, never in a flush's window.
import type { ShipperStats } from './stats'

/** Why records logged so far are not in the collector (the parts of `undelivered`). */
export interface NotDelivered {
  /** In memory now: queued, retrying or in flight (a flush that timed out leaves them here). */
  pending: number
  /** In the spool directory now, not replayed yet. */
  spooled: number
  /** Refused by the collector for good in this flush's window. */
  rejected: number
  /** Discarded (and counted) in this flush's window. */
  dropped: number
}

/**
 * What `flush()` resolves with: the cumulative counters of `stats()` (unchanged for existing callers),
 * plus the delivery of the records written to this shipper.
 */
export interface FlushResult extends ShipperStats {
  /** Records written in this flush's window (since the last flush that had ended when it began). */
  written: number
  /** Of this shipper's records, those the collector acknowledged in this flush's window. */
  delivered: number
  /** pending + spooled + rejected + dropped: 0 means every record logged so far is in the collector. */
  undelivered: number
  notDelivered: NotDelivered
}

/** Running totals of this shipper's records: where a flush's window starts (Delivery.begin). */
export interface Window { readonly written: number, readonly delivered: number, readonly rejected: number, readonly dropped: number }

export class Delivery {
  readonly #total = { written: 0, delivered: 0, rejected: 0, dropped: 0 }
  #onDisk = 0
  /** The totals as the latest report to end left them: where the next flush's window starts. */
  #reported: Window = { written: 0, delivered: 0, rejected: 0, dropped: 0 }

  written (n: number): void { this.#total.written += n }

  /** The rest of these take `foreign`: records of an earlier run's spool file are not counted. */
  delivered (n: number, foreign: boolean): void { if (!foreign) this.#total.delivered += n }
  rejected (n: number, foreign: boolean): void { if (!foreign) this.#total.rejected += n }
  dropped (n: number, foreign: boolean): void { if (!foreign) this.#total.dropped += n }
  /** Written to the spool, or given back to it: on disk again. */
  toDisk (n: number, foreign: boolean): void { if (!foreign) this.#onDisk += n }
  /** Read back from the spool: in memory again. */
  fromDisk (n: number, foreign: boolean): void { if (!foreign) this.#onDisk -= n }

  /** This shipper's records on disk now (spooled, not read back yet). */
  get onDisk (): number { return this.#onDisk }

  /** Written so far, and settled for good (delivered, rejected or dropped): a worker's host tallies these. */
  totals (): { written: number, settled: number } {
    const t = this.#total
    return { written: t.written, settled: t.delivered + t.rejected + t.dropped }
  }

  /** A flush begins: the start of its window, handed back to report() when it ends. */
  begin (): Window { return this.#reported }

  /** The window from `since` (begin()) to now, on top of `stats`. */
  report (stats: ShipperStats, since: Window): FlushResult {
    const t = this.#total
    this.#reported = { ...t }
    const notDelivered: NotDelivered = {
      pending: t.written - t.delivered - t.rejected - t.dropped - this.#onDisk,
      spooled: this.#onDisk,
      rejected: t.rejected - since.rejected,
      dropped: t.dropped - since.dropped
    }
    return {
      ...stats,
      written: t.written - since.written,
      delivered: t.delivered - since.delivered,
      undelivered: notDelivered.pending + notDelivered.spooled + notDelivered.rejected + notDelivered.dropped,
      notDelivered
    }
  }
}
