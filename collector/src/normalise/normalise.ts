// Validates one incoming event and turns it into its journal line: the canonical document that is
// written to the local segment files and, later, inserted into MongoDB. See the README for the rules.
import { ACCEPTED_LEVELS_TEXT, canonicalLevel } from './levels'
import { freeName, needsRename, renameField } from './field-names'
import { MAX_DATE_MS, isoFromMillis } from './iso-time'
import { newObjectIdHex } from './object-id'
import { spliceLine } from './splice'
import { lineHead } from '../journal/line-head'
import type { Redactor } from '../redact/redactor'

export interface EventLimits {
  maxDepth: number
  maxFields: number
  maxFieldNameLength: number
}

export interface IngestContext {
  limits: EventLimits
  /** Server time of the request, as an ISO string: `received_at`, and `timestamp` when absent. */
  receivedAt: string
  /** app_name pinned by the API key (`app_name:key`); it wins over what the event says, so a key writes for its app alone. */
  appName?: string
  /** REDACT_FIELDS / REDACT_PATTERNS compiled (redact/redactor.ts); undefined when neither is set. */
  redactor?: Redactor
}

export type NormaliseResult = { ok: true, line: string } | { ok: false, error: string }

/** Characters of an app_name, at most. */
export const MAX_APP_NAME_LENGTH = 256

// Fields the collector sets itself; a client's own value is kept under a `client_` name.
const RESERVED = new Set(['_id', 'received_at'])
// Fields handled explicitly below; everything else is copied as a dynamic field.
const CORE = new Set(['level', 'message', 'app_name', 'timestamp'])

function fail (error: string): NormaliseResult {
  return { ok: false, error }
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function parseTimestamp (value: unknown): string | undefined {
  let ms: number
  if (typeof value === 'number') ms = value
  else if (typeof value === 'string' && value.length <= 64) ms = Date.parse(value)
  else return undefined
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DATE_MS) return undefined
  return isoFromMillis(ms)
}

class Walk {
  fields = 0
  /** Whether some field name, at any depth, must be renamed. */
  renames = false
  constructor (readonly limits: EventLimits) {}

  /** Returns an error message, or undefined when the object or array is within the limits. */
  check (value: object, depth: number, path: string): string | undefined {
    if (depth > this.limits.maxDepth) return `${path} nests deeper than ${this.limits.maxDepth} levels`
    // Runs for every field of every event: primitives are skipped without a call, and a path is only
    // built for values that nest.
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i]
        if (typeof v !== 'object' || v === null) continue
        const err = this.check(v, depth + 1, path)
        if (err !== undefined) return err
      }
      return undefined
    }
    for (const key of Object.keys(value)) {
      if (++this.fields > this.limits.maxFields) return `event has more than ${this.limits.maxFields} fields`
      if (key.length > this.limits.maxFieldNameLength) {
        return `field name "${key.slice(0, 32)}…" is longer than ${this.limits.maxFieldNameLength} characters`
      }
      if (needsRename(key)) this.renames = true
      const v = (value as Record<string, unknown>)[key]
      if (typeof v !== 'object' || v === null) continue
      const err = this.check(v, depth + 1, `${path}.${key}`)
      if (err !== undefined) return err
    }
    return undefined
  }
}

/**
 * How many fields normaliseEvent counts in `value` (every key, at every depth, as if `value` were an
 * event), or undefined when `value` breaks a limit or holds a name that must be renamed.
 */
export function countFields (value: object, limits: EventLimits): number | undefined {
  const walk = new Walk(limits)
  if (walk.check(value, 0, 'event') !== undefined || walk.renames) return undefined
  return walk.fields
}

/** A copy of `value` with every unsafe field name renamed; values without such names are reused as-is. */
function sanitise (value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v = sanitise(value[i])
      if (v !== value[i]) (copy ??= value.slice())[i] = v
    }
    return copy ?? value
  }
  const obj = value as Record<string, unknown>
  let changed = false
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(obj)) {
    const v = sanitise(obj[key])
    if (v !== obj[key]) changed = true
    if (needsRename(key)) {
      changed = true
      out[freeName(obj, renameField(key))] = v
    } else {
      out[key] = v
    }
  }
  return changed ? out : obj
}

