// The application-thread side of a shipper in a worker thread (worker.ts is the other side). write()
// only queues a serialised line; lines cross to the worker in one message per event-loop turn (or per
// CHUNK lines, so a burst of logging starts shipping while it is still going on). flush() and close()
// are requests answered by id. The worker is unref'd: only a pending flush/close holds the process, and
// the opt-in exit flush (exit-flush.ts) covers process.exit() and an event loop that runs empty.
import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import { ShipperError } from './errors'
import { flushOnExit, forget } from './exit-flush'
import { resolveOptions, type ShipperOptions } from './options'
import type { ShipperStats } from './stats'
import { stderrLine } from './stderr'
import { errorFromData, RUNNING, SETTLED, type ErrorData, type HostMessage, type HostReply, type WorkerData } from './worker-host'

const CHUNK = 1000

/** Counters for a worker that is gone: nothing it held can be accounted for any more. */
const GONE: ShipperStats = Object.freeze({ sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 })

export interface StartWorkerOptions {
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
   * worker's 'error' (for a dead worker: to its 'failed').
   */
  heard?: () => boolean
  /** Names the sender in the stderr lines printed on this thread, e.g. 'maap-winston'. Default 'maap-shipper'. */
  stderrPrefix?: string
}

/**
 * Events: the core's `'sent'`, `'retry'`, `'rejected'`, `'dropped'`, `'spooled'` (the Shipper's payloads,
 * errors inside them as text); `'error'` (ShipperError); `'failed'` (Error): the worker thread itself died
 * and what it held is lost. Unheard, errors go to stderr by the Shipper's rules (see #report), so every
 * front end on a worker prints the same things.
 */
export class ShipperWorker extends EventEmitter {
  readonly #worker: Worker
  readonly #state: Int32Array
  #lines: string[] = []
  #nextId = 1
  readonly #waiting = new Map<number, (stats: ShipperStats) => void>()
  #closing: Promise<ShipperStats> | undefined
  #gone = false
  #failed = false
  #exitDeadline = 0
  /** Lines refused because the worker was closing or gone; the worker never saw them, so they are counted here. */
  #writtenAfterClose = 0
  /** Counters of the closed worker, so that a flush() after close() still answers with them. */
  #final: ShipperStats | undefined
  readonly #heard: (event: 'error' | 'failed') => boolean
  readonly #stderrPrefix: string

