/** Counters since the shipper started; record counts unless the name says otherwise. */
export interface ShipperStats {
  /** Accepted by the collector (durably journaled there). Replayed spool records count here too. */
  sent: number
  /** Records sent again after a failed attempt (one count per record per retry). */
  retried: number
  /** Discarded: memory bound reached without a spool, close deadline without a spool, write after close, unmappable. */
  dropped: number
  /** Written to the spool directory (they are sent — and counted in `sent` — when replayed). */
  spooled: number
  /** Refused by the collector for good (per-record errors, or a 4xx other than 408/413/429). */
  rejected: number
  /** Records held in memory now (current batch, queued, retrying, in flight). */
  queued: number
  /** Bytes of NDJSON held in memory now. */
  queuedBytes: number
  /** Spool files waiting to be replayed (0 without a spool). */
  spoolFiles: number
}
