// The logger's options: checked once, with a message that names the option (and never shows the key),
// then frozen. Every default is here and in README.md.
import { LEVELS, type LevelName } from './levels.js'

export interface LoggerOptions {
  /** The collector's base URL (or its `/logs` URL), e.g. `https://logs.example.com`. */
  url: string
  /** A browser key of the collector's BROWSER_API_KEYS (public: it is in the page). */
  key: string
  /** The app_name of every event; the key's app_name on the collector. */
  appName: string
  /** The lowest level logged: trace, debug, info, warn, error, fatal or silent. Default info. */
  level?: LevelName | 'silent'
  /** Events per batch. Default 50. */
  batchSize?: number
  /** Milliseconds a batch waits for more events. Default 2000. */
  flushInterval?: number
  /** Bytes of events held while the collector cannot be reached; past it the oldest are dropped. Default 1 MiB. */
  maxBufferBytes?: number
  /** Fields added to every event (e.g. `{ release: '1.4.2' }`). */
  fields?: Record<string, unknown>
}

export interface Resolved {
  readonly endpoint: string
  readonly key: string
  readonly appName: string
  readonly level: LevelName | 'silent'
  readonly batchSize: number
  readonly flushInterval: number
  readonly maxBufferBytes: number
  readonly fields: Readonly<Record<string, unknown>> | undefined
}

export const DEFAULTS = Object.freeze({ level: 'info' as const, batchSize: 50, flushInterval: 2000, maxBufferBytes: 1024 * 1024 })

function invalid (name: string, wanted: string, got?: unknown): TypeError {
  const shown = got === undefined ? '' : `; got ${typeof got === 'string' ? JSON.stringify(got.slice(0, 100)) : typeof got}`
  return new TypeError(`@maap-event-logger/browser: option "${name}" must be ${wanted}${shown}`)
}

function positiveInt (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(name, 'a whole number ≥ 1', value)
  return value
}

function nonEmpty (name: string, value: unknown, show: boolean): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'a non-empty string', show ? value : undefined)
  return value
}

/** The path without its trailing slashes (a loop: no regex runs over what the page was given). */
function trimSlashes (path: string): string {
  let end = path.length
  while (end > 0 && path[end - 1] === '/') end--
  return path.slice(0, end)
}

export function resolveOptions (opts: LoggerOptions): Resolved {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('@maap-event-logger/browser: createLogger needs { url, key, appName }')
  const url = nonEmpty('url', opts.url, true)
  const base = (globalThis as { location?: { href?: string } }).location?.href
  let endpoint: URL
  try {
    endpoint = new URL(url, base)
  } catch {
    throw invalid('url', 'an http(s) URL', url)
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw invalid('url', 'an http(s) URL', url)
  // A base URL gets the batch endpoint appended; a URL that already names /logs is used as it is.
  if (!endpoint.pathname.endsWith('/logs')) endpoint.pathname = trimSlashes(endpoint.pathname) + '/logs'
  endpoint.search = ''
  endpoint.hash = ''
  const level = opts.level ?? DEFAULTS.level
  if (level !== 'silent' && !Object.prototype.hasOwnProperty.call(LEVELS, level)) {
    throw invalid('level', `one of ${Object.keys(LEVELS).join(', ')}, silent`, level)
  }
  const fields = opts.fields
  if (fields !== undefined && (typeof fields !== 'object' || fields === null || Array.isArray(fields))) throw invalid('fields', 'an object', fields)
  return Object.freeze({
    endpoint: endpoint.href,
    key: nonEmpty('key', opts.key, false),
    appName: nonEmpty('appName', opts.appName, true),
    level,
    batchSize: positiveInt('batchSize', opts.batchSize, DEFAULTS.batchSize),
    flushInterval: positiveInt('flushInterval', opts.flushInterval, DEFAULTS.flushInterval),
    maxBufferBytes: positiveInt('maxBufferBytes', opts.maxBufferBytes, DEFAULTS.maxBufferBytes),
    fields: fields === undefined ? undefined : Object.freeze({ ...fields })
  })
}