/**
 * Validates `raw` and returns its journal line, or the reason it is refused. `raw` is handed over: on the
 * common path it is completed in place rather than copied. `text`, the JSON `raw` was parsed from, lets
 * the line be spliced from it (splice.ts) instead of serialised. `id` is the event's _id when its batch
 * decides it (idempotency/derived-ids.ts); else a new one is drawn.
 */
export function normaliseEvent (raw: unknown, ctx: IngestContext, text?: string, id?: string): NormaliseResult {
  if (!isPlainObject(raw)) return fail('event must be a JSON object')

  let message = raw.message
  if (message === undefined) return fail("missing required field 'message'")
  if (typeof message !== 'string') return fail("'message' must be a string")

  const appName = ctx.appName ?? raw.app_name
  if (appName === undefined) return fail("missing required field 'app_name'")
  if (typeof appName !== 'string' || appName.length === 0 || appName.length > MAX_APP_NAME_LENGTH) {
    return fail(`'app_name' must be a non-empty string of at most ${MAX_APP_NAME_LENGTH} characters`)
  }

  let level: string = 'INFO'
  if (raw.level !== undefined) {
    const canonical = canonicalLevel(raw.level)
    if (canonical === undefined) return fail(`unknown level ${JSON.stringify(raw.level)}; accepted: ${ACCEPTED_LEVELS_TEXT}`)
    level = canonical
  }

  let timestamp = ctx.receivedAt
  if (raw.timestamp !== undefined && raw.timestamp !== null) {
    const parsed = parseTimestamp(raw.timestamp)
    if (parsed === undefined) return fail("'timestamp' must be an ISO 8601 string or epoch milliseconds")
    timestamp = parsed
  }

  const walk = new Walk(ctx.limits)
  const tooBig = walk.check(raw, 0, 'event')
  if (tooBig !== undefined) return fail(tooBig)

  // Before any line is made: a redacted event no longer matches its text, so it is serialised.
  if (ctx.redactor?.redact(raw) === true) {
    text = undefined
    message = raw.message
  }

  id ??= newObjectIdHex()
  const pinnedAppNameDiffers = ctx.appName !== undefined && raw.app_name !== undefined && raw.app_name !== ctx.appName
  if (!walk.renames && !pinnedAppNameDiffers && !Object.hasOwn(raw, '_id') && !Object.hasOwn(raw, 'received_at')) {
    if (text !== undefined && raw.app_name === appName) {
      const line = spliceLine(text, raw, { level, timestamp, id, receivedAt: ctx.receivedAt })
      if (line !== undefined) return { ok: true, line }
    }
    // The common case: nothing to rename. The parsed object is completed in place and serialised once,
    // which keeps V8's fast JSON paths and saves a copy of every field (the caller hands it over).
    // The head goes in front (journal/line-head.ts); an own property set to undefined is left out by
    // JSON.stringify, and keeps the object's shape where `delete` would not.
    if (raw.level !== undefined) raw.level = undefined
    if (Object.hasOwn(raw, 'timestamp')) raw.timestamp = undefined
    raw.app_name = appName
    raw._id = id
    raw.received_at = ctx.receivedAt
    return { ok: true, line: lineHead(timestamp, level) + JSON.stringify(raw).slice(1) }
  }

  const doc: Record<string, unknown> = {
    timestamp,
    level,
    _id: id,
    received_at: ctx.receivedAt,
    app_name: appName,
    message
  }
  for (const key of Object.keys(raw)) {
    if (CORE.has(key)) continue
    let target = key
    if (RESERVED.has(key)) target = freeName(raw, `client_${key}`)
    else if (needsRename(key)) target = freeName(raw, renameField(key))
    doc[freeName(doc, target)] = sanitise(raw[key])
  }
  if (pinnedAppNameDiffers) doc[freeName(doc, 'client_app_name')] = raw.app_name
  return { ok: true, line: JSON.stringify(doc) }
}
