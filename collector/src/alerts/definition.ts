// The JSON bodies of POST/PUT /searches and /alerts, checked into SearchInput / AlertInput (model.ts), and
// definitions as answers show them (windows as duration strings, channel secrets and URLs masked):
//
//   body ─► validateSearch / validateAlert ─► SearchInput / AlertInput ─► DefinitionStore
//             │ query: parseQuery (400 MAAP_BAD_QUERY at its position)
//             └ anything else: 400 MAAP_BAD_ALERT naming the field (`channels[1].url`)
//   AlertDefinition ─► alertAnswer ─► { …, condition: { window: "5m" }, channels: masked }
//
// A PUT may send a masked value back as it was answered: it then keeps the stored one (restoreMasked), so the
// page can edit an alert without ever holding its secrets.
import { BadAlertError, BadQueryError } from '../errors'
import { parseQuery, QuerySyntaxError } from '../query/parse'
import type { AlertDefinition, AlertInput, Channel, Condition, SavedSearch, SearchInput } from './model'

export const MAX_NAME_LENGTH = 200
export const MAX_CHANNELS = 20
export const MAX_RECIPIENTS = 50
const MAX_URL_LENGTH = 2048
const MAX_SECRET_LENGTH = 1000
/** Shown instead of a webhook secret. */
export const MASKED_SECRET = '••••'
/** Ends a masked URL (scheme and host kept). */
const MASKED_PATH = '/…'

export const DEFAULT_GROUP_WINDOW_MS = 30_000
export const DEFAULT_SAMPLE = 10
export const MAX_SAMPLE = 100
const SECOND = 1000
const UNITS: Record<string, number> = { s: SECOND, m: 60 * SECOND, h: 3600 * SECOND, d: 86400 * SECOND }
/** Bounds of every duration: a second to 30 days. */
const MIN_DURATION_MS = SECOND
const MAX_DURATION_MS = 30 * UNITS.d!
const DURATION = /^(\d{1,7})([smhd])$/

const SEARCH_FIELDS = new Set(['name', 'query'])
const ALERT_FIELDS = new Set(['name', 'query', 'condition', 'channels', 'group_window', 'sample', 'repeat_after', 'enabled'])
const CHANNEL_FIELDS: Record<Channel['type'], Set<string>> = {
  webhook: new Set(['type', 'url', 'secret']),
  slack: new Set(['type', 'url']),
  email: new Set(['type', 'to'])
}

function bad (message: string): Error {
  return new BadAlertError(message)
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A name as JSON shows it, cut short: user input in a message. */
function shown (v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 64 ? `${s.slice(0, 61)}...` : s
}

function onlyFields (obj: Record<string, unknown>, known: Set<string>, at: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) throw bad(`${at}${shown(key).slice(1, -1)}: unknown field (known: ${[...known].join(', ')})`)
  }
}

/**
 * "30s", "5m", "1h", "2d", or a whole number of seconds; from 1 s to 30 d. Milliseconds are not taken: no
 * window here is that fine, and "5m" must not be read as 5 ms.
 */
export function parseDuration (value: unknown, field: string): number {
  let ms: number | undefined
  if (typeof value === 'number' && Number.isSafeInteger(value)) ms = value * SECOND
  else if (typeof value === 'string') {
    const m = DURATION.exec(value.trim())
    if (m !== null) ms = Number(m[1]) * UNITS[m[2]!]!
  }
  if (ms === undefined) throw bad(`${field}: ${shown(value)} is not a duration: write e.g. "30s", "5m", "1h", "2d" or a number of seconds`)
  if (ms < MIN_DURATION_MS || ms > MAX_DURATION_MS) throw bad(`${field}: ${shown(value)} is outside 1s to 30d`)
  return ms
}

/** Milliseconds as the API answers them: the largest unit that divides them ("90s", "5m", "2d"). */
export function formatDuration (ms: number): string {
  for (const unit of ['d', 'h', 'm', 's']) {
    const size = UNITS[unit]!
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms / SECOND}s`
}

function name (body: Record<string, unknown>): string {
  const v = body.name
  if (v === undefined) throw bad('name: missing')
  if (typeof v !== 'string' || v.trim() === '') throw bad('name: expected a non-empty string')
  const trimmed = v.trim()
  if (trimmed.length > MAX_NAME_LENGTH) throw bad(`name: longer than ${MAX_NAME_LENGTH} characters`)
  return trimmed
}

/** The query, parsed as GET /logs parses it: a syntax error is a MAAP_BAD_QUERY with its position. */
function query (body: Record<string, unknown>): string {
  const v = body.query
  if (v === undefined) throw bad('query: missing')
  if (typeof v !== 'string') throw bad('query: expected a string in the query language of GET /logs')
  try {
    parseQuery(v)
  } catch (err) {
    if (err instanceof QuerySyntaxError) throw Object.assign(new BadQueryError(err.message), { position: err.position })
    throw err
  }
  return v
}

function body (raw: unknown): Record<string, unknown> {
  if (!isObject(raw)) throw bad('the body must be a JSON object')
  return raw
}

export function validateSearch (raw: unknown): SearchInput {
  const b = body(raw)
  onlyFields(b, SEARCH_FIELDS, '')
  return { name: name(b), query: query(b) }
}

function nonNegativeInteger (v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${field}: expected a whole number, 0 or more`)
  return v
}

