// What a flush reports: how many of the records written to this shipper are in the collector. Every
// record written is in exactly one place at any moment, so "pending" is simply what is left:
//
//   write() ─► written ─┬─► delivered   the collector acknowledged it
//                       ├─► rejected    refused for good (4xx, per-record error)     ┐
//                       ├─► dropped     memory bound / close deadline / unmappable   │ undelivered
//                       ├─► on disk     spooled, not replayed yet                    │
//                       └─► pending     in memory: queued, retrying, in flight       ┘
//
// A flush reports a window: what was written, delivered, rejected and dropped since the previous flush,
// and what is pending or on disk now — those are still not delivered, so every flush reports them again
// until they are. So `undelivered === 0` means: everything logged so far is in the collector, except
// losses an earlier flush already reported. A spool is not delivery (in a function, /tmp goes with the
// instance). Records replayed from a spool file an earlier run left are not this shipper's records:
// they count in stats().sent only, never in a flush's window.
import type { ShipperStats } from './stats'

/** Why records logged so far are not in the collector (the parts of `undelivered`). */
export interface NotDelivered {
  /** In memory now: queued, retrying or in flight (a flush that timed out leaves them here). */
  pending: number
  /** In the spool directory now, not replayed yet. */
  spooled: number
  /** Refused by the collector for good since the previous flush. */
  rejected: number
  /** Discarded (and counted) since the previous flush. */
  dropped: number
}

/**
 * What `flush()` resolves with: the cumulative counters of `stats()` (unchanged for existing callers),
 * plus the delivery of the records written to this shipper.
 */
export interface FlushResult extends ShipperStats {
  /** Records written since the previous flush. */
  written: number
  /** Of this shipper's records, those the collector acknowledged since the previous flush. */
  delivered: number
  /** pending + spooled + rejected + dropped: 0 means every record logged so far is in the collector. */
  undelivered: number
  notDelivered: NotDelivered
}

interface Window { written: number, delivered: number, rejected: number, dropped: number }

export class Delivery {
  readonly #total: Window = { written: 0, delivered: 0, rejected: 0, dropped: 0 }
  #onDisk = 0
  #last: Window = { written: 0, delivered: 0, rejected: 0, dropped: 0 }

  written (n: number): void { this.#total.written += n }

  /** The rest of these take `foreign`: records of an earlier run's spool file are not counted. */
  delivered (n: number, foreign: boolean): void { if (!foreign) this.#total.delivered += n }
  rejected (n: number, foreign: boolean): void { if (!foreign) this.#total.rejected += n }
  dropped (n: number, foreign: boolean): void { if (!foreign) this.#total.dropped += n }
  /** Written to the spool, or given back to it: on disk again. */
  toDisk (n: number, foreign: boolean): void { if (!foreign) this.#onDisk += n }
  /** Read back from the spool: in memory again. */
  fromDisk (n: number, foreign: boolean): void { if (!foreign) this.#onDisk -= n }

  /** The window since the previous report (which this one ends), on top of `stats`. */
  report (stats: ShipperStats): FlushResult {
    const t = this.#total
    const last = this.#last
    this.#last = { ...t }
    const notDelivered: NotDelivered = {
      pending: t.written - t.delivered - t.rejected - t.dropped - this.#onDisk,
      spooled: this.#onDisk,
      rejected: t.rejected - last.rejected,
      dropped: t.dropped - last.dropped
    }
    return {
      ...stats,
      written: t.written - last.written,
      delivered: t.delivered - last.delivered,
      undelivered: notDelivered.pending + notDelivered.spooled + notDelivered.rejected + notDelivered.dropped,
      notDelivered
    }
  }
}
