// The shipping core. Records come in through write(), leave as NDJSON batches POSTed to the collector.
//
//   write(record) ─► map ─► current batch ──(count | bytes | interval)──► ready ─┐
//                                                                               ├─► pump ─► POST /logs
//                    spool files (oldest first) ◄── spill (memory bound) ◄──────┤      │
//                         └──────── replay (replay.ts, one file at a time) ─────┘      │
//                    retry (front of the line) ◄── 408/429/5xx/network, after backoff ◄┘
//
//   phase:  open ──close()──► closing ──(all settled)─────────────────────► closed
//             (pause: a retry wait)  └──(closeTimeout passed)──► spilling ──┘
//
// Nothing here throws into the caller after construction: failures become counters, events and
// onError calls (notices.ts decides which, and what reaches stderr). Timers come from a Clock
// (clock.ts) and are unref'd, so the shipper never keeps a process alive on its own.

import { EventEmitter } from 'node:events'
import { backoffDelay } from './backoff'
import { halves, makeBatch, OpenBatch, type Batch } from './batch'
import { halfKeys, newBatchKey } from './batch-key'
import { sleep, systemClock, type Clock } from './clock'
import { ShipperError } from './errors'
import { Delivery, type FlushResult, type Window } from './delivery'
import { CollectorClient, type SendResult } from './http'
import { mapLine, mapRecord } from './map'
import { Notices } from './notices'
import { resolveOptions, type ResolvedOptions, type ShipperOptions } from './options'
import { Replay } from './replay'
import { Spool } from './spool'
import type { ShipperStats } from './stats'

const MAX_REASONS = 5

/**
 * A retry wait: nothing is sent until it ends. `backoff` is our own guess at when to try again;
 * `retry-after` is the collector's word (429/503 Retry-After), which a serverless flush keeps.
 */
interface Pause { readonly until: number, readonly cancel: () => void, readonly kind: 'backoff' | 'retry-after' }

/** Where the shipper is in its life: whether it takes records, sends, retries and replays. */
type Phase =
  /** Taking records and sending them; `pause` while a failed batch waits for its retry. */
  | { readonly name: 'open', readonly pause: Pause | undefined }
  /** close() was called: no more records; delivering what is held (spool replay included). */
  | { readonly name: 'closing', readonly pause: Pause | undefined, readonly closed: Promise<FlushResult> }
  /** The close deadline passed: no retries, no replay; everything still held is spooled or dropped. */
  | { readonly name: 'spilling', readonly closed: Promise<FlushResult> }
  /** Done: sockets closed, spool lock released. */
  | { readonly name: 'closed', readonly closed: Promise<FlushResult> }

/** What a host may hand the core besides options: not options, since they cannot cross to a worker. */
export interface ShipperDeps {
  /** Time and timers; default the system clock. Tests pass one they move by hand. */
  clock?: Clock
  /** Names the sender in stderr lines (notices.ts). Default 'maap-shipper'. */
  prefix?: string
  /**
   * Whether the application hears errors (else they go to stderr), for a front end that listens to
   * 'error' itself and re-emits it under its own name. Default: onError is set or 'error' has listeners.
   */
  heard?: () => boolean
}

export class Shipper extends EventEmitter {
  readonly #opts: ResolvedOptions
  readonly #clock: Clock
  readonly #notices: Notices
  readonly #client: CollectorClient
  readonly #spool: Spool | undefined
  readonly #replay: Replay | undefined
  readonly #stats = { sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0 }
  /** Where this shipper's own records are (delivered, lost, on disk, pending): what flush() reports. */
  readonly #delivery = new Delivery()
  #phase: Phase = { name: 'open', pause: undefined }

  readonly #cur: OpenBatch
  #cancelCurTimer: (() => void) | undefined
  /** Batches that failed and wait for the pause to end; sent before anything else. */
  readonly #retry: Batch[] = []
  readonly #ready: Batch[] = []
  readonly #inflight = new Map<Batch, AbortController>()
  /** Every batch in memory and not yet settled: what flush() waits for. */
  readonly #pending = new Set<Batch>()
  #bytes = 0
  #records = 0
  #seq = 0
  /** Consecutive failed sends: the backoff's exponent. */
  #failures = 0
  #needDrain = false
  #waiters: Array<{ ready: () => boolean, resolve: () => void }> = []

