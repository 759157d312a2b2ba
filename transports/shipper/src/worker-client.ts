// The application-thread side of a shipper in a worker thread (worker.ts is the other side). write()
// only queues a serialised line; lines cross to the worker in one message per event-loop turn (or per
// CHUNK lines, so a burst of logging starts shipping while it is still going on). flush() and close()
// are requests answered by id. The worker is unref'd: only a pending flush/close holds the process, and
// the opt-in exit flush (exit-flush.ts) covers process.exit() and an event loop that runs empty.
import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import { ShipperError, type ShipperErrorCode } from './errors'
import { flushOnExit, forget } from './exit-flush'
import { resolveOptions, type ShipperOptions } from './options'
import type { ShipperStats } from './stats'
import { stderrLine } from './stderr'
import { RUNNING, SETTLED, type HostMessage, type HostReply, type WorkerData } from './worker-host'

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
}

/**
 * Events: the core's `'sent'`, `'retry'`, `'rejected'`, `'dropped'`, `'spooled'` (the Shipper's payloads,
 * errors inside them as text); `'error'` (ShipperError); `'failed'` (Error): the worker thread itself died
 * and what it held is lost. Unheard, `'error'` and `'failed'` go to stderr, as the Shipper prints them.
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

  constructor (options: Omit<ShipperOptions, 'onError'>, { flushOnExit: onExit = false }: StartWorkerOptions) {
    super()
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

  /** Queues one NDJSON line; false once the worker no longer takes records (closing or gone). */
  write (line: string): boolean {
    if (this.#closing !== undefined || this.#gone) return false
    if (this.#lines.length === 0) setImmediate(() => this.#send())
    this.#lines.push(line)
    if (this.#lines.length >= CHUNK) this.#send()
    return true
  }

  /** Resolves when everything written before the call is settled (with `timeoutMs`, at the latest then). */
  flush (timeoutMs?: number): Promise<ShipperStats> {
    return this.#request(timeoutMs === undefined ? { code: 'FLUSH' } : { code: 'FLUSH', timeoutMs })
  }

  /** Delivers (up to closeTimeout), spools or drops the rest, stops the worker. Idempotent, never rejects. */
  close (): Promise<ShipperStats> {
    this.#closing ??= this.#request({ code: 'CLOSE' }).then(stats => {
      forget(this)
      return stats
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
    if (name !== 'error') {
      this.emit(name, data)
      // Unheard, retries reach stderr only at the start of a streak (the Shipper's rule).
      if (name === 'retry' && (data as { attempt?: number }).attempt === 1 && this.listenerCount('error') === 0) {
        stderrLine(`maap-shipper: ${String((data as { error?: unknown }).error)}`)
      }
      return
    }
    const e = data as { code?: string, message?: string, records?: number, status?: number }
    const err = new ShipperError((e.code ?? 'MAAP_SHIP_PROTOCOL') as ShipperErrorCode, e.message ?? 'unknown shipper error', {
      ...(e.records === undefined ? {} : { records: e.records }),
      ...(e.status === undefined ? {} : { status: e.status })
    })
    if (this.listenerCount('error') > 0) this.emit('error', err)
    // Drops the worker has printed itself; retries see above.
    else if (err.code !== 'MAAP_SHIP_DROPPED' && err.code !== 'MAAP_SHIP_RETRY') stderrLine(`maap-shipper: ${err.message}`)
  }

  #fail (err: Error): void {
    if (this.#failed) return
    this.#failed = true
    if (this.listenerCount('failed') > 0) this.emit('failed', err)
    else stderrLine(`maap-shipper: the shipper's worker thread failed; records it held are lost: ${err.message}`)
  }

  #send (): void {
    if (this.#lines.length === 0 || this.#gone) return
    this.#worker.postMessage({ code: 'WRITE', lines: this.#lines } satisfies HostMessage)
    this.#lines = []
  }

  #request (msg: { code: 'FLUSH', timeoutMs?: number } | { code: 'CLOSE' }): Promise<ShipperStats> {
    if (this.#gone) return Promise.resolve(GONE)
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
