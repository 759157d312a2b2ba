// The application-thread side of the transport's worker. write() only queues a serialised line; lines
// cross to the worker in one message per event-loop turn (or per CHUNK lines, so a burst of logging
// starts shipping while it is still going on). flush()/close() are requests answered by id. The worker
// is unref'd: only a pending flush/close holds the process, and the exit hook (exit.ts) covers the rest.
import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import type { HostMessage, HostReply, ShipperStats } from '@maap-event-logger/shipper'
import { RUNNING, SETTLED, type ExitMessage, type WorkerData } from './protocol'

const CHUNK = 1000

/** Counters for a worker that is gone: nothing it held can be accounted for any more. */
const GONE: ShipperStats = Object.freeze({ sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 })

/**
 * Emits `'event'` (name, data) for every shipper event the worker forwards, and `'failed'` (Error) if
 * the worker thread itself dies.
 */
export class ShipperThread extends EventEmitter {
  readonly #worker: Worker
  readonly #state: Int32Array
  #lines: string[] = []
  #nextId = 1
  readonly #waiting = new Map<number, (stats: ShipperStats) => void>()
  #closing: Promise<ShipperStats> | undefined
  #gone = false
  #exitDeadline = 0

  constructor (options: Record<string, unknown>) {
    super()
    const data: WorkerData = { options, state: new SharedArrayBuffer(4) }
    this.#state = new Int32Array(data.state)
    this.#worker = new Worker(require.resolve('./worker'), { workerData: data })
    this.#worker.on('message', (reply: HostReply) => {
      if (reply.code === 'EVENT') this.emit('event', reply.name, reply.data)
      else this.#waiting.get(reply.id)?.(reply.stats)
    })
    this.#worker.on('error', err => this.emit('failed', err))
    this.#worker.on('exit', () => {
      this.#gone = true
      for (const done of [...this.#waiting.values()]) done(GONE)
    })
    // After the listeners: adding a 'message' listener refs the port again.
    this.#worker.unref()
  }

  /** Queues one NDJSON line; false once the thread no longer takes records (closing or gone). */
  write (line: string): boolean {
    if (this.#closing !== undefined || this.#gone) return false
    if (this.#lines.length === 0) setImmediate(() => this.#send())
    this.#lines.push(line)
    if (this.#lines.length >= CHUNK) this.#send()
    return true
  }

  flush (timeoutMs?: number): Promise<ShipperStats> {
    return this.#request(timeoutMs === undefined ? { code: 'FLUSH' } : { code: 'FLUSH', timeoutMs })
  }

  close (): Promise<ShipperStats> {
    this.#closing ??= this.#request({ code: 'CLOSE' })
    return this.#closing
  }

  /**
   * Process 'exit', step 1 (synchronous): hand over what is queued and ask the worker to close. Every
   * thread starts before any waits, so several transports deliver in parallel.
   */
  beginExit (boundMs: number): void {
    if (this.#gone || Atomics.load(this.#state, 0) === SETTLED) return
    this.#send()
    this.#worker.postMessage({ code: 'EXIT' } satisfies ExitMessage)
    this.#exitDeadline = Date.now() + boundMs
  }

  /** Step 2: block this thread until the worker has settled everything, or the bound has passed. */
  waitExit (): boolean {
    if (this.#exitDeadline === 0) return true
    for (;;) {
      if (Atomics.load(this.#state, 0) === SETTLED) return true
      const left = this.#exitDeadline - Date.now()
      if (left <= 0) return false
      Atomics.wait(this.#state, 0, RUNNING, left)
    }
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
