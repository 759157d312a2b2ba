// The API keys in force. They start from the configuration. On SIGHUP (bin.ts; the cluster primary
// passes it on to its workers) the keys that came from files — API_KEYS_FILE, ADMIN_API_KEY_FILE,
// READ_API_KEYS_FILE, BROWSER_API_KEYS_FILE — are
// read again, so keys rotate without a restart. Keys given in the environment itself cannot change in a
// running process and stay as they are. A file that cannot be read or parsed, or that would turn
// authentication off, leaves every key as it was: a rotation must never open the collector by mistake.
import { readFile } from 'node:fs/promises'
import type { ApiKey } from './api-key'
import { checkBrowserKeys, parseBrowserKeys, type BrowserKey } from './browser-keys'
import { keysInFile, parseAdminKey, parseIngestKeys, unreadableKeyFile, type KeyParser } from './parse'

/** The keys the configuration holds at start, and the files they came from (config.ts's names). */
export interface KeySources {
  apiKeys: readonly ApiKey[]
  adminKeys: readonly ApiKey[]
  readKeys: readonly ApiKey[]
  apiKeysFile: string | undefined
  adminKeyFile: string | undefined
  readKeysFile: string | undefined
  browserKeys: readonly BrowserKey[]
  browserKeysFile: string | undefined
  /** CORS_ORIGINS; undefined: the browser keys' origins. */
  corsOrigins: readonly string[] | undefined
}

export interface ReloadResult {
  ingestKeys: number
  adminKeys: number
  readKeys: number
  browserKeys: number
}

export class KeyRing {
  ingest: readonly ApiKey[]
  admin: readonly ApiKey[]
  read: readonly ApiKey[]
  browser: readonly BrowserKey[]
  /**
   * The origins allowed cross-origin (cors.ts asks per request). A browser key's origins serve public
   * pages, so they get CORS on the ingest routes alone; the other origins of CORS_ORIGINS (a dashboard, say)
   * on every route.
   */
  cors: CorsOrigins
  /** Successful reloads since start; shown in /status so an operator can see a rotation took effect. */
  reloads = 0

  constructor (private readonly config: KeySources) {
    this.ingest = config.apiKeys
    this.admin = config.adminKeys
    this.read = config.readKeys
    this.browser = config.browserKeys
    this.cors = allowedOrigins(config.corsOrigins, this.browser)
  }

  /** Keys that may read: the read keys and the admin key (which reads every app). */
  get readers (): readonly ApiKey[] {
    return this.admin.length === 0 ? this.read : [...this.read, ...this.admin]
  }

  /**
   * With no key of any kind the collector is open, reads included, as the original was. A browser key
   * counts: an operator who set one alone has put the collector where web pages reach it, and must not
   * find its logs, searches and alerts open to anyone.
   */
  get open (): boolean {
    return this.ingest.length === 0 && this.admin.length === 0 && this.read.length === 0 && this.browser.length === 0
  }

  /**
   * The admin routes (/status, /metrics, /force-flush) are open while no ADMIN_API_KEY is set, as they
   * always were; not once a browser key is (for the same reason as `open`).
   */
  get adminOpen (): boolean {
    return this.browser.length === 0
  }

  /** Re-reads the key files; rejects (keys unchanged) with a message that names the variable. */
  async reload (): Promise<ReloadResult> {
    const { apiKeysFile, adminKeyFile, readKeysFile } = this.config
    const ingest = apiKeysFile === undefined ? this.ingest : await fromFile('API_KEYS_FILE', apiKeysFile, parseIngestKeys)
    const admin = adminKeyFile === undefined ? this.admin : await fromFile('ADMIN_API_KEY_FILE', adminKeyFile, parseAdminKey)
    const read = readKeysFile === undefined ? this.read : await fromFile('READ_API_KEYS_FILE', readKeysFile, parseIngestKeys)
    const { browserKeysFile, corsOrigins } = this.config
    const browser = browserKeysFile === undefined ? this.browser : await fromFile('BROWSER_API_KEYS_FILE', browserKeysFile, parseBrowserKeys)
    checkBrowserKeys(browser, 'BROWSER_API_KEYS_FILE', corsOrigins, [...ingest, ...admin, ...read])
    // Every file was good: swap together, so no request sees one new and one old set half-way.
    this.ingest = ingest
    this.admin = admin
    this.read = read
    this.browser = browser
    this.cors = allowedOrigins(corsOrigins, browser)
    this.reloads++
    return { ingestKeys: ingest.length, adminKeys: admin.length, readKeys: read.length, browserKeys: browser.length }
  }
}

export interface CorsOrigins {
  /** Allowed on POST /logs and /log (and their preflights) alone: every browser key's origins. */
  ingest: ReadonlySet<string>
  /** Allowed on every route: the origins of CORS_ORIGINS that no browser key names. */
  everyRoute: ReadonlySet<string>
}

function allowedOrigins (corsOrigins: readonly string[] | undefined, browser: readonly BrowserKey[]): CorsOrigins {
  const ingest = new Set(browser.flatMap(k => [...k.origins]))
  return { ingest, everyRoute: new Set((corsOrigins ?? []).filter(o => !ingest.has(o))) }
}

/** As at start-up (startupKeys), but read without blocking, and a file that is now empty keeps the old keys. */
async function fromFile<K extends ApiKey> (variable: string, file: string, parse: KeyParser<K>): Promise<K[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw unreadableKeyFile(variable, file, err)
  }
  return keysInFile(text, variable, parse, 'holds no key now; authentication stays on with the previous keys')
}