  constructor (options: Omit<ShipperOptions, 'onError'>, { flushOnExit: onExit = false, heard, stderrPrefix = 'maap-shipper' }: StartWorkerOptions) {
    super()
    this.#heard = heard ?? (event => this.listenerCount(event) > 0)
    this.#stderrPrefix = stderrPrefix
    // On the caller's stack, so a bad option throws here and not later inside the worker.
    const { closeTimeout } = resolveOptions(options)
    const data: WorkerData = { options, state: new SharedArrayBuffer(4) }
    this.#state = new Int32Array(data.state!)
    this.#worker = new Worker(require.resolve('./worker'), { workerData: data })
    this.#worker.on('message', (reply: HostReply) => {
      if (reply.code === 'EVENT') this.#onEvent(reply.name, reply.data)
      else this.#waiting.get(reply.id)?.(reply.stats)
    })
    this.#worker.on('error', err => this.#fail(err))
    this.#worker.on('exit', code => {
      this.#gone = true
      forget(this)
      if (this.#closing === undefined || this.#waiting.size > 0) {
        this.#fail(new Error(`shipper worker exited (code ${code}) with ${this.#waiting.size} request(s) unanswered; undelivered records are lost`))
      }
      for (const done of [...this.#waiting.values()]) done(GONE)
    })
    // After the listeners: adding a 'message' listener refs the port again.
    this.#worker.unref()
    if (onExit) flushOnExit(this, closeTimeout)
  }

  /** Queues one NDJSON line; false, and the line counted as dropped, once the worker no longer takes records (closing or gone). */
  write (line: string): boolean {
    if (this.#closing !== undefined || this.#gone) {
      this.#dropWrittenAfterClose()
      return false
    }
    if (this.#lines.length === 0) setImmediate(() => this.#send())
    this.#lines.push(line)
    if (this.#lines.length >= CHUNK) this.#send()
    return true
  }

  /** Resolves when everything written before the call is settled (with `timeoutMs`, at the latest then). */
  flush (timeoutMs?: number): Promise<ShipperStats> {
    return this.#request(timeoutMs === undefined ? { code: 'FLUSH' } : { code: 'FLUSH', timeoutMs })
      .then(stats => this.#withWrittenAfterClose(stats))
  }

  /** Delivers (up to closeTimeout), spools or drops the rest, stops the worker. Idempotent, never rejects. */
  close (): Promise<ShipperStats> {
    this.#closing ??= this.#request({ code: 'CLOSE' }).then(stats => {
      forget(this)
      this.#final = stats
      return this.#withWrittenAfterClose(stats)
    })
    return this.#closing
  }

  /**
   * @internal Exit flush, step 1 (synchronous): hand over what is queued and ask the worker to close.
   * Every worker starts before any waits, so several deliver in parallel.
   */
  beginExit (boundMs: number): void {
    if (this.#gone || Atomics.load(this.#state, 0) === SETTLED) return
    this.#send()
    this.#worker.postMessage({ code: 'EXIT' } satisfies HostMessage)
    this.#exitDeadline = Date.now() + boundMs
  }

  /** @internal Step 2: block this thread until the worker has settled everything, or the bound has passed. */
  waitExit (): boolean {
    if (this.#exitDeadline === 0) return true
    for (;;) {
      if (Atomics.load(this.#state, 0) === SETTLED) return true
      const left = this.#exitDeadline - Date.now()
      if (left <= 0) return false
      Atomics.wait(this.#state, 0, RUNNING, left)
    }
  }

  #onEvent (name: string, data: unknown): void {
    if (name === 'error') {
      const err = errorFromData(data as ErrorData)
      // The worker prints its drops itself; retries are printed from their 'retry' event, below.
      this.#report(err, err.code !== 'MAAP_SHIP_DROPPED' && err.code !== 'MAAP_SHIP_RETRY')
      return
    }
    this.emit(name, data)
    // Retries are expected: unheard, only the first failure of a streak reaches stderr. Only the
    // 'retry' event carries the attempt number.
    const retry = data as { attempt?: number, error?: unknown }
    if (name === 'retry' && retry.attempt === 1 && !this.#heard('error')) this.#stderr(String(retry.error))
  }

  /** The Shipper's #report, on this thread: to 'error' listeners; to stderr as well when unheard and `printUnheard`. */
  #report (err: ShipperError, printUnheard: boolean): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    if (printUnheard && !this.#heard('error')) this.#stderr(err.message)
  }

  #fail (err: Error): void {
    if (this.#failed) return
    this.#failed = true
    if (this.listenerCount('failed') > 0) this.emit('failed', err)
    if (!this.#heard('failed')) this.#stderr(`the shipper's worker thread failed; records it held are lost, later ones are counted as dropped: ${err.message}`)
  }

  /**
   * Losing a record must never go unnoticed, so a drop reaches stderr even when someone listens (as the
   * Shipper's drops do) — but only the 1st, 10th, 100th …: an application that goes on logging after
   * close() must not flood stderr.
   */
  #dropWrittenAfterClose (): void {
    const n = ++this.#writtenAfterClose
    this.emit('dropped', { records: 1, reason: 'write after close' })
    const err = new ShipperError('MAAP_SHIP_DROPPED', `dropped 1 record: write after close (written after close so far: ${n})`, { records: 1 })
    this.#report(err, false)
    if (Number.isInteger(Math.log10(n))) this.#stderr(err.message)
  }

  #withWrittenAfterClose (stats: ShipperStats): ShipperStats {
    return this.#writtenAfterClose === 0 ? stats : { ...stats, dropped: stats.dropped + this.#writtenAfterClose }
  }

  #stderr (text: string): void {
    stderrLine(`${this.#stderrPrefix}: ${text}`)
  }

  #send (): void {
    if (this.#lines.length === 0 || this.#gone) return
    this.#worker.postMessage({ code: 'WRITE', lines: this.#lines } satisfies HostMessage)
    this.#lines = []
  }

  #request (msg: { code: 'FLUSH', timeoutMs?: number } | { code: 'CLOSE' }): Promise<ShipperStats> {
    // A closed worker answers nothing more (its port is closed): its last counters are the answer.
    if (this.#gone || this.#final !== undefined) return Promise.resolve(this.#final ?? GONE)
    this.#send()
    const id = this.#nextId++
    // Waiting for an answer is real work: hold the process until it comes.
    this.#worker.ref()
    return new Promise(resolve => {
      this.#waiting.set(id, stats => {
        this.#waiting.delete(id)
        if (this.#waiting.size === 0) this.#worker.unref()
        resolve(stats)
      })
      this.#worker.postMessage({ ...msg, id } satisfies HostMessage)
    })
  }
}

/** Starts a Shipper in a worker thread. Throws ShipperError MAAP_SHIP_INVALID_OPTION for a bad option. */
export function startShipperWorker (options: Omit<ShipperOptions, 'onError'> = {}, start: StartWorkerOptions = {}): ShipperWorker {
  return new ShipperWorker(options, start)
}