  constructor (options: ShipperOptions = {}, env: NodeJS.ProcessEnv = process.env, deps: ShipperDeps = {}) {
    super()
    this.#opts = resolveOptions(options, env)
    this.#clock = deps.clock ?? systemClock
    this.#notices = new Notices(this, { prefix: deps.prefix, clock: this.#clock, onError: this.#opts.onError, heard: deps.heard })
    this.#client = new CollectorClient(this.#opts)
    // Enough spare buffers for the batches in flight and the next few; more are allocated on demand.
    this.#cur = new OpenBatch(this.#opts.batchBytes, this.#opts.concurrency + 2)
    if (this.#opts.spoolDir !== undefined) {
      try {
        this.#spool = new Spool(this.#opts.spoolDir)
        this.#replay = new Replay(this.#spool, err => this.#notices.error(err))
      } catch (err) {
        // An unusable spool must not stop logging: ship without it, and say so.
        this.#notices.error(err as ShipperError)
      }
    }
    // Files left by an earlier run start replaying at once.
    if ((this.#replay?.pendingFiles ?? 0) > 0) queueMicrotask(() => this.#pump())
  }

  /**
   * Queues one record: an object (pino/winston shaped or already a collector event) or one NDJSON line
   * (a line that is not a JSON object is shipped as its message). Never throws. Returns false when the
   * caller should wait for 'drain' before writing more — only while the collector keeps up, so a
   * caller that respects it is slowed down, never blocked by an unreachable collector.
   */
  write (record: string | Record<string, unknown>): boolean {
    if (this.#phase.name !== 'open') {
      this.#delivery.written(1)
      this.#drop(1, 'write after close', false)
      return false
    }
    let line: string | null
    try {
      line = record !== null && typeof record === 'object'
        ? JSON.stringify(mapRecord(record, this.#opts))
        // A string is an NDJSON line; anything else a plain-JS caller passes is shipped as its text.
        : mapLine(String(record), this.#opts)
    } catch (err) {
      // The first line of the cause only: a drop line is one line (JSON.stringify's circle report has three).
      this.#delivery.written(1)
      this.#drop(1, `record could not be serialised (${String((err as Error).message).split('\n')[0]})`, false, 'MAAP_SHIP_MAP', err)
      return !this.#needDrain
    }
    if (line === null) return !this.#needDrain
    const bytes = Buffer.byteLength(line) + 1
    if (this.#cur.count > 0 && this.#cur.bytes + bytes > this.#opts.batchBytes) this.#seal()
    if (this.#cur.count === 0) {
      this.#cancelCurTimer = this.#clock.timer(() => this.#seal(), this.#opts.batchInterval, false)
    }
    this.#cur.add(line, bytes)
    this.#bytes += bytes
    this.#records++
    this.#delivery.written(1)
    if (this.#cur.count >= this.#opts.batchSize || this.#cur.bytes >= this.#opts.batchBytes) this.#seal()
    if (this.#bytes > this.#opts.maxBufferBytes) this.#enforceBound()
    if (!this.#needDrain && this.#failures === 0 && this.#bytes >= this.#opts.highWaterBytes) {
      // Send the open batch now: a caller waiting for 'drain' must not wait on the batch interval.
      // Once only per crossing: callers that ignore the signal (pino) must keep getting full batches.
      this.#seal()
      this.#needDrain = true
    }
    return !this.#needDrain
  }

  /**
   * Sends what was written so far and resolves once every record written before the call is settled:
   * delivered, rejected, spooled or dropped — and with `timeoutMs`, once this shipper's own spool files
   * are replayed too (a spool is not delivery), at the latest when the timeout passes. Records an
   * earlier run spooled are replayed as ever but never waited for: they are not the caller's. A flush
   * never spools or drops anything itself: what is not settled by then stays in memory and keeps being
   * retried. Resolves with the counters of stats() plus what became of this shipper's records in the
   * flush's window (delivery.ts): `undelivered` is 0 only when every record written so far is in the
   * collector. Only a flush with a timeout holds the process alive while it waits.
   */
  async flush (timeoutMs?: number): Promise<FlushResult> {
    const since = this.#delivery.begin()
    this.#seal()
    // In a function, a backoff begun before this flush (maybe minutes ago, before a freeze) must not use
    // up the time this invocation has: try again now. A Retry-After is the collector asking for quiet
    // (overloaded, rate limit): kept; what it holds past the timeout is reported as pending.
    if (this.#opts.serverless) this.#cutBackoff()
    const settled = Promise.all([...this.#pending].filter(b => !b.foreign).map(b => b.done))
    if (timeoutMs === undefined) {
      await settled
    } else {
      // Held: an explicit, bounded wait the caller asked for is kept even if nothing else holds the loop.
      const wait = sleep(this.#clock, timeoutMs)
      let timedOut = false
      let cancelReplayWait = (): void => {}
      const replayed = settled.then(() => {
        if (timedOut) return
        const offDisk = this.#waitFor(() => this.#ownOffDisk())
        cancelReplayWait = offDisk.cancel
        return offDisk.done
      })
      await Promise.race([replayed, wait.done])
      timedOut = true
      wait.cancel()
      cancelReplayWait()
    }
    return this.#delivery.report(this.stats(), since)
  }

  /** No record of this run is on disk, nor read back from it and still unsettled. */
  #ownOffDisk (): boolean {
    return this.#delivery.onDisk === 0 && !(this.#replay?.ownOut ?? false)
  }

  /** How long close() keeps delivering, in ms (the resolved option). */
  get closeTimeout (): number {
    return this.#opts.closeTimeout
  }

  /**
   * Stops accepting records, delivers everything (spool replay included) for up to `closeTimeout` ms,
   * then spools — or, without a spool, drops and counts — what is left. Idempotent. Resolves like
   * flush(), for the records written since the last flush.
   */
  close (): Promise<FlushResult> {
    const phase = this.#phase
    if (phase.name !== 'open') return phase.closed
    let settle!: { resolve: (s: FlushResult) => void, reject: (e: unknown) => void }
    const closed = new Promise<FlushResult>((resolve, reject) => { settle = { resolve, reject } })
    this.#phase = { name: 'closing', pause: phase.pause, closed }
    this.#close(this.#delivery.begin()).then(settle.resolve, settle.reject)
    return closed
  }

  /** @internal This shipper's records written so far and settled for good, for a worker's host (thread/). */
  ownTotals (): { written: number, settled: number } {
    return this.#delivery.totals()
  }

  stats (): ShipperStats {
    return {
      ...this.#stats,
      queued: this.#records,
      queuedBytes: this.#bytes,
      spoolFiles: this.#replay?.pendingFiles ?? 0
    }
  }

  async #close (since: Window): Promise<FlushResult> {
    this.#seal()
    // The one held wait of the core: close() was asked for, so the process stays up until it is done —
    // at most closeTimeout, plus the time to spill and to abort what is in flight.
    const deadline = sleep(this.#clock, this.#opts.closeTimeout)
    await Promise.race([this.#until(() => this.#pending.size === 0 && (this.#replay?.pendingFiles ?? 0) === 0), deadline.done])
    deadline.cancel()
    if (this.#pending.size > 0) {
      this.#enter('spilling')
      for (const b of this.#retry.splice(0)) this.#spill(b, 'close deadline')
      for (const b of this.#ready.splice(0)) this.#spill(b, 'close deadline')
      // In-flight sends end with an abort, and #settle spills them since the deadline passed.
      for (const ac of this.#inflight.values()) ac.abort()
      await this.#until(() => this.#pending.size === 0)
    }
    this.#notices.flush()
    await this.#client.close().catch(() => { /* sockets already gone */ })
    this.#spool?.release()
    this.#enter('closed')
    return this.#delivery.report(this.stats(), since)
  }

  /** Moves past closing; a retry wait in progress ends with it (nothing is retried any more). */
  #enter (name: 'spilling' | 'closed'): void {
    const phase = this.#phase
    if (phase.name === 'open') return
    if (phase.name === 'closing') phase.pause?.cancel()
    this.#phase = { name, closed: phase.closed }
  }

  #paused (): boolean {
    const phase = this.#phase
    return (phase.name === 'open' || phase.name === 'closing') && phase.pause !== undefined
  }

  #seal (): void {
    this.#cancelCurTimer?.()
    this.#cancelCurTimer = undefined
    if (this.#cur.count === 0) return
    const batch = this.#cur.seal(this.#seq++, newBatchKey(this.#clock.now()))
    this.#pending.add(batch)
    this.#ready.push(batch)
    this.#pump()
  }

  #pump (): void {
    while (!this.#paused() && this.#inflight.size < this.#opts.concurrency) {
      const batch = this.#next()
      if (batch === undefined) return
      this.#dispatch(batch)
    }
  }

  /** Retries first, then the oldest spool file (Replay keeps to one at a time), then new batches. */
  #next (): Batch | undefined {
    const retry = this.#retry.shift()
    if (retry !== undefined) return retry
    if (this.#replay !== undefined && this.#phase.name !== 'spilling') {
      const batch = this.#replay.next()
      if (batch !== undefined) {
        this.#delivery.fromDisk(batch.count, batch.foreign)
        this.#hold(batch)
        return batch
      }
    }
    return this.#ready.shift()
  }

  #dispatch (batch: Batch): void {
    const ac = new AbortController()
    this.#inflight.set(batch, ac)
    this.#client.send(batch.body, batch.count, ac.signal, batch.key)
      .catch((err: Error): SendResult => ({ kind: 'retryable', status: undefined, retryAfterMs: undefined, error: err }))
      .then(result => {
        this.#inflight.delete(batch)
        this.#settle(batch, result)
        this.#pump()
        this.#wake()
      })
  }

  #settle (batch: Batch, result: SendResult): void {
    const n = batch.count
    switch (result.kind) {
      case 'answered': {
        this.#failures = 0
        const rejected = Math.min(n, result.rejected.length)
        this.#stats.sent += n - rejected
        this.#delivery.delivered(n - rejected, batch.foreign)
        if (n - rejected > 0) this.emit('sent', n - rejected)
        if (rejected > 0) {
          const reasons = result.rejected.slice(0, MAX_REASONS).map(r => `#${r.index}: ${r.error}`).join('; ')
          this.#reject(batch, rejected, `collector rejected ${rejected} of ${n} records (${reasons})`, result.status, result.rejected)
        }
        this.#release(batch, true)
        // Answered per record: the collector has read the whole body, so its buffer can be reused.
        this.#cur.recycle(batch)
        return
      }
      case 'permanent':
        this.#failures = 0
        this.#reject(batch, n, `collector refused a batch of ${n} records for good: ${result.error.message}`, result.status, [])
        this.#release(batch, true)
        return
      case 'too-large':
        this.#failures = 0
        if (n === 1) {
          this.#reject(batch, 1, `a single record is too large for the collector: ${result.error.message}`, 413, [])
          this.#release(batch, true)
        } else {
          this.#split(batch)
        }
        return
      case 'retryable':
        if (this.#phase.name === 'spilling') {
          this.#spill(batch, 'close deadline')
          return
        }
        this.#stats.retried += n
        this.#failures++
        this.#retry.unshift(batch)
        if (result.retryAfterMs !== undefined) this.#pause(result.retryAfterMs, 'retry-after', result, n)
        else this.#pause(backoffDelay(this.#failures, this.#opts.retryBaseMs, this.#opts.retryMaxMs), 'backoff', result, n)
    }
  }

  /** 413: send each half on its own; the batch is settled when both halves are. */
  #split (batch: Batch): void {
    // Each half is a request of its own: its own key, derived from the parent's so that a half retried
    // by a later process (spooled) is still the same request.
    const keys = batch.key === undefined ? undefined : halfKeys(batch.key)
    const parts = halves(batch).map(([body, count], i) => makeBatch(body, count, batch.seq, keys?.[i], undefined, undefined, batch.foreign))
    this.#release(batch, false)
    for (const half of parts) this.#hold(half)
    this.#retry.unshift(...parts)
    const halvesDone = Promise.all(parts.map(h => h.done))
    // A replayed spool file stays the one file out until both of its halves are settled.
    this.#replay?.split(batch, halvesDone, () => {
      this.#pump()
      this.#wake()
    })
    void halvesDone.then(() => batch.resolve())
  }

  #pause (delayMs: number, kind: Pause['kind'], result: Extract<SendResult, { kind: 'retryable' }>, records: number): void {
    const error = new ShipperError('MAAP_SHIP_RETRY',
      `sending ${records} records failed (${result.status ?? result.error.message}); retry ${this.#failures} in ${delayMs} ms`,
      { records, ...(result.status === undefined ? {} : { status: result.status }), cause: result.error })
    this.#notices.retry({ attempt: this.#failures, delayMs, status: result.status, records, error })
    // Unhealthy now: writers waiting for 'drain' must not wait on an unreachable collector.
    this.#emitDrain()
    const phase = this.#phase
    if (phase.name !== 'open' && phase.name !== 'closing') return
    const until = this.#clock.now() + delayMs
    if (phase.pause !== undefined && until <= phase.pause.until) return
    // A longer wait replaces a shorter one; one that began as the collector's Retry-After stays one.
    const merged = phase.pause?.kind === 'retry-after' ? 'retry-after' : kind
    phase.pause?.cancel()
    const cancel = this.#clock.timer(() => this.#resume(), delayMs, false)
    this.#phase = { ...phase, pause: { until, cancel, kind: merged } }
  }

  /** Ends a backoff early: its batch is sent again at once. A Retry-After wait is left alone. */
  #cutBackoff (): void {
    const phase = this.#phase
    if ((phase.name !== 'open' && phase.name !== 'closing') || phase.pause?.kind !== 'backoff') return
    phase.pause.cancel()
    this.#resume()
  }

  /** The retry wait is over: send again. */
  #resume (): void {
    const phase = this.#phase
    if (phase.name === 'open' || phase.name === 'closing') this.#phase = { ...phase, pause: undefined }
    this.#pump()
  }

  /** Memory bound reached: spill (or drop) the oldest batches that are not in flight. */
  #enforceBound (): void {
    while (this.#bytes > this.#opts.maxBufferBytes) {
      if (this.#ready.length === 0 && this.#retry.length === 0 && this.#cur.count > 0) this.#seal()
      const victim = this.#retry.shift() ?? this.#ready.shift()
      if (victim === undefined) return
      this.#spill(victim, 'memory bound reached')
    }
  }

  #spill (batch: Batch, reason: string): void {
    const n = batch.count
    if (batch.spoolFile !== undefined) {
      // Still on disk: put it back at the head of the spool instead of writing it again.
      this.#replay!.giveBack(batch)
      this.#delivery.toDisk(n, batch.foreign)
      this.#release(batch, false)
      batch.resolve()
      return
    }
    if (this.#spool !== undefined) {
      try {
        const file = this.#spool.write(batch.body, batch.seq, batch.key)
        this.#stats.spooled += n
        this.#delivery.toDisk(n, batch.foreign)
        this.emit('spooled', { records: n, file, reason })
        this.#release(batch, true)
        return
      } catch (err) {
        this.#notices.error(new ShipperError('MAAP_SHIP_SPOOL', `could not spool ${n} records to ${this.#spool.dir}: ${(err as Error).message}`, { records: n, cause: err }))
      }
    }
    this.#release(batch, true)
    this.#drop(n, reason, batch.foreign)
  }

  #drop (n: number, reason: string, foreign: boolean, code?: 'MAAP_SHIP_MAP', cause?: unknown): void {
    this.#stats.dropped += n
    this.#delivery.dropped(n, foreign)
    this.#notices.dropped(n, reason, this.#stats.dropped, code, cause)
  }

  #reject (batch: Batch, n: number, message: string, status: number, details: Array<{ index: number, error: string }>): void {
    this.#stats.rejected += n
    this.#delivery.rejected(n, batch.foreign)
    this.emit('rejected', { records: n, status, details })
    this.#notices.error(new ShipperError('MAAP_SHIP_REJECTED', message, { records: n, status }))
  }

  /** Takes a batch out of memory accounting; with `resolve`, it is settled (flush stops waiting for it). */
  #release (batch: Batch, resolve: boolean): void {
    if (!this.#pending.delete(batch)) return
    this.#bytes -= batch.body.length
    this.#records -= batch.count
    if (resolve) {
      this.#replay?.delivered(batch)
      batch.resolve()
    }
    if (this.#bytes < this.#opts.highWaterBytes / 2) this.#emitDrain()
    this.#wake()
  }

  #hold (batch: Batch): void {
    this.#pending.add(batch)
    this.#bytes += batch.body.length
    this.#records += batch.count
  }

  #emitDrain (): void {
    if (!this.#needDrain) return
    this.#needDrain = false
    this.emit('drain')
  }

  #until (ready: () => boolean): Promise<void> {
    return this.#waitFor(ready).done
  }

  /** Resolves once `ready()` holds (checked whenever a batch settles); `cancel` forgets the wait. */
  #waitFor (ready: () => boolean): { done: Promise<void>, cancel: () => void } {
    if (ready()) return { done: Promise.resolve(), cancel: () => {} }
    let waiter!: { ready: () => boolean, resolve: () => void }
    const done = new Promise<void>(resolve => { waiter = { ready, resolve } })
    this.#waiters.push(waiter)
    return { done, cancel: () => { this.#waiters = this.#waiters.filter(w => w !== waiter) } }
  }

  #wake (): void {
    this.#waiters = this.#waiters.filter(w => {
      if (!w.ready()) return true
      w.resolve()
      return false
    })
  }
}
