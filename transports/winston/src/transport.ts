// MaapTransport: `winston.add(new MaapTransport({ url, appName }))`. The application thread only
// serialises (record.ts); a worker thread running the shared shipping core does everything else.
//
// Delivery before 'finish' (winston's known weakness: 'finish' used to fire before remote delivery): logger.end() ends each transport and
// waits for its 'finish'; a Writable emits 'finish' only after _final's callback. _final closes the
// worker's shipper, which answers once every record is acknowledged by the collector — or, at the
// latest after closeTimeout, spooled (spoolDir) or dropped and counted. So the logger's 'finish' means
// delivered. process.exit() without end(): the shipper worker's exit flush (flushOnExit).
import TransportStream from 'winston-transport'
// The app-thread entry: this thread only serialises, and must not load the core's HTTP client.
import { noticeLine, resolveOptions, startShipperThread, THREAD_EVENTS, type FlushResult, type ShipperOptions } from '@maap-event-logger/shipper/app-thread'
import { ShipperError } from './errors'
import { startInProcess, type ShipperHost } from './in-process'
import type { Levels } from './levels'
import { shipperOptions, winstonOptions, type MaapTransportOptions } from './options'
import { RecordSerialiser } from './record'

export class MaapTransport extends TransportStream {
  readonly #thread: ShipperHost
  readonly #record: RecordSerialiser
  readonly #onError: ((err: ShipperError) => void) | undefined
  readonly #closeTimeout: number

  /** Throws ShipperError MAAP_SHIP_INVALID_OPTION (naming the option) for a bad option; never after. */
  constructor (options: MaapTransportOptions = {}) {
    super(winstonOptions(options))
    this.#onError = options.onError
    // The worker client decides what reaches stderr; only this transport knows who hears its 'warn'.
    // It checks the options on the application's stack, so a bad option fails at construction and not
    // later inside the worker; env fallbacks (MAAP_URL, MAAP_API_KEY, MAAP_APP_NAME) resolve there too.
    this.#thread = start(shipperOptions(options), options.worker, () => this.#heard())
    this.#closeTimeout = this.#thread.options.closeTimeout
    this.#record = new RecordSerialiser(this.#thread.options.appName)
    // Shipper events are re-emitted by the transport, with the core's payloads.
    for (const name of THREAD_EVENTS) this.#thread.on(name, (data: unknown) => this.emit(name, data))
    this.#thread.on('error', (err: ShipperError) => this.#warn(err))
    // A dead worker is reported like a drop.
    this.#thread.on('failed', (err: Error) => this.#warn(new ShipperError('MAAP_SHIP_DROPPED', `the shipper's worker thread failed; records it held are lost, later ones are counted as dropped: ${err.message}`, { cause: err })))
  }

  log (info: Record<string | symbol, unknown>, callback?: () => void): void {
    // A line refused after close is counted and reported as dropped by the worker client.
    this.#thread.write(this.#record.line(info, (this as unknown as { levels?: Levels }).levels))
    this.emit('logged', info)
    // Optional, as in winston's own transports: applications and wrappers call log(info) directly.
    if (typeof callback === 'function') callback()
  }

  /**
   * Resolves once every record logged so far is delivered (or rejected, spooled, dropped) — at the
   * latest after `timeoutMs` (default closeTimeout). The counters say which: `undelivered` is 0 only
   * when every record logged so far is in the collector (shipper's FlushResult).
   */
  flush (timeoutMs: number = this.#closeTimeout): Promise<FlushResult> {
    return this.#thread.flush(timeoutMs)
  }

  /**
   * Delivers everything (up to closeTimeout), then spools or drops-and-counts the rest, and stops the
   * worker. Idempotent (the worker client's close() is); never rejects. winston calls it when the
   * transport is removed from a logger.
   */
  close (): Promise<FlushResult> {
    return this.#thread.close()
  }

  override _final (callback: (error?: Error | null) => void): void {
    // Never fail the stream: an error here would leave the logger's 'finish' waiting forever. What
    // could not be delivered is already counted and reported.
    this.close().then(() => callback(), () => callback())
  }

  /**
   * Errors go to onError and as 'warn' — never as 'error': winston re-emits a transport's 'error' on
   * the logger (throwing where the application has no listener), and the pipe from the logger unpipes
   * a transport that emits 'error'.
   */
  #warn (err: ShipperError): void {
    if (this.#onError !== undefined) {
      try { this.#onError(err) } catch { /* the application's callback must not break shipping */ }
    }
    this.emit('warn', err)
  }

  /** Someone besides winston's own forwarding listens: onError, 'warn' on the transport or on its logger. */
  #heard (): boolean {
    if (this.#onError !== undefined) return true
    const forwarder = (this as unknown as { __winstonwarn?: unknown }).__winstonwarn
    const own = this.listeners('warn').filter(l => l !== forwarder).length
    const parent = (this as unknown as { parent?: { listenerCount?: (e: string) => number } }).parent
    return own > 0 || (forwarder !== undefined && (parent?.listenerCount?.('warn') ?? 0) > 0)
  }
}

let fellBack = false

/** The worker client, or the core in this thread: asked for (`worker: false`), or the worker's file cannot be loaded. */
function start (options: Omit<ShipperOptions, 'onError'>, worker: boolean | undefined, heard: () => boolean): ShipperHost {
  if (worker === false) return startInProcess(options, heard, resolveOptions(options))
  // The worker's file may load and still fail before it starts (a bundle that shipped it without its
  // dependencies): the worker client hands everything it was given to a shipper in this thread.
  const fallBack = (err: unknown): ShipperHost => {
    if (!fellBack) {
      fellBack = true
      noticeLine('maap-winston', `the shipper's worker thread could not be started (${String((err as Error).message).split('\n')[0]}); shipping from the application thread instead (pass worker: false to choose this and silence this line)`)
    }
    return startInProcess(options, heard, resolveOptions(options))
  }
  try {
    return startShipperThread(options, { flushOnExit: true, heard, stderrPrefix: 'maap-winston', onUnstarted: fallBack, ...(testEntry === undefined ? {} : { entry: testEntry }) })
  } catch (err) {
    // A bad option: the caller's mistake, thrown. Anything else is the worker's file (a bundler moved
    // or dropped it): shipping from this thread beats failing the application. Said once per process.
    if (err instanceof ShipperError) throw err
    return fallBack(err)
  }
}

/** @internal A worker file for tests (one that fails to start); undefined in use. */
let testEntry: string | undefined
export function setWorkerEntryForTests (entry: string | undefined): void { testEntry = entry }
