// Options: read once at construction, checked with messages that name the option, then frozen.
// Every default lives here and is documented in README.md (options table).

import { invalidOption, type ShipperError } from './errors'

export interface ShipperOptions {
  /** Collector base URL (or its full `/logs` URL). Env MAAP_URL. Default http://127.0.0.1:8181. */
  url?: string
  /** Sent as `Authorization: Bearer <apiKey>`. Env MAAP_API_KEY. */
  apiKey?: string
  /** app_name for records without one. Env MAAP_APP_NAME. */
  appName?: string
  /** Records per batch. Default 1000. */
  batchSize?: number
  /** Bytes of NDJSON per batch (before compression). Default 1 MiB. */
  batchBytes?: number
  /** Milliseconds a non-empty batch waits for more records. Default 1000. */
  batchInterval?: number
  /** Memory bound: bytes of records held (queued, retrying, in flight). Default 64 MiB. */
  maxBufferBytes?: number
  /** `write()` returns false (and 'drain' follows) above this many buffered bytes while delivery works. Default 8 MiB. */
  highWaterBytes?: number
  /** Spill batches here when the memory bound is reached; replayed in order later, across restarts. */
  spoolDir?: string
  /** Milliseconds per request (headers and body). Default 10000. */
  timeout?: number
  /** Extra CA certificate(s), PEM, for an https collector. */
  ca?: string | Buffer | Array<string | Buffer>
  /** Gzip request bodies: true, false, or 'auto' (bodies ≥ 4 KiB to a non-loopback collector). Default 'auto'. */
  compress?: boolean | 'auto'
  /** Batches in flight at once. Default 4. */
  concurrency?: number
  /** First retry delay in ms; doubles per failure, with jitter. Default 200. */
  retryBaseMs?: number
  /** Longest retry delay in ms (a Retry-After longer than this is still honoured). Default 30000. */
  retryMaxMs?: number
  /** Milliseconds `close()` keeps delivering before it spools (or drops) what is left. Default 8000. */
  closeTimeout?: number
  /**
   * For serverless functions: a flush() retries at once instead of waiting out a retry pause that began
   * before it (an earlier invocation's backoff, perhaps minutes old after a freeze). Default false.
   */
  serverless?: boolean
  /** Called with every ShipperError (rejections, retries, drops, spool trouble). */
  onError?: (err: ShipperError) => void
}

export interface ResolvedOptions {
  readonly endpoint: URL
  readonly apiKey: string | undefined
  readonly appName: string | undefined
  readonly batchSize: number
  readonly batchBytes: number
  readonly batchInterval: number
  readonly maxBufferBytes: number
  readonly highWaterBytes: number
  readonly spoolDir: string | undefined
  readonly timeout: number
  readonly ca: string | Buffer | Array<string | Buffer> | undefined
  readonly compress: boolean | 'auto'
  readonly concurrency: number
  readonly retryBaseMs: number
  readonly retryMaxMs: number
  readonly closeTimeout: number
  readonly serverless: boolean
  readonly onError: ((err: ShipperError) => void) | undefined
}

export const DEFAULTS = Object.freeze({
  url: 'http://127.0.0.1:8181',
  batchSize: 1000,
  batchBytes: 1024 * 1024,
  batchInterval: 1000,
  maxBufferBytes: 64 * 1024 * 1024,
  highWaterBytes: 8 * 1024 * 1024,
  timeout: 10_000,
  compress: 'auto' as const,
  concurrency: 4,
  retryBaseMs: 200,
  retryMaxMs: 30_000,
  closeTimeout: 8000
})

export function resolveOptions (opts: ShipperOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const url = opts.url ?? nonEmpty(env.MAAP_URL) ?? DEFAULTS.url
  let endpoint: URL
  try { endpoint = new URL(url) } catch { throw invalidOption('url', 'an http(s) URL', url) }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw invalidOption('url', 'an http(s) URL', url)
  // A base URL gets the batch endpoint appended; a URL that already names /logs is used as it is.
  if (!endpoint.pathname.endsWith('/logs')) endpoint.pathname = endpoint.pathname.replace(/\/*$/, '') + '/logs'

  const resolved: ResolvedOptions = {
    endpoint,
    apiKey: optionalString('apiKey', opts.apiKey) ?? nonEmpty(env.MAAP_API_KEY),
    appName: optionalString('appName', opts.appName) ?? nonEmpty(env.MAAP_APP_NAME),
    batchSize: positiveInt('batchSize', opts.batchSize, DEFAULTS.batchSize),
    batchBytes: positiveInt('batchBytes', opts.batchBytes, DEFAULTS.batchBytes),
    batchInterval: positiveInt('batchInterval', opts.batchInterval, DEFAULTS.batchInterval),
    maxBufferBytes: positiveInt('maxBufferBytes', opts.maxBufferBytes, DEFAULTS.maxBufferBytes),
    highWaterBytes: 0, // set below: never above maxBufferBytes
    spoolDir: optionalString('spoolDir', opts.spoolDir),
    timeout: positiveInt('timeout', opts.timeout, DEFAULTS.timeout),
    ca: opts.ca,
    compress: opts.compress ?? DEFAULTS.compress,
    concurrency: positiveInt('concurrency', opts.concurrency, DEFAULTS.concurrency),
    retryBaseMs: positiveInt('retryBaseMs', opts.retryBaseMs, DEFAULTS.retryBaseMs),
    retryMaxMs: positiveInt('retryMaxMs', opts.retryMaxMs, DEFAULTS.retryMaxMs),
    closeTimeout: positiveInt('closeTimeout', opts.closeTimeout, DEFAULTS.closeTimeout),
    serverless: flag('serverless', opts.serverless),
    onError: opts.onError
  }
  ;(resolved as { highWaterBytes: number }).highWaterBytes =
    Math.min(positiveInt('highWaterBytes', opts.highWaterBytes, DEFAULTS.highWaterBytes), resolved.maxBufferBytes)
  if (resolved.compress !== true && resolved.compress !== false && resolved.compress !== 'auto') {
    throw invalidOption('compress', "true, false or 'auto'", resolved.compress)
  }
  if (opts.onError !== undefined && typeof opts.onError !== 'function') throw invalidOption('onError', 'a function', typeof opts.onError)
  return Object.freeze(resolved)
}

function flag (name: string, value: unknown): boolean {
  if (value === undefined || value === null) return false
  // As for numbers: JSON config and the CLI may hand over text.
  if (value === true || value === 'true') return true
  if (value === false || value === 'false') return false
  throw invalidOption(name, 'true or false', value)
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function optionalString (name: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw invalidOption(name, 'a string', value)
  return value
}

function positiveInt (name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback
  // Numbers arrive as strings from the CLI and from pino's `options` written in JSON config.
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) throw invalidOption(name, 'a positive integer', value)
  return n
}
