// One OTLP log record → one plain event object for normaliseEvent (normalise/normalise.ts), by the table in
// the README ("OpenTelemetry and log shippers").
//
//   resource attributes ─► `resource` (nested once per resource) and app_name ← service.name
//   scope name/version  ─► `scope` (once per scope)
//   record              ─► app_name, level, message, timestamp, ids, body, attributes as fields
//
// Dotted attribute keys become nested fields (`http.method` → {http: {method}}). A record attribute whose
// first segment is one of the event's own fields goes under `attributes` instead; where a key holds a
// value and also has dotted children, the value is kept as `_value` inside the object. Nothing is dropped.
import { freeName } from '../normalise/field-names'
import { MAX_DATE_MS, isoFromMillis } from '../normalise/iso-time'
import { CANONICAL_LEVELS, canonicalLevel } from '../normalise/levels'
import { setField, type AnyValue, type KeyValue, type OtlpRecord, type OtlpScope } from './model'

/** The event's own top-level fields: a record attribute with one of these names goes under `attributes`. */
export const OWN_FIELDS = new Set(['_id', 'received_at', 'app_name', 'level', 'message', 'timestamp', 'observed_timestamp',
  'severity_number', 'severity_text', 'trace_id', 'span_id', 'trace_flags', 'event_name', 'body', 'attributes',
  'dropped_attributes_count', 'resource', 'scope'])


type Fields = Record<string, unknown>