function condition (v: unknown): Condition {
  if (v === undefined) return { type: 'each' }
  if (!isObject(v)) throw bad('condition: expected {"type": "each"} or {"type": "count", "above" or "below": N, "window": "5m"}')
  if (v.type === 'each') {
    onlyFields(v, new Set(['type']), 'condition.')
    return { type: 'each' }
  }
  if (v.type !== 'count') throw bad(`condition.type: ${shown(v.type)} is not a condition: use "each" or "count"`)
  onlyFields(v, new Set(['type', 'above', 'below', 'window']), 'condition.')
  if ((v.above === undefined) === (v.below === undefined)) throw bad('condition.above: a count condition has exactly one of "above" and "below"')
  if (v.window === undefined) throw bad('condition.window: missing')
  const window = parseDuration(v.window, 'condition.window')
  return v.above !== undefined
    ? { type: 'count', above: nonNegativeInteger(v.above, 'condition.above'), window_ms: window }
    : { type: 'count', below: nonNegativeInteger(v.below, 'condition.below'), window_ms: window }
}

/** http(s) only: anything else (file:, javascript:, gopher:) has no business receiving a notification. */
function httpUrl (v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length > MAX_URL_LENGTH || !URL.canParse(v)) throw bad(`${field}: expected an http:// or https:// URL`)
  const url = new URL(v)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`${field}: expected an http:// or https:// URL`)
  // Credentials in a URL would be sent to whoever the host is, and fetch refuses them with an error that
  // repeats the URL; a webhook authenticates by its secret (X-Maap-Signature) instead.
  if (url.username !== '' || url.password !== '') throw bad(`${field}: a URL with a user name or password is not taken; use the webhook's "secret"`)
  return v
}

const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

/** One plain address (local@domain.tld), no display name: linear checks only, no pattern that can backtrack. */
export function isEmailAddress (s: string): boolean {
  if (s.length > 254 || !ADDRESS.test(s)) return false
  const at = s.indexOf('@')
  if (at > 64) return false
  const labels = s.slice(at + 1).split('.')
  return labels.length >= 2 && labels.every(l => LABEL.test(l))
}

function channel (v: unknown, at: string, smtpConfigured: boolean): Channel {
  if (!isObject(v)) throw bad(`${at}: expected an object with a "type"`)
  const type = v.type
  if (type !== 'webhook' && type !== 'slack' && type !== 'email') throw bad(`${at}.type: ${shown(type)} is not a channel type: use "webhook", "slack" or "email"`)
  onlyFields(v, CHANNEL_FIELDS[type], `${at}.`)
  if (type === 'email') {
    if (!smtpConfigured) throw bad(`${at}.type: e-mail channels need SMTP_URL, which this collector does not have`)
    const to = v.to
    if (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS) throw bad(`${at}.to: expected a list of 1 to ${MAX_RECIPIENTS} addresses`)
    to.forEach((a, i) => { if (typeof a !== 'string' || !isEmailAddress(a)) throw bad(`${at}.to[${i}]: ${shown(a)} is not an e-mail address`) })
    return { type, to: [...to] as string[] }
  }
  const url = httpUrl(v.url, `${at}.url`)
  if (type === 'slack') return { type, url }
  if (v.secret === undefined) return { type, url }
  if (typeof v.secret !== 'string' || v.secret === '' || v.secret.length > MAX_SECRET_LENGTH) {
    throw bad(`${at}.secret: expected a string of 1 to ${MAX_SECRET_LENGTH} characters`)
  }
  return { type, url, secret: v.secret }
}

/**
 * A POST or PUT /alerts body. With `previous` (a PUT), masked values sent back as answered keep what is
 * stored; without it, a masked value is refused (there is nothing it could stand for).
 */
