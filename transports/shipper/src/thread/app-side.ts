// The application-thread side of a shipper in a worker thread (worker-side.ts is the other side, the
// messages are in protocol.ts). write() only queues a serialised line; lines cross to the worker in one
// message per event-loop turn (or per CHUNK lines, so a burst of logging starts shipping while it is
// still going on). flush() and close() are requests answered by id. The worker is unref'd: only a
// pending flush/close holds the process, and the opt-in exit flush (exit-flush.ts) covers
// process.exit() and an event loop that runs empty.
//
// This module must not load the Shipper (nor undici): the application thread only queues lines.
import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import type { Clock } from '../clock'
import { Notices } from '../notices'
import { resolveOptions, type ResolvedOptions, type ShipperOptions } from '../options'
import type { FlushResult } from '../delivery'
import { flushOnExit, forget, type ExitFlushable } from './exit-flush'
import { errorFromData, FORWARDED, RUNNING, SETTLED, unknownMessage, type ErrorData, type HostMessage, type HostReply, type OwnTotals, type WorkerData } from './protocol'

const CHUNK = 1000

/** Counters for a worker that is gone: nothing it held can be accounted for any more. */
const GONE = Object.freeze({ sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 })

const forwarded = new Set<string>(FORWARDED)

export interface StartThreadOptions {
  /**
   * At process 'exit' (process.exit(), or the event loop running empty) hand the worker what is queued,
   * ask it to close and block the exiting thread until it has settled — for at most closeTimeout +
   * EXIT_MARGIN_MS. Default false.
   */
  flushOnExit?: boolean
  /**
   * Whether the front end's user hears its errors, which decides what goes to stderr instead. A front
   * end that re-emits errors under its own name (winston's 'warn') always listens to 'error' and
   * 'failed' itself, so only it can say whether anyone hears them. Default: someone listens to this
   * object's 'error' (for a dead worker: to its 'failed').
   */
  heard?: () => boolean
  /** Names the sender in every stderr line, on both threads, e.g. 'maap-winston'. Default 'maap-shipper'. */
  stderrPrefix?: string
  /** Time for this thread's notices (the once-a-second drop line); tests pass one they move by hand. */
  clock?: Clock
  /**
   * The worker failed before it started (its file loads, but not what it needs: a bundle shipped
   * without the worker's dependencies). Nothing it was sent can have been handled, so nothing is lost:
   * return a shipper that takes over — it gets every line written so far, in order, then the flush and
   * close requests still waiting, and everything after. Without it, such a failure is 'failed'.
   */
  onUnstarted?: (err: Error) => ThreadReplacement
  /** @internal The worker's file (tests start one that fails). Default: this package's entry. */
  entry?: string
}

/** What takes over from a worker that never started (StartThreadOptions.onUnstarted). */
export interface ThreadReplacement extends EventEmitter {
  write: (line: string) => boolean
  flush: (timeoutMs?: number) => Promise<FlushResult>
  close: () => Promise<FlushResult>
}

type Request = { code: 'FLUSH', timeoutMs?: number } | { code: 'CLOSE' }

/**
 * Events: the core's `'sent'`, `'retry'`, `'rejected'`, `'dropped'`, `'spooled'` (the Shipper's payloads,
 * errors inside them as text); `'error'` (ShipperError); `'failed'` (Error): the worker thread itself died
 * and what it held is lost. What reaches stderr follows notices.ts, so every front end on a worker
 * prints the same things.
 */
export class ShipperThread extends EventEmitter implements ExitFlushable {
  /** The options the worker runs with, checked and completed from the environment on the caller's stack. */
  readonly options: ResolvedOptions
  readonly #worker: Worker
  readonly #state: Int32Array
  readonly #notices: Notices
  readonly #heard: (event: 'error' | 'failed') => boolean
  #lines: string[] = []
  #nextId = 1
  readonly #waiting = new Map<number, (stats: FlushResult) => void>()
  /** Requests not answered yet, to hand to a replacement if the worker never starts. */
  readonly #asked = new Map<number, Request>()
  /** Lines posted before the worker said READY: a worker that fails before then handled none of them. */
  #early: string[] | undefined
  readonly #onUnstarted: ((err: Error) => ThreadReplacement) | undefined
  #replacement: ThreadReplacement | undefined
  #closing: Promise<FlushResult> | undefined
  #gone = false
  #failed = false
  #exitDeadline = 0
  /** Lines refused because the worker was closing or gone; the worker never saw them, so they are counted here. */
  #writtenAfterClose = 0
  /** Counters of the closed worker, so that a flush() after close() still answers with them. */
  #final: FlushResult | undefined
  /** Lines handed to write(), and how many of them an answer has accounted for (a dead worker's are lost). */
  #linesWritten = 0
  #linesReported = 0
  #linesAccounted = 0

