// maapDestination: the shipping core in the application's own process, for serverless functions and
// bundled applications — `pino(opts, maapDestination({ url, appName }))`. No worker thread and no file
// to resolve at run time (the worker target is what bundlers break), and a flush that is a promise:
//
//   logger.info() ─► pino serialises ─► write(line) ─► Shipper (batch, POST, retry) ─► collector
//   await dest.flush() ─► Shipper.flush(timeout) ─► FlushResult { delivered, undelivered, … }
//
// What pino 10 asks of a destination: write(string) — one record per call, ending in '\n'. It calls
// flush(cb) for logger.flush(cb) when there is one, and treats `pino(dest)` as a stream only when the
// object has `writable` (else it reads it as options). It registers nothing at exit for a destination
// it did not build, so the exit behaviour here is ours: below.
//
// Exit (the shipper's loop-end.ts): when the event loop runs empty the destination closes itself, which
// delivers what is left (up to closeTimeout); process.exit() leaves no loop, so what is still held is
// reported on stderr, never silently lost. Serverless code awaits flush() before returning instead.
import { closeAtLoopEnd, Shipper, ShipperError, type FlushResult, type ShipperOptions } from '@maap-event-logger/shipper'
import { noticeLine } from '@maap-event-logger/shipper/app-thread'

export interface MaapDestinationOptions extends ShipperOptions {
  /** How long flush() waits for delivery, in ms, when called without a timeout. Default `closeTimeout` (8000). */
  flushTimeout?: number
}

export type FlushCallback = (err: Error | null, result?: FlushResult) => void

export interface MaapDestination {
  /** pino checks it to take `pino(dest)` as a destination rather than as options. */
  readonly writable: true
  /** The core: its stats() and events ('sent', 'retry', 'dropped', …). */
  readonly shipper: Shipper
  /** One pino line (pino calls this). Never throws. */
  write: (line: string) => boolean
  /**
   * Resolves once every record written so far is delivered, or after `timeoutMs` (default
   * `flushTimeout`) with what is not in `undelivered`. Never rejects. Also `flush(cb)`, as
   * `logger.flush(cb)` calls it: `cb(null, result)`.
   */
  flush: (timeoutOrCallback?: number | FlushCallback) => Promise<FlushResult>
  /** Delivers for up to closeTimeout, then spools or drops (and counts) the rest. Idempotent. */
  close: () => Promise<FlushResult>
  /** The stream name for close(), for code that ends its destinations. */
  end: () => void
}

export function maapDestination (options: MaapDestinationOptions = {}): MaapDestination {
  const { flushTimeout, ...shipperOptions } = options
  const chosenTimeout = positive(flushTimeout)
  // In a function a backoff from an earlier invocation must not eat this one's flush (a collector's
  // Retry-After is kept: shipper.ts).
  const shipper = new Shipper({ serverless: true, ...shipperOptions }, process.env, { prefix: 'maap-pino' })
  const timeout = chosenTimeout ?? shipper.closeTimeout
  let closing: Promise<FlushResult> | undefined

  const dest: MaapDestination = {
    writable: true,
    shipper,
    write (line: string): boolean {
      // pino ends each record with '\n'; the core takes one line without it.
      shipper.write(line.charCodeAt(line.length - 1) === 10 ? line.slice(0, -1) : line)
      return true
    },
    flush (arg?: number | FlushCallback): Promise<FlushResult> {
      const cb = typeof arg === 'function' ? arg : undefined
      const flushed = closing ?? shipper.flush(typeof arg === 'number' ? arg : timeout)
      if (cb !== undefined) {
        // A callback that throws must not become an unhandled rejection (which ends the process):
        // it is the application's error, told on stderr.
        flushed.then(result => cb(null, result), err => cb(err as Error))
          .catch(err => noticeLine('maap-pino', `the flush callback threw: ${String((err as Error)?.message ?? err)}`))
      }
      return flushed
    },
    close (): Promise<FlushResult> {
      if (closing === undefined) {
        forget()
        closing = shipper.close()
      }
      return closing
    },
    end (): void {
      void dest.close()
    }
  }
  const forget = closeAtLoopEnd({ close: () => dest.close(), stats: () => shipper.stats() }, 'maap-pino')
  return dest
}

function positive (value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value
  throw new ShipperError('MAAP_SHIP_INVALID_OPTION', `option "flushTimeout" must be a positive integer, got ${JSON.stringify(value)}`)
}
