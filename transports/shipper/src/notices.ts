// What the application hears and what reaches stderr — decided here, for every way in: the core
// (Shipper), the application-thread side of a worker (thread/app-side.ts, which the winston transport
// uses), and the maap-ship CLI. The rules:
//
//   errors (rejected, spool trouble, protocol) ─► onError + 'error' listeners; stderr only when nobody hears
//   retries ─► 'retry' + 'error'; stderr only for the first failure of a streak, and only when nobody hears
//   drops ─► 'dropped' + 'error'; stderr always (losing logs must never go unnoticed), at most one line a
//            second with the count since the last line, the rest when the notices are flushed (close)
//
// Every line names who prints it (`<prefix>: …`: maap-shipper, maap-winston, maap-ship), so an
// application with two loggers can tell whose records were lost.
import type { EventEmitter } from 'node:events'
import { systemClock, type Clock } from './clock'
import { ShipperError, type ShipperErrorCode } from './errors'
import { stderrLine } from './stderr'

/** One drop line a second at most: a collector that stays down drops a batch every few ms at full rate. */
export const DROP_LINE_MS = 1000

export const DEFAULT_PREFIX = 'maap-shipper'

/** One stderr line under a sender's name: every line the transports print goes through here. */
export function noticeLine (prefix: string, text: string): void {
  stderrLine(`${prefix}: ${text}`)
}

export interface NoticesOptions {
  /** Names the sender in stderr lines. Default 'maap-shipper'. */
  prefix?: string | undefined
  clock?: Clock | undefined
  /** The application's callback for every error; exceptions it throws are swallowed. */
  onError?: ((err: ShipperError) => void) | undefined
  /** Whether someone hears errors; default: onError is set or `emitter` has 'error' listeners. */
  heard?: (() => boolean) | undefined
}

export class Notices {
  readonly prefix: string
  readonly #emitter: EventEmitter
  readonly #clock: Clock
  readonly #onError: ((err: ShipperError) => void) | undefined
  readonly #heard: () => boolean
  readonly #drops: DropLine

  constructor (emitter: EventEmitter, opts: NoticesOptions = {}) {
    this.#emitter = emitter
    this.prefix = opts.prefix ?? DEFAULT_PREFIX
    this.#clock = opts.clock ?? systemClock
    this.#onError = opts.onError
    this.#heard = opts.heard ?? (() => this.#onError !== undefined || emitter.listenerCount('error') > 0)
    this.#drops = new DropLine(this.#clock, text => this.line(text))
  }

  /** An error to tell: onError and 'error' listeners; stderr when nobody hears it and `print` allows. */
  error (err: ShipperError, print = true): void {
    if (this.#onError !== undefined) {
      try { this.#onError(err) } catch { /* the application's callback must not break shipping */ }
    }
    if (this.#emitter.listenerCount('error') > 0) this.#emitter.emit('error', err)
    if (print && !this.#heard()) this.line(err.message)
  }

  /** A send failed and will be retried (`attempt` counts the failures of this streak). */
  retry (event: { attempt: number, delayMs: number, status: number | undefined, records: number, error: ShipperError }): void {
    this.#emitter.emit('retry', event)
    this.error(event.error, event.attempt === 1)
  }

  /** A 'retry' that crossed from a worker thread: stderr hears its first attempt, unheard, as the core's would. */
  relayedRetry (event: { attempt?: number, error?: unknown }): void {
    this.#emitter.emit('retry', event)
    if (event.attempt === 1 && !this.#heard()) this.line(String(event.error))
  }

  /**
   * `n` records are lost for `reason`. `total` is the count of records this side dropped so far;
   * `code` is MAAP_SHIP_DROPPED unless the drop has a cause of its own (MAAP_SHIP_MAP).
   */
  dropped (n: number, reason: string, total: number, code: ShipperErrorCode = 'MAAP_SHIP_DROPPED', cause?: unknown): void {
    this.#emitter.emit('dropped', { records: n, reason })
    this.error(new ShipperError(code, `dropped ${n} records: ${reason} (dropped so far: ${total})`,
      { records: n, ...(cause === undefined ? {} : { cause }) }), false)
    this.#drops.add(n, reason, total)
  }

  /** A tell on an event of the side's own ('failed'): listeners, else stderr. */
  event (name: string, payload: unknown, text: string, heard: boolean): void {
    if (this.#emitter.listenerCount(name) > 0) this.#emitter.emit(name, payload)
    if (!heard) this.line(text)
  }

  /** The drop line still waiting for its second, now (close, exit). */
  flush (): void {
    this.#drops.flush()
  }

  /** One stderr line under this side's name. */
  line (text: string): void {
    noticeLine(this.prefix, text)
  }
}

/**
 * The stderr line for drops. The first drop is printed at once; later ones are summed and printed a
 * second after the last line (timer unref'd), or by flush() — so the final count always gets out.
 */
class DropLine {
  readonly #clock: Clock
  readonly #print: (text: string) => void
  #pending = 0
  #total = 0
  readonly #reasons = new Set<string>()
  #lastLine = -Infinity
  #cancel: (() => void) | undefined

  constructor (clock: Clock, print: (text: string) => void) {
    this.#clock = clock
    this.#print = print
  }

  add (n: number, reason: string, total: number): void {
    this.#pending += n
    this.#total = total
    this.#reasons.add(reason)
    if (this.#clock.now() - this.#lastLine >= DROP_LINE_MS) {
      this.flush()
      return
    }
    this.#cancel ??= this.#clock.timer(() => this.flush(), DROP_LINE_MS - (this.#clock.now() - this.#lastLine), false)
  }

  flush (): void {
    this.#cancel?.()
    this.#cancel = undefined
    if (this.#pending === 0) return
    this.#print(`dropped ${this.#pending} records: ${[...this.#reasons].join(', ')} (dropped so far: ${this.#total})`)
    this.#pending = 0
    this.#reasons.clear()
    this.#lastLine = this.#clock.now()
  }
}
