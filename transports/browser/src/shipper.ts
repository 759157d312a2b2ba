// The page's shipping core: events wait in a bounded buffer, leave one batch at a time (order kept,
// and the one keepalive request in flight stays well inside the browsers' 64 KiB budget), retry with
// backoff under the same batch id, and what is buffered leaves by beacon when the page is hidden.
//
//   add(line) ──► LineBuffer ──(batchSize | 60 KB | flushInterval | flush())──► current batch
//                    │                                                           │ sendBatch
//                    │                                         sent / refused ◄──┤
//                    │                                              retry ◄──────┘ (backoff, Retry-After)
//                    └── page hidden ──► sendBeacon (≤ 60 KB in all per hidden spell) ─► collector
import { backoffDelay } from './backoff.js'
import { newBatchId } from './batch-id.js'
import { LineBuffer } from './buffer.js'
import type { Env } from './env.js'
import { batchUrl, KEEPALIVE_LIMIT, requestInit, sendBatch, type Batch } from './sender.js'

/**
 * Bytes of one batch, and of all beacons sent while the page is hidden. Browsers allow 64 KiB of
 * keepalive bodies in flight per page (sendBeacon counts too); 60 KB leaves room for the batch the
 * logger may already have in flight with keepalive.
 */
export const BATCH_BYTES = 60_000

/** Flushes close() makes, at most, for events logged while it waits. */
export const CLOSE_ROUNDS = 10

export interface ShipperConfig {
  endpoint: string
  key: string
  batchSize: number
  flushInterval: number
  maxBufferBytes: number
}

export interface Stats {
  /** Events waiting, or in the batch being sent. */
  buffered: number
  /** Events the collector acknowledged. */
  sent: number
  /** Events the collector refused (a 4xx other than 408/429, or listed as rejected in its answer). */
  rejected: number
  /** Events dropped here: the oldest past maxBufferBytes, one alone over it, or logged after close(). */
  dropped: number
  /** Attempts that failed and were tried again. */
  retried: number
  /** Events handed to sendBeacon (or fetch keepalive) while the page was hidden; their answer is never seen. */
  beaconed: number
  /** The last failure (retry or refusal), for a developer console; undefined when there was none. */
  lastError: string | undefined
}

interface Current extends Batch { first: number }

export class Shipper {
  private readonly buffer: LineBuffer
  private current: Current | undefined
  private inFlight = false
  private failures = 0
  private retryTimer: unknown
  private intervalTimer: unknown
  /** Lines numbered below this are sent without waiting for a full batch (a flush asked for them). */
  private flushTarget = 0
  private waiters: Array<{ upTo: number, resolve: () => void }> = []
  /** Beacon bytes spent since the page was last hidden. */
  private unloadSpent = 0
  private closing: Promise<void> | undefined
  private closed = false
  private stopWatching: (() => void) | undefined
  private readonly counts = { sent: 0, rejected: 0, dropped: 0, retried: 0, beaconed: 0 }
  private lastError: string | undefined

  constructor (private readonly env: Env, private readonly config: ShipperConfig) {
    this.buffer = new LineBuffer(config.maxBufferBytes, n => { this.counts.dropped += n })
    this.stopWatching = env.watchPage?.(() => this.unload(), () => { this.unloadSpent = 0 })
  }

  add (line: string): void {
    if (this.closed) {
      this.counts.dropped++
      return
    }
    this.buffer.push(line)
    if (this.waiters.length > 0) this.settle() // a drop may have settled what a flush waits for
    this.kick(false)
  }

  stats (): Stats {
    return { buffered: this.buffer.length + (this.current?.count ?? 0), ...this.counts, lastError: this.lastError }
  }

  /** Resolves once every event added so far was sent, refused, dropped or beaconed. */
  async flush (): Promise<void> {
    const upTo = this.buffer.end
    if (this.settledUpTo() >= upTo) return
    this.flushTarget = Math.max(this.flushTarget, upTo)
    const done = new Promise<void>(resolve => this.waiters.push({ upTo, resolve }))
    this.kick(false)
    await done
  }

  /**
   * Flushes, then stops: no timers, no page listeners; later events are dropped (counted). Events logged
   * while it waits are flushed too, round after round; a page that never stops logging gets
   * CLOSE_ROUNDS, and what it logged past them is counted as dropped, never left unaccounted for.
   */
  async close (): Promise<void> {
    this.closing ??= this.drain().then(() => {
      this.closed = true
      const left = this.buffer.length
      if (left > 0) {
        this.buffer.remove(left)
        this.counts.dropped += left
        this.settle()
      }
      this.stopWatching?.()
      this.stopWatching = undefined
      this.clearInterval()
    })
    await this.closing
  }

  private async drain (): Promise<void> {
    for (let round = 0; round < CLOSE_ROUNDS; round++) {
      await this.flush()
      if (this.buffer.length === 0 && this.current === undefined) return
    }
  }