function isPlain (v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Puts `value` at the dotted `key` of `target`, by the nesting and clash rules above. */
function put (target: Fields, key: string, value: AnyValue): void {
  let obj = target
  let leaf = key
  if (key.includes('.')) {
    const parts = key.split('.')
    if (!parts.includes('')) {
      for (let i = 0; i < parts.length - 1; i++) {
        const part = parts[i]!
        const existing = Object.hasOwn(obj, part) ? obj[part] : undefined
        if (isPlain(existing)) {
          obj = existing
        } else {
          const child: Fields = {}
          if (existing !== undefined) child._value = existing
          setField(obj, part, child)
          obj = child
        }
      }
      leaf = parts[parts.length - 1]!
    }
  }
  if (!Object.hasOwn(obj, leaf)) {
    setField(obj, leaf, value)
    return
  }
  const existing = obj[leaf]
  if (isPlain(existing)) setField(existing, freeName(existing, '_value'), value)
  else setField(obj, freeName(obj, leaf), value) // a repeated key: the later value gets `_2`
}

/** A key that nests nothing (no '.') and is not `__proto__`, so it can be set as it is. */
function plainKey (kv: KeyValue): boolean {
  return !kv.key.includes('.') && kv.key !== '__proto__'
}

export function nest (attributes: readonly KeyValue[]): Fields {
  const out: Fields = {}
  for (let i = 0; i < attributes.length; i++) put(out, attributes[i]!.key, attributes[i]!.value)
  return out
}

/** What every record of a resource shares, built once: its app_name, `resource`, and that as JSON. */
export interface Shared {
  appName: string | undefined
  appNameJson: string
  resource: Fields
  resourceJson: string
}

/** A scope's `scope` field and its JSON, built once for all its records. */
export interface ScopeFields {
  name: string
  fields: Fields
  json: string
}

export function resourceFields (attributes: readonly KeyValue[]): Shared {
  let appName: string | undefined
  for (const kv of attributes) if (kv.key === 'service.name' && typeof kv.value === 'string' && kv.value !== '') appName = kv.value
  const resource = nest(attributes)
  return { appName, appNameJson: JSON.stringify(appName ?? ''), resource, resourceJson: JSON.stringify(resource) }
}

export function scopeFields (scope: OtlpScope): ScopeFields {
  const fields: Fields = { name: scope.name }
  if (scope.version !== '') fields.version = scope.version
  if (scope.attributes.length > 0) fields.attributes = nest(scope.attributes)
  return { name: scope.name, fields, json: JSON.stringify(fields) }
}

/** The canonical level of a severity number 1–24; undefined outside that range. */
export function levelOfSeverity (n: number): string | undefined {
  return n >= 1 && n <= 24 ? CANONICAL_LEVELS[(n - 1) >> 2] : undefined
}

// The rules of the README's table that both ways of writing an event apply (recordEvent here, and the
// direct path, otlp/direct-lines.ts), each in one place.

/** A record's level when its severity number has none: its severityText as ingest reads levels, else INFO. */
export function levelOfText (severityText: string): string {
  return (severityText !== '' ? canonicalLevel(severityText) : undefined) ?? 'INFO'
}

/** Whether the severity number says more than the level (INFO2 = 10, not INFO = 9): then it is kept. */
export function keepsSeverityNumber (n: number): boolean {
  return n > 0 && (levelOfSeverity(n) === undefined || (n - 1) % 4 !== 0)
}

/** The event's time: time_unix_nano, else observed_time_unix_nano (0: neither, the server's time). */
export function eventMillis (timeMs: number, observedMs: number): number {
  return timeMs > 0 ? timeMs : observedMs
}

/** Whether the observed time is kept: only where it says something the timestamp does not. */
export function keepsObservedTime (timeMs: number, observedMs: number): boolean {
  return timeMs > 0 && observedMs > 0 && Math.floor(observedMs) !== Math.floor(timeMs) && observedMs <= MAX_DATE_MS
}

/** app_name: the resource's service.name, else the scope name, else `unknown_service`. */
export function appNameOf (shared: Shared, scopeName: string): string {
  return shared.appName ?? (scopeName !== '' ? scopeName : 'unknown_service')
}

function messageOf (body: AnyValue | undefined): string {
  if (body === undefined || body === null) return ''
  if (typeof body === 'string') return body
  if (isPlain(body)) {
    if (typeof body.message === 'string') return body.message
    if (typeof body.msg === 'string') return body.msg
  }
  return JSON.stringify(body)
}

/** The JSON text recordEvent writes next to the event (one holder per request, reused). */
export interface EventText {
  text: string
  /** `"key":` of the attribute keys seen in this request (bounded by the request's size). */
  keys: Map<string, string>
}

export function eventText (): EventText {
  return { text: '', keys: new Map() }
}

// Characters JSON.stringify would escape (or check, for lone surrogates): most strings have none, and
// quoting them directly costs a third of a JSON.stringify call.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

function quote (s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"'
}

function keyText (out: EventText, key: string): string {
  let k = out.keys.get(key)
  if (k === undefined) {
    k = ',' + quote(key) + ':'
    out.keys.set(key, k)
  }
  return k
}

const LEVEL_HEAD: Record<string, string> = Object.fromEntries(CANONICAL_LEVELS.map(l => [l, `{"level":"${l}"`]))

/**
 * The event for one record, and in `out.text` its JSON text: the same fields and values as
 * JSON.stringify(event) (an integer-like attribute key may stand elsewhere in the text, as JSON.parse
 * would reorder it anyway), with the resource and scope copied from their JSON made once per request
 * rather than serialised for every record. normaliseEvent takes it as the text the event was parsed
 * from, and splices the journal line from it instead of serialising the event again.
 *
 * The level comes from the severity number, else from a severityText the collector knows (as ingest
 * reads levels), else INFO; the text itself is kept as `severity_text`.
 */
export function recordEvent (r: OtlpRecord, shared: Shared, scope: ScopeFields, out: EventText): Fields {
  const level = levelOfSeverity(r.severityNumber) ?? levelOfText(r.severityText)
  // level and timestamp first: the order the collector's own transports write.
  const ev: Fields = { level }
  let text = LEVEL_HEAD[level]!
  const ms = eventMillis(r.timeMs, r.observedMs)
  if (ms > 0) {
    const whole = Math.floor(ms)
    ev.timestamp = whole
    text += ',"timestamp":' + String(whole)
  }
  const appName = appNameOf(shared, scope.name)
  const message = messageOf(r.body)
  ev.app_name = appName
  ev.message = message
  text += ',"app_name":' + (appName === shared.appName ? shared.appNameJson : quote(appName)) + ',"message":' + quote(message)
  if (keepsObservedTime(r.timeMs, r.observedMs)) {
    const observed = isoFromMillis(r.observedMs)
    ev.observed_timestamp = observed
    text += ',"observed_timestamp":"' + observed + '"'
  }
  if (keepsSeverityNumber(r.severityNumber)) {
    ev.severity_number = r.severityNumber
    text += ',"severity_number":' + String(r.severityNumber)
  }
  if (r.severityText !== '') {
    ev.severity_text = r.severityText
    text += ',"severity_text":' + quote(r.severityText)
  }
  // Ids are hex (checked by both decoders), so they need no escaping.
  if (r.traceId !== '') {
    ev.trace_id = r.traceId
    text += ',"trace_id":"' + r.traceId + '"'
  }
  if (r.spanId !== '') {
    ev.span_id = r.spanId
    text += ',"span_id":"' + r.spanId + '"'
  }
  if (r.flags !== 0) {
    ev.trace_flags = r.flags & 0xff
    text += ',"trace_flags":' + String(r.flags & 0xff)
  }
  if (r.eventName !== '') {
    ev.event_name = r.eventName
    text += ',"event_name":' + quote(r.eventName)
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
    ev.body = r.body
    text += ',"body":' + JSON.stringify(r.body)
  }
  if (r.attributes.length > 0) {
    let clashes: Fields | undefined
    if (r.attributes.every(plainKey)) {
      // The common case, every key plain and distinct: straight into the event, without nesting.
      for (let i = 0; i < r.attributes.length; i++) {
        const { key, value } = r.attributes[i]!
        if (OWN_FIELDS.has(key)) {
          put(clashes ??= {}, key, value)
          continue
        }
        const name = Object.hasOwn(ev, key) ? freeName(ev, key) : key // a repeated key: the later value gets `_2`
        ev[name] = value
        text += (name === key ? keyText(out, key) : ',' + quote(name) + ':') +
          (typeof value === 'number' ? String(value) : typeof value === 'string' ? quote(value) : JSON.stringify(value))
      }
    } else {
      const attrs = nest(r.attributes)
      for (const key of Object.keys(attrs)) {
        const v = attrs[key]
        if (OWN_FIELDS.has(key)) {
          setField(clashes ??= {}, key, v)
          continue
        }
        setField(ev, key, v)
        text += ',' + JSON.stringify(key) + ':' + JSON.stringify(v)
      }
    }
    if (clashes !== undefined) {
      ev.attributes = clashes
      text += ',"attributes":' + JSON.stringify(clashes)
    }
  }
  if (r.droppedAttributesCount !== 0) {
    ev.dropped_attributes_count = r.droppedAttributesCount
    text += ',"dropped_attributes_count":' + String(r.droppedAttributesCount)
  }
  ev.resource = shared.resource
  ev.scope = scope.fields
  out.text = text + ',"resource":' + shared.resourceJson + ',"scope":' + scope.json + '}'
  return ev
}
