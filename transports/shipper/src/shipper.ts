// The shipping core. Records come in through write(), leave as NDJSON batches POSTed to the collector.
//
//   write(record) ─► map ─► current batch ──(count | bytes | interval)──► ready ─┐
//                                                                               ├─► pump ─► POST /logs
//                    spool files (oldest first) ◄── spill (memory bound) ◄──────┤      │
//                         └──────────── replay ─────────────────────────────────┘      │
//                    retry (front of the line) ◄── 408/429/5xx/network, after backoff ◄┘
//
// Nothing here throws into the caller after construction: failures become counters, events and
// onError calls. Timers are unref'd, so the shipper never keeps a process alive on its own.

import { EventEmitter } from 'node:events'
import { backoffDelay } from './backoff'
import { batchOfLines, halves, makeBatch, OpenBatch, type Batch } from './batch'
import { ShipperError } from './errors'
import { CollectorClient, type SendResult } from './http'
import { mapLine, mapRecord } from './map'
import { resolveOptions, type ResolvedOptions, type ShipperOptions } from './options'
import { Spool } from './spool'
import { DropNotice } from './drop-notice'
import { stderrLine } from './stderr'
import type { ShipperStats } from './stats'

const MAX_REASONS = 5

export class Shipper extends EventEmitter {
  readonly #opts: ResolvedOptions
  readonly #client: CollectorClient
  readonly #spool: Spool | undefined
  readonly #stats = { sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0 }
  readonly #dropNotice = new DropNotice(() => this.#stats.dropped)

  readonly #cur: OpenBatch
  #curTimer: NodeJS.Timeout | undefined
  /** Batches that failed and wait for the pause to end; sent before anything else. */
  readonly #retry: Batch[] = []
  readonly #ready: Batch[] = []
  readonly #inflight = new Map<Batch, AbortController>()
  /** Every batch in memory and not yet settled: what flush() waits for. */
  readonly #pending = new Set<Batch>()
  #bytes = 0
  #records = 0
  #seq = 0
  /** A spool file is in memory (in flight or waiting to retry): replay goes one file at a time, in order. */
  #replaying = false

  #failures = 0
  #pauseTimer: NodeJS.Timeout | undefined
  #pausedUntil = 0
  #needDrain = false
  #closed = false
  #deadlineHit = false
  #closing: Promise<ShipperStats> | undefined
  #waiters: Array<{ ready: () => boolean, resolve: () => void }> = []

