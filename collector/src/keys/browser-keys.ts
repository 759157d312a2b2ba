// Browser keys (BROWSER_API_KEYS, or its file): keys that are public in a web page, so each is bound to one
// app_name and to the origins its pages are served from. An entry is `app_name:key@origin|origin…`:
//
//   shop-web:pk_shop_3f9a2c1d@https://shop.example|https://www.shop.example
//   └app_name┘└─── key ────┘ └────────────── origins, as browsers send Origin ─┘
//
// Entries are separated by commas or lines, as in the other key variables. A bad entry is named by its
// position and app_name, never by its text: the text holds the key.
import { ConfigError } from '../errors'
import { apiKey, type ApiKey } from './api-key'

export interface BrowserKey extends ApiKey {
  /** Every event sent with the key is for this app_name (an event naming another refuses the request). */
  appName: string
  /** The Origin headers the key is accepted with, exactly as browsers send them. */
  origins: ReadonlySet<string>
  /** How errors name the entry: `entry 2 (app_name shop-web)`. */
  entry: string
}

/** Visible ASCII: what a key may hold, less `@`, `,` and `|`, which separate the parts of an entry. */
const KEY_CHARACTER = /^[\x21-\x7e]$/
const MAX_APP_NAME_LENGTH = 256

/** `origin` when it is `scheme://host[:port]` as browsers send it (http or https, no path, no trailing slash). */
export function isOrigin (origin: string): boolean {
  if (!URL.canParse(origin)) return false
  const url = new URL(origin)
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin
}

function validKey (key: string): boolean {
  if (key.length < 8) return false
  for (const c of key) if (!KEY_CHARACTER.test(c) || c === '@' || c === ',' || c === '|') return false
  return true
}

/** BROWSER_API_KEYS (or the text of its file) as browser keys, in their order. */
export function parseBrowserKeys (raw: string, variable: string): BrowserKey[] {
  const keys: BrowserKey[] = []
  const seen = new Map<string, string>()
  const entries = raw.split(/,|\r?\n/).map(e => e.trim()).filter(e => e !== '')
  entries.forEach((text, i) => {
    // A ":" after the first "@" is an origin's (https:): then the entry has no app_name, and what comes
    // before the "@" is the key, which must not be shown.
    const firstAt = text.indexOf('@')
    let colon = text.indexOf(':')
    if (firstAt !== -1 && colon > firstAt) colon = -1
    const appName = colon === -1 ? '' : text.slice(0, colon)
    const entry = appName === '' || appName.length > MAX_APP_NAME_LENGTH
      ? `entry ${i + 1}`
      : `entry ${i + 1} (app_name ${JSON.stringify(appName)})`
    const fail = (why: string): never => { throw new ConfigError(variable, `${entry}: ${why}; expected app_name:key@origin|origin…`) }
    if (colon === -1) fail('no ":" between app_name and key')
    if (appName === '' || appName.length > MAX_APP_NAME_LENGTH) fail(`the app_name must be 1 to ${MAX_APP_NAME_LENGTH} characters`)
    const at = text.indexOf('@', colon + 1)
    if (at === -1) fail('no "@origin" after the key')
    const key = text.slice(colon + 1, at)
    if (!validKey(key)) fail('the key must be at least 8 visible ASCII characters without "@", "," or "|"')
    const origins = text.slice(at + 1).split('|')
    for (const origin of origins) {
      if (!isOrigin(origin)) {
        fail(`${JSON.stringify(origin.slice(0, 200))} is not an origin as browsers send it (http:// or https://, host, optional port; no path, no trailing slash)`)
      }
    }
    const k = apiKey(key, appName)
    const earlier = seen.get(k.id)
    if (earlier !== undefined) fail(`its key is the key of ${earlier} too; give each app its own key`)
    seen.set(k.id, entry)
    keys.push({ ...k, appName, origins: new Set(origins), entry })
  })
  return keys
}

/** CORS_ORIGINS: comma-separated origins; undefined when unset (the browser keys' origins are allowed). */
export function parseCorsOrigins (raw: string | undefined, variable: string): readonly string[] | undefined {
  if (raw === undefined) return undefined
  const origins = raw.split(',').map(o => o.trim()).filter(o => o !== '')
  for (const origin of origins) {
    if (!isOrigin(origin)) {
      throw new ConfigError(variable, `${JSON.stringify(origin.slice(0, 200))} is not an origin as browsers send it (http:// or https://, host, optional port; no path, no trailing slash)`)
    }
  }
  return Object.freeze(origins)
}

/**
 * The checks across variables, at start and on every reload: each browser key's origins are allowed
 * cross-origin (in CORS_ORIGINS when it is set), and no browser key is also a key of another kind (a key
 * public in a page must never open more than sending).
 */
export function checkBrowserKeys (browser: readonly BrowserKey[], variable: string, corsOrigins: readonly string[] | undefined,
  otherKeys: readonly ApiKey[]): void {
  const allowed = corsOrigins === undefined ? undefined : new Set(corsOrigins)
  const others = new Set(otherKeys.map(k => k.id))
  for (const key of browser) {
    if (others.has(key.id)) throw new ConfigError(variable, `${key.entry}: its key is also an ingest, read or admin key; a browser key must be a key of its own`)
    if (allowed === undefined) continue
    for (const origin of key.origins) {
      if (!allowed.has(origin)) throw new ConfigError(variable, `${key.entry}: origin ${origin} is not in CORS_ORIGINS; add it there or remove it here`)
    }
  }
}