  constructor (options: Omit<ShipperOptions, 'onError'>, { flushOnExit: onExit = false, heard, stderrPrefix, clock, onUnstarted, entry }: StartThreadOptions) {
    super()
    this.#onUnstarted = onUnstarted
    // Kept only for a caller that can take over; READY ends it.
    this.#early = onUnstarted === undefined ? undefined : []
    this.#heard = heard ?? (event => this.listenerCount(event) > 0)
    this.#notices = new Notices(this, { prefix: stderrPrefix, clock, heard: () => this.#heard('error') })
    // On the caller's stack, so a bad option throws here and not later inside the worker.
    this.options = resolveOptions(options)
    const { closeTimeout } = this.options
    const data: WorkerData = { options, state: new SharedArrayBuffer(4), prefix: this.#notices.prefix }
    this.#state = new Int32Array(data.state!)
    this.#worker = new Worker(entry ?? require.resolve('./entry'), { workerData: data })
    this.#worker.on('message', (reply: HostReply) => this.#onReply(reply))
    this.#worker.on('error', err => {
      if (this.#early !== undefined && this.#onUnstarted !== undefined) this.#replace(err)
      else this.#fail(err)
    })
    this.#worker.on('exit', code => {
      this.#gone = true
      forget(this)
      if (this.#replacement !== undefined) return
      if (this.#closing === undefined || this.#waiting.size > 0) {
        this.#fail(new Error(`shipper worker exited (code ${code}) with ${this.#waiting.size} request(s) unanswered; undelivered records are lost`))
      }
      for (const done of [...this.#waiting.values()]) done(this.#goneResult())
    })
    // After the listeners: adding a 'message' listener refs the port again.
    this.#worker.unref()
    if (onExit) flushOnExit(this, closeTimeout)
  }

  /** Queues one NDJSON line; false, and the line counted as dropped, once the worker no longer takes records (closing or gone). */
  write (line: string): boolean {
    if (this.#replacement !== undefined) return this.#replacement.write(line)
    this.#linesWritten++
    if (this.#closing !== undefined || this.#gone) {
      this.#notices.dropped(1, 'write after close', ++this.#writtenAfterClose)
      return false
    }
    if (this.#lines.length === 0) setImmediate(() => this.#send())
    this.#lines.push(line)
    if (this.#lines.length >= CHUNK) this.#send()
    return true
  }

  /** Resolves when everything written before the call is settled (with `timeoutMs`, at the latest then). */
  flush (timeoutMs?: number): Promise<FlushResult> {
    if (this.#replacement !== undefined && this.#closing === undefined) return this.#replacement.flush(timeoutMs)
    return this.#request(timeoutMs === undefined ? { code: 'FLUSH' } : { code: 'FLUSH', timeoutMs })
      .then(stats => this.#withWrittenAfterClose(stats))
  }

  /** Delivers (up to closeTimeout), spools or drops the rest, stops the worker. Idempotent, never rejects. */
  close (): Promise<FlushResult> {
    this.#closing ??= this.#request({ code: 'CLOSE' }).then(stats => {
      forget(this)
      this.#final = stats
      // Drops refused on this thread: their last count gets out now.
      this.#notices.flush()
      return this.#withWrittenAfterClose(stats)
    })
    return this.#closing
  }

  /** @internal Exit flush, step 1 (synchronous): hand over what is queued and ask the worker to close. */
  beginExit (boundMs: number): void {
    if (this.#gone || this.#replacement !== undefined || Atomics.load(this.#state, 0) === SETTLED) return
    this.#send()
    this.#worker.postMessage({ code: 'EXIT' } satisfies HostMessage)
    this.#exitDeadline = Date.now() + boundMs
  }

  /** @internal Step 2: block this thread until the worker has settled everything, or the bound has passed. */
  waitExit (): boolean {
    this.#notices.flush()
    if (this.#exitDeadline === 0) return true
    for (;;) {
      if (Atomics.load(this.#state, 0) === SETTLED) return true
      const left = this.#exitDeadline - Date.now()
      if (left <= 0) return false
      Atomics.wait(this.#state, 0, RUNNING, left)
    }
  }

  /** @internal */
  gaveUp (boundMs: number): void {
    this.#notices.line(`exit flush gave up after ${boundMs} ms; records not yet delivered or spooled are lost`)
  }

  #onReply (reply: HostReply): void {
    switch (reply?.code) {
      case 'READY':
        this.#early = undefined
        return
      case 'EVENT':
        this.#onEvent(reply.name, reply.data)
        return
      case 'FLUSHED':
      case 'CLOSED': {
        const done = this.#waiting.get(reply.id)
        if (done !== undefined) {
          done(this.#answered(reply.stats, reply.own))
          return
        }
      }
    }
    this.#protocolError(reply)
  }

  #onEvent (name: string, data: unknown): void {
    if (name === 'error') {
      const err = errorFromData(data as ErrorData)
      // The worker prints its drops itself; retries are printed from their 'retry' event, below.
      this.#notices.error(err, err.code !== 'MAAP_SHIP_DROPPED' && err.code !== 'MAAP_SHIP_RETRY' && err.code !== 'MAAP_SHIP_MAP')
    } else if (name === 'retry') {
      this.#notices.relayedRetry(data as { attempt?: number, error?: unknown })
    } else if (forwarded.has(name)) {
      this.emit(name, data)
    } else {
      this.#protocolError({ code: 'EVENT', name })
    }
  }

  /** The worker speaks a protocol this side does not know: say so, and stop it (thread-stream does the same). */
  #protocolError (msg: unknown): void {
    this.#notices.error(unknownMessage('application thread', msg))
    void this.#worker.terminate()
  }

  #fail (err: Error): void {
    if (this.#failed) return
    this.#failed = true
    this.#notices.event('failed', err, `the shipper's worker thread failed; records it held are lost, later ones are counted as dropped: ${err.message}`, this.#heard('failed'))
  }

  #withWrittenAfterClose (stats: FlushResult): FlushResult {
    const n = this.#writtenAfterClose
    if (n === 0) return stats
    return {
      ...stats,
      dropped: stats.dropped + n,
      written: stats.written + n,
      undelivered: stats.undelivered + n,
      notDelivered: { ...stats.notDelivered, dropped: stats.notDelivered.dropped + n }
    }
  }

  /**
   * An answer from the worker: what it accounted for, so that a dead worker's loss can be told. Its
   * running totals, not the answer's window: overlapping flushes report the same records twice.
   */
  #answered (result: FlushResult, own: OwnTotals | undefined): FlushResult {
    if (own !== undefined) {
      this.#linesReported = Math.max(this.#linesReported, own.written)
      this.#linesAccounted = Math.max(this.#linesAccounted, own.settled)
    }
    return result
  }

  /** The answer for a worker that is gone: every line it did not account for is lost. */
  #goneResult (): FlushResult {
    const lost = this.#linesWritten - this.#writtenAfterClose - this.#linesAccounted
    const written = this.#linesWritten - this.#writtenAfterClose - this.#linesReported
    this.#linesReported += written
    this.#linesAccounted += lost
    return { ...GONE, written, delivered: 0, undelivered: lost, notDelivered: { pending: 0, spooled: 0, rejected: 0, dropped: lost } }
  }

  /**
   * The worker failed before READY: it handled nothing. The replacement gets every line, in order, and
   * the requests still waiting; the worker's own events and exit are no longer this object's business.
   */
  #replace (err: Error): void {
    const lines = [...this.#early!, ...this.#lines]
    this.#early = undefined
    this.#lines = []
    const replacement = this.#onUnstarted!(err)
    this.#replacement = replacement
    forget(this)
    for (const name of [...FORWARDED, 'error']) replacement.on(name, (data: unknown) => this.emit(name, data))
    for (const line of lines) replacement.write(line)
    for (const [id, msg] of [...this.#asked]) {
      const done = this.#waiting.get(id)!
      const answer = msg.code === 'CLOSE' ? replacement.close() : replacement.flush(msg.timeoutMs)
      void answer.then(done)
    }
  }

  #send (): void {
    if (this.#lines.length === 0 || this.#gone || this.#replacement !== undefined) return
    this.#early?.push(...this.#lines)
    this.#worker.postMessage({ code: 'WRITE', lines: this.#lines } satisfies HostMessage)
    this.#lines = []
  }

  #request (msg: Request): Promise<FlushResult> {
    if (this.#replacement !== undefined) return msg.code === 'CLOSE' ? this.#replacement.close() : this.#replacement.flush(msg.timeoutMs)
    // A closed worker answers nothing more (its port is closed): its last counters are the answer.
    if (this.#final !== undefined) return Promise.resolve(this.#final)
    if (this.#gone) return Promise.resolve(this.#goneResult())
    this.#send()
    const id = this.#nextId++
    // Waiting for an answer is real work: hold the process until it comes.
    this.#worker.ref()
    return new Promise(resolve => {
      this.#asked.set(id, msg)
      this.#waiting.set(id, stats => {
        this.#waiting.delete(id)
        this.#asked.delete(id)
        if (this.#waiting.size === 0) this.#worker.unref()
        resolve(stats)
      })
      this.#worker.postMessage({ ...msg, id } satisfies HostMessage)
    })
  }
}

/** Starts a Shipper in a worker thread. Throws ShipperError MAAP_SHIP_INVALID_OPTION for a bad option. */
export function startShipperThread (options: Omit<ShipperOptions, 'onError'> = {}, start: StartThreadOptions = {}): ShipperThread {
  return new ShipperThread(options, start)
}