  /** Everything numbered below this is settled: the oldest unsettled line is the current batch's, else the buffer's. */
  private settledUpTo (): number {
    return this.current?.first ?? this.buffer.first
  }

  private settle (): void {
    if (this.waiters.length === 0) return
    const upTo = this.settledUpTo()
    this.waiters = this.waiters.filter(w => {
      if (w.upTo > upTo) return true
      w.resolve()
      return false
    })
  }

  /** Starts the next batch when one is due and none is under way; else makes sure the interval will. */
  private kick (intervalDue: boolean): void {
    if (this.current !== undefined) return
    const buffer = this.buffer
    const due = intervalDue || buffer.first < this.flushTarget || buffer.length >= this.config.batchSize || buffer.bytes >= BATCH_BYTES
    if (buffer.length === 0 || !due) {
      this.settle()
      if (buffer.length > 0 && this.intervalTimer === undefined) {
        this.intervalTimer = this.env.setTimeout(() => {
          this.intervalTimer = undefined
          this.kick(true)
        }, this.config.flushInterval)
      }
      return
    }
    this.clearInterval()
    const peeked = buffer.peek(this.config.batchSize, BATCH_BYTES)
    this.current = { id: newBatchId(this.env.now(), this.env.random), ...peeked, first: buffer.first }
    buffer.remove(peeked.count)
    void this.attempt(this.current)
  }

  private async attempt (batch: Current): Promise<void> {
    this.retryTimer = undefined
    this.inFlight = true
    const outcome = await sendBatch(this.env, this.config.endpoint, this.config.key, batch)
    this.inFlight = false
    if (outcome.kind === 'retry') {
      this.failures++
      this.counts.retried++
      this.lastError = outcome.reason
      const delay = Math.max(outcome.afterMs ?? 0, backoffDelay(this.failures, this.env.random))
      this.retryTimer = this.env.setTimeout(() => { void this.attempt(batch) }, delay)
      return
    }
    if (outcome.kind === 'sent') {
      this.counts.sent += outcome.accepted
      this.counts.rejected += outcome.rejected
      if (outcome.rejected > 0) this.lastError = `${outcome.rejected} event(s) of a batch rejected by the collector`
    } else {
      this.counts.rejected += batch.count
      this.lastError = outcome.reason
    }
    this.failures = 0
    this.current = undefined
    this.kick(false)
  }

  /**
   * The page is hidden or going away: hand what is buffered to beacons, oldest first, while the
   * keepalive budget lasts. A batch waiting for its retry goes first, under its own id (if its last
   * attempt did arrive, the collector stores it once). A batch in flight is left to its keepalive
   * fetch, and its bytes come off the budget. What does not fit stays buffered: if the page comes back,
   * it is sent as usual.
   */
  unload (): void {
    let budget = BATCH_BYTES - this.unloadSpent
    const current = this.current
    if (current !== undefined && this.inFlight && current.bytes < KEEPALIVE_LIMIT) budget -= current.bytes
    if (current !== undefined && !this.inFlight) {
      if (current.bytes > budget || !this.beacon(current)) return
      budget -= current.bytes
      this.env.clearTimeout(this.retryTimer)
      this.retryTimer = undefined
      this.failures = 0
      this.current = undefined
    }
    while (this.buffer.length > 0) {
      const peeked = this.buffer.peek(Number.MAX_SAFE_INTEGER, budget, true)
      if (peeked.count === 0) break
      if (!this.beacon({ id: newBatchId(this.env.now(), this.env.random), ...peeked })) break
      this.buffer.remove(peeked.count)
      budget -= peeked.bytes
    }
    if (this.buffer.length === 0) this.clearInterval()
    this.settle()
  }

  /** One unload batch out: sendBeacon, or fetch with keepalive where there is no sendBeacon. */
  private beacon (batch: Batch): boolean {
    const url = batchUrl(this.config.endpoint, this.config.key, batch.id)
    if (this.env.sendBeacon !== undefined) {
      let queued = false
      try {
        queued = this.env.sendBeacon(url, batch.body)
      } catch (err) {
        this.lastError = `sendBeacon: ${String((err as Error)?.message ?? err)}`
      }
      if (!queued) return false // over the browser's budget: keep it buffered
    } else {
      this.env.fetch(url, requestInit(batch.body, true)).catch((err: unknown) => {
        // Gone without an answer: counted as dropped, no longer as beaconed.
        this.counts.beaconed -= batch.count
        this.counts.dropped += batch.count
        this.lastError = `keepalive fetch: ${String((err as Error)?.message ?? err)}`
      })
    }
    this.unloadSpent += batch.bytes
    this.counts.beaconed += batch.count
    return true
  }

  private clearInterval (): void {
    if (this.intervalTimer === undefined) return
    this.env.clearTimeout(this.intervalTimer)
    this.intervalTimer = undefined
  }
}