export function validateAlert (raw: unknown, opts: { smtpConfigured: boolean, previous?: AlertDefinition }): AlertInput {
  const b = body(raw)
  onlyFields(b, ALERT_FIELDS, '')
  const n = name(b)
  const q = query(b)
  const c = condition(b.condition)
  if (!Array.isArray(b.channels) || b.channels.length === 0 || b.channels.length > MAX_CHANNELS) {
    throw bad(`channels: expected a list of 1 to ${MAX_CHANNELS} channels`)
  }
  const sent = b.channels.map((ch, i) => restoreMasked(ch, i, opts.previous?.channels ?? []))
  const channels = sent.map((ch, i) => channel(ch, `channels[${i}]`, opts.smtpConfigured))
  const groupWindow = b.group_window === undefined ? DEFAULT_GROUP_WINDOW_MS : parseDuration(b.group_window, 'group_window')
  let sample = DEFAULT_SAMPLE
  if (b.sample !== undefined) {
    if (typeof b.sample !== 'number' || !Number.isInteger(b.sample) || b.sample < 1 || b.sample > MAX_SAMPLE) {
      throw bad(`sample: expected a whole number from 1 to ${MAX_SAMPLE}`)
    }
    sample = b.sample
  }
  const repeatAfter = b.repeat_after === undefined || b.repeat_after === null ? null : parseDuration(b.repeat_after, 'repeat_after')
  if (b.enabled !== undefined && typeof b.enabled !== 'boolean') throw bad('enabled: expected true or false')
  return {
    name: n,
    query: q,
    condition: c,
    channels,
    group_window_ms: groupWindow,
    sample,
    repeat_after_ms: repeatAfter,
    enabled: b.enabled !== false
  }
}

/** Scheme and host of a URL, the rest (path, query, credentials) masked: `https://hooks.slack.com/…`. */
export function maskUrl (url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${MASKED_PATH}`
  } catch {
    return MASKED_PATH
  }
}

/**
 * A channel sent back with a masked URL or secret gets the stored value back. Its stored counterpart is the
 * channel at the same index when that one has the same type and masks to the same URL, else the first other
 * one of that type that does (channels removed or reordered on the page). No counterpart: 400.
 */
function restoreMasked (raw: unknown, i: number, previous: readonly Channel[]): unknown {
  if (!isObject(raw) || (raw.type !== 'webhook' && raw.type !== 'slack')) return raw
  const maskedUrl = typeof raw.url === 'string' && raw.url.endsWith(MASKED_PATH)
  const maskedSecret = raw.secret === MASKED_SECRET
  if (!maskedUrl && !maskedSecret) return raw
  type UrlChannel = Extract<Channel, { url: string }>
  const same = (c: Channel | undefined): c is UrlChannel =>
    c !== undefined && c.type !== 'email' && c.type === raw.type && (maskedUrl ? maskUrl(c.url) === raw.url : c.url === raw.url)
  const at = previous[i]
  const counterpart: UrlChannel | undefined = same(at) ? at : previous.find(same)
  if (counterpart === undefined) {
    throw bad(`channels[${i}].${maskedUrl ? 'url' : 'secret'}: a masked value stands for what is stored, and this alert has no such channel: send the full value`)
  }
  const restored: Record<string, unknown> = { ...raw }
  if (maskedUrl) restored.url = counterpart.url
  if (maskedSecret) {
    if (counterpart.type !== 'webhook' || counterpart.secret === undefined) throw bad(`channels[${i}].secret: a masked value stands for what is stored, and this channel has no secret: send the full value`)
    restored.secret = counterpart.secret
  }
  return restored
}

/** A channel as answers show it: URL masked, secret shown only as present. */
export function maskChannel (c: Channel): Record<string, unknown> {
  if (c.type === 'email') return { type: c.type, to: [...c.to] }
  if (c.type === 'slack') return { type: c.type, url: maskUrl(c.url) }
  return { type: c.type, url: maskUrl(c.url), ...(c.secret === undefined ? {} : { secret: MASKED_SECRET }) }
}

/** A condition as the API shows it (also what a notification carries). */
export function conditionAnswer (c: Condition): Record<string, unknown> {
  if (c.type === 'each') return { type: 'each' }
  return 'above' in c
    ? { type: 'count', above: c.above, window: formatDuration(c.window_ms) }
    : { type: 'count', below: c.below, window: formatDuration(c.window_ms) }
}

/** An alert as GET /alerts answers it, before its state is added. */
export function alertAnswer (a: AlertDefinition): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    query: a.query,
    condition: conditionAnswer(a.condition),
    channels: a.channels.map(maskChannel),
    group_window: formatDuration(a.group_window_ms),
    sample: a.sample,
    repeat_after: a.repeat_after_ms === null ? null : formatDuration(a.repeat_after_ms),
    enabled: a.enabled,
    revision: a.revision,
    active_since: a.active_since,
    created_at: a.created_at,
    updated_at: a.updated_at
  }
}

export function searchAnswer (s: SavedSearch): SavedSearch {
  return { id: s.id, name: s.name, query: s.query, created_at: s.created_at, updated_at: s.updated_at }
}