  constructor (options: ShipperOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    super()
    this.#opts = resolveOptions(options, env)
    this.#client = new CollectorClient(this.#opts)
    // Enough spare buffers for the batches in flight and the next few; more are allocated on demand.
    this.#cur = new OpenBatch(this.#opts.batchBytes, this.#opts.concurrency + 2)
    if (this.#opts.spoolDir !== undefined) {
      try {
        this.#spool = new Spool(this.#opts.spoolDir)
      } catch (err) {
        // An unusable spool must not stop logging: ship without it, and say so.
        this.#report(err as ShipperError)
      }
    }
    // Files left by an earlier run start replaying at once.
    if (this.#spool !== undefined && this.#spool.pendingFiles > 0) queueMicrotask(() => this.#pump())
  }

  /**
   * Queues one record: an object (pino/winston shaped or already a collector event) or one NDJSON line
   * (a line that is not a JSON object is shipped as its message). Never throws. Returns false when the
   * caller should wait for 'drain' before writing more — only while the collector keeps up, so a
   * caller that respects it is slowed down, never blocked by an unreachable collector.
   */
  write (record: string | Record<string, unknown>): boolean {
    if (this.#closed) {
      this.#drop(1, 'write after close')
      return false
    }
    let line: string | null
    try {
      line = record !== null && typeof record === 'object'
        ? JSON.stringify(mapRecord(record, this.#opts))
        // A string is an NDJSON line; anything else a plain-JS caller passes is shipped as its text.
        : mapLine(String(record), this.#opts)
    } catch (err) {
      this.#stats.dropped++
      this.#report(new ShipperError('MAAP_SHIP_MAP', `record could not be serialised: ${(err as Error).message}`, { records: 1, cause: err }))
      return true
    }
    if (line === null) return !this.#needDrain
    const bytes = Buffer.byteLength(line) + 1
    if (this.#cur.count > 0 && this.#cur.bytes + bytes > this.#opts.batchBytes) this.#seal()
    if (this.#cur.count === 0) {
      this.#curTimer = setTimeout(() => this.#seal(), this.#opts.batchInterval).unref()
    }
    this.#cur.add(line, bytes)
    this.#bytes += bytes
    this.#records++
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
   * delivered, rejected, spooled or dropped (the counters say which). With `timeoutMs`, resolves at the
   * latest then, with what is still pending visible in `queued`. Only a flush with a timeout holds the
   * process alive while it waits.
   */
  async flush (timeoutMs?: number): Promise<ShipperStats> {
    this.#seal()
    const settled = Promise.all([...this.#pending].map(b => b.done))
    if (timeoutMs === undefined) {
      await settled
    } else {
      let timer: NodeJS.Timeout | undefined
      // Ref'd: an explicit, bounded wait the caller asked for is kept even if nothing else holds the loop.
      await Promise.race([settled, new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })])
      clearTimeout(timer)
    }
    return this.stats()
  }

  /** How long close() keeps delivering, in ms (the resolved option). */
  get closeTimeout (): number {
    return this.#opts.closeTimeout
  }

  /**
   * Stops accepting records, delivers everything (spool replay included) for up to `closeTimeout` ms,
   * then spools — or, without a spool, drops and counts — what is left. Idempotent.
   */
  close (): Promise<ShipperStats> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  stats (): ShipperStats {
    return {
      ...this.#stats,
      queued: this.#records,
      queuedBytes: this.#bytes,
      spoolFiles: this.#spool?.pendingFiles ?? 0
    }
  }

  async #close (): Promise<ShipperStats> {
    this.#closed = true
    this.#seal()
    let timer: NodeJS.Timeout | undefined
    // The one ref'd timer: close() was asked for, so the process stays up until it is done — at most
    // closeTimeout, plus the time to spill and to abort what is in flight.
    const deadline = new Promise<void>(resolve => { timer = setTimeout(resolve, this.#opts.closeTimeout) })
    await Promise.race([this.#until(() => this.#pending.size === 0 && (this.#spool?.pendingFiles ?? 0) === 0), deadline])
    clearTimeout(timer)
    if (this.#pending.size > 0) {
      this.#deadlineHit = true
      clearTimeout(this.#pauseTimer)
      for (const b of this.#retry.splice(0)) this.#spill(b, 'close deadline')
      for (const b of this.#ready.splice(0)) this.#spill(b, 'close deadline')
      // In-flight sends end with an abort, and #settle spills them since the deadline passed.
      for (const ac of this.#inflight.values()) ac.abort()
      await this.#until(() => this.#pending.size === 0)
    }
    this.#dropNotice.flush()
    await this.#client.close().catch(() => { /* sockets already gone */ })
    this.#spool?.release()
    return this.stats()
  }

  #seal (): void {
    clearTimeout(this.#curTimer)
    this.#curTimer = undefined
    if (this.#cur.count === 0) return
    const batch = this.#cur.seal(this.#seq++)
    this.#pending.add(batch)
    this.#ready.push(batch)
    this.#pump()
  }

  #pump (): void {
    while (this.#pausedUntil === 0 && this.#inflight.size < this.#opts.concurrency) {
      const batch = this.#next()
      if (batch === undefined) return
      this.#dispatch(batch)
    }
  }

  /** Retries first, then the oldest spool file (one at a time, so replay keeps order), then new batches. */
  #next (): Batch | undefined {
    const retry = this.#retry.shift()
    if (retry !== undefined) return retry
    while (this.#spool !== undefined && !this.#deadlineHit && !this.#replaying) {
      const file = this.#spool.take()
      if (file === undefined) break
      let lines: string[]
      try {
        lines = this.#spool.read(file)
      } catch (err) {
        this.#report(new ShipperError('MAAP_SHIP_SPOOL', `spool file ${file} could not be read, left in place: ${(err as Error).message}`, { cause: err }))
        continue
      }
      if (lines.length === 0) {
        // Nothing to send (a file emptied by hand): it is done.
        this.#removeSpoolFile(file)
        continue
      }
      // Spooled records are older than anything this run wrote: batch number 0 keeps them first if they
      // have to be spooled again (a spool file name needs a non-negative number).
      const batch = batchOfLines(lines, 0, file)
      this.#replaying = true
      this.#hold(batch)
      return batch
    }
    return this.#ready.shift()
  }

  #dispatch (batch: Batch): void {
    const ac = new AbortController()
    this.#inflight.set(batch, ac)
    this.#client.send(batch.body, batch.count, ac.signal)
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
        this.#healthy()
        const rejected = Math.min(n, result.rejected.length)
        this.#stats.sent += n - rejected
        if (n - rejected > 0) this.emit('sent', n - rejected)
        if (rejected > 0) {
          const reasons = result.rejected.slice(0, MAX_REASONS).map(r => `#${r.index}: ${r.error}`).join('; ')
          this.#reject(rejected, `collector rejected ${rejected} of ${n} records (${reasons})`, result.status, result.rejected)
        }
        this.#release(batch, true)
        // Answered per record: the collector has read the whole body, so its buffer can be reused.
        this.#cur.recycle(batch)
        return
      }
      case 'permanent':
        this.#healthy()
        this.#reject(n, `collector refused a batch of ${n} records for good: ${result.error.message}`, result.status, [])
        this.#release(batch, true)
        return
      case 'too-large':
        this.#healthy()
        if (n === 1) {
          this.#reject(1, `a single record is too large for the collector: ${result.error.message}`, 413, [])
          this.#release(batch, true)
        } else {
          this.#split(batch)
        }
        return
      case 'retryable':
        if (this.#deadlineHit) {
          this.#spill(batch, 'close deadline')
          return
        }
        this.#stats.retried += n
        this.#failures++
        this.#retry.unshift(batch)
        this.#pause(result.retryAfterMs ?? backoffDelay(this.#failures, this.#opts.retryBaseMs, this.#opts.retryMaxMs), result, n)
    }
  }

  /** 413: send each half on its own; the batch is settled when both halves are. */
  #split (batch: Batch): void {
    const parts = halves(batch).map(([body, count]) => makeBatch(body, count, batch.seq))
    this.#release(batch, false)
    // A replayed spool file stays the one file in flight until both of its halves are settled.
    if (batch.spoolFile !== undefined) this.#replaying = true
    for (const half of parts) this.#hold(half)
    this.#retry.unshift(...parts)
    Promise.all(parts.map(h => h.done)).then(() => {
      if (batch.spoolFile !== undefined) {
        this.#removeSpoolFile(batch.spoolFile)
        this.#replaying = false
        this.#pump()
      }
      batch.resolve()
    })
  }

  #pause (delayMs: number, result: Extract<SendResult, { kind: 'retryable' }>, records: number): void {
    const err = new ShipperError('MAAP_SHIP_RETRY',
      `sending ${records} records failed (${result.status ?? result.error.message}); retry ${this.#failures} in ${delayMs} ms`,
      { records, ...(result.status === undefined ? {} : { status: result.status }), cause: result.error })
    this.emit('retry', { attempt: this.#failures, delayMs, status: result.status, records, error: err })
    // Retries are expected; stderr hears only about the first failure of a streak when nobody listens.
    this.#report(err, this.#failures === 1)
    // Unhealthy now: writers waiting for 'drain' must not wait on an unreachable collector.
    this.#emitDrain()
    const until = Date.now() + delayMs
    if (until <= this.#pausedUntil) return
    clearTimeout(this.#pauseTimer)
    this.#pausedUntil = until
    this.#pauseTimer = setTimeout(() => {
      this.#pausedUntil = 0
      this.#pump()
    }, delayMs).unref()
  }

  #healthy (): void {
    this.#failures = 0
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
      this.#spool!.giveBack(batch.spoolFile)
      this.#release(batch, false)
      batch.resolve()
      return
    }
    if (this.#spool !== undefined) {
      try {
        const file = this.#spool.write(batch.body, batch.seq)
        this.#stats.spooled += n
        this.emit('spooled', { records: n, file, reason })
        this.#release(batch, true)
        return
      } catch (err) {
        this.#report(new ShipperError('MAAP_SHIP_SPOOL', `could not spool ${n} records to ${this.#spool.dir}: ${(err as Error).message}`, { records: n, cause: err }))
      }
    }
    this.#release(batch, true)
    this.#drop(n, reason)
  }

  #drop (n: number, reason: string): void {
    this.#stats.dropped += n
    const err = new ShipperError('MAAP_SHIP_DROPPED', `dropped ${n} records: ${reason} (dropped so far: ${this.#stats.dropped})`, { records: n })
    this.emit('dropped', { records: n, reason })
    this.#report(err, false)
    // Drops always reach stderr, listeners or not: losing logs must never go unnoticed.
    this.#dropNotice.add(n, reason)
  }

  #reject (n: number, message: string, status: number, details: Array<{ index: number, error: string }>): void {
    this.#stats.rejected += n
    this.emit('rejected', { records: n, status, details })
    this.#report(new ShipperError('MAAP_SHIP_REJECTED', message, { records: n, status }))
  }

  /** Takes a batch out of memory accounting; with `resolve`, it is settled (flush stops waiting for it). */
  #release (batch: Batch, resolve: boolean): void {
    if (!this.#pending.delete(batch)) return
    if (batch.spoolFile !== undefined) this.#replaying = false
    this.#bytes -= batch.body.length
    this.#records -= batch.count
    if (resolve) {
      if (batch.spoolFile !== undefined) this.#removeSpoolFile(batch.spoolFile)
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

  #removeSpoolFile (file: string): void {
    try {
      this.#spool!.remove(file)
    } catch (err) {
      this.#report(new ShipperError('MAAP_SHIP_SPOOL', `delivered spool file ${file} could not be removed and may be sent again: ${(err as Error).message}`, { cause: err }))
    }
  }

  #emitDrain (): void {
    if (!this.#needDrain) return
    this.#needDrain = false
    this.emit('drain')
  }

  /** Errors go to onError and 'error' listeners; with neither, to stderr when `stderr` is set. */
  #report (err: ShipperError, stderr = true): void {
    let heard = false
    if (this.#opts?.onError !== undefined) {
      heard = true
      try { this.#opts.onError(err) } catch { /* the application's callback must not break shipping */ }
    }
    if (this.listenerCount('error') > 0) {
      heard = true
      this.emit('error', err)
    }
    if (!heard && stderr) stderrLine(`maap-shipper: ${err.message}`)
  }

  #until (ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve()
    return new Promise(resolve => this.#waiters.push({ ready, resolve }))
  }

  #wake (): void {
    this.#waiters = this.#waiters.filter(w => {
      if (!w.ready()) return true
      w.resolve()
      return false
    })
  }
}
