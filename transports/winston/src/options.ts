// MaapTransport's options are winston's (level, format, silent, …) plus every shipper option. They are
// split once at construction: winston's go to TransportStream, the rest to the worker's Shipper.
import type TransportStream from 'winston-transport'
import type { ShipperError, ShipperOptions } from '@maap-event-logger/shipper/app-thread'

export interface MaapTransportOptions extends Omit<TransportStream.TransportStreamOptions, 'log' | 'logv' | 'close'>, Omit<ShipperOptions, 'onError'> {
  /**
   * Called on the application thread with every error the core reports (retries, rejections, drops,
   * spool trouble) — the same errors the transport emits as 'warn'. Exceptions it throws are swallowed.
   */
  onError?: (err: ShipperError) => void
  /**
   * true (default): the shipper runs in a worker thread and this thread only serialises. false: it runs
   * in this thread — no worker file to resolve (bundled applications) and nothing to start (serverless
   * functions). A worker whose file cannot be loaded falls back to false, with one line on stderr.
   */
  worker?: boolean
}

// Everything else is a shipper option. Functions (format, callbacks) cannot cross to a worker thread.
const APP_THREAD_ONLY = new Set(['format', 'level', 'silent', 'handleExceptions', 'handleRejections', 'log', 'logv', 'close', 'onError', 'highWaterMark', 'worker'])

export function winstonOptions (options: MaapTransportOptions): TransportStream.TransportStreamOptions {
  const { format, level, silent, handleExceptions, handleRejections } = options
  return { format, level, silent, handleExceptions, handleRejections }
}

export function shipperOptions (options: MaapTransportOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (!APP_THREAD_ONLY.has(key) && typeof value !== 'function' && value !== undefined) out[key] = value
  }
  return out
}
