// One OTLP log record → one plain event object for normaliseEvent (ingest/normalise.ts), by the table in
// the README ("OpenTelemetry and log shippers").
//
//   resource attributes ─► `resource` (nested once per resource) and app_name ← service.name
//   scope name/version  ─► `scope` (once per scope)
//   record              ─► app_name, level, message, timestamp, ids, body, attributes as fields
//
// Dotted attribute keys become nested fields (`http.method` → {http: {method}}). A record attribute whose
// first segment is one of the event's own fields goes under `attributes` instead; where a key holds a
// value and also has dotted children, the value is kept as `_value` inside the object. Nothing is dropped.
import { freeName } from '../ingest/field-names'
import { isoFromMillis } from '../ingest/iso-time'
import { canonicalLevel } from '../ingest/levels'
import { setField, type AnyValue, type KeyValue, type OtlpRecord, type OtlpResource, type OtlpScope } from './model'

/** The event's own top-level fields: a record attribute with one of these names goes under `attributes`. */
export const OWN_FIELDS = new Set(['_id', 'received_at', 'app_name', 'level', 'message', 'timestamp', 'observed_timestamp',
  'severity_number', 'severity_text', 'trace_id', 'span_id', 'trace_flags', 'event_name', 'body', 'attributes',
  'dropped_attributes_count', 'resource', 'scope'])

const LEVEL_BY_SEVERITY = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']
const MAX_DATE_MS = 253402300799999

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

export function nest (attributes: readonly KeyValue[]): Fields {
  const out: Fields = {}
  for (let i = 0; i < attributes.length; i++) put(out, attributes[i]!.key, attributes[i]!.value)
  return out
}

/** What every record of a resource (and of a scope) shares, built once. */
export interface Shared {
  appName: string | undefined
  resource: Fields
}

export function resourceFields (res: OtlpResource): Shared {
  let appName: string | undefined
  for (const kv of res.attributes) if (kv.key === 'service.name' && typeof kv.value === 'string' && kv.value !== '') appName = kv.value
  return { appName, resource: nest(res.attributes) }
}

export function scopeFields (scope: OtlpScope): Fields {
  const out: Fields = { name: scope.name }
  if (scope.version !== '') out.version = scope.version
  if (scope.attributes.length > 0) out.attributes = nest(scope.attributes)
  return out
}

/** The canonical level of a severity number 1–24; undefined outside that range. */
export function levelOfSeverity (n: number): string | undefined {
  return n >= 1 && n <= 24 ? LEVEL_BY_SEVERITY[(n - 1) >> 2] : undefined
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

/**
 * The event for one record. The level comes from the severity number, else from a severityText the
 * collector knows (as ingest reads levels), else INFO; the text itself is kept as `severity_text`.
 */
export function recordEvent (r: OtlpRecord, shared: Shared, scope: Fields, scopeName: string): Fields {
  const ev: Fields = {
    app_name: shared.appName ?? (scopeName !== '' ? scopeName : 'unknown_service'),
    level: levelOfSeverity(r.severityNumber) ?? (r.severityText !== '' ? canonicalLevel(r.severityText) : undefined) ?? 'INFO',
    message: messageOf(r.body)
  }
  // time_unix_nano, else observed_time_unix_nano, else (no field) the server's time.
  const ms = r.timeMs > 0 ? r.timeMs : r.observedMs
  if (ms > 0) ev.timestamp = Math.floor(ms)
  if (r.observedMs > 0 && r.timeMs > 0) {
    if (r.observedMs <= MAX_DATE_MS) ev.observed_timestamp = isoFromMillis(r.observedMs)
  }
  if (r.severityNumber !== 0) ev.severity_number = r.severityNumber
  if (r.severityText !== '') ev.severity_text = r.severityText
  if (r.traceId !== '') ev.trace_id = r.traceId
  if (r.spanId !== '') ev.span_id = r.spanId
  if (r.flags !== 0) ev.trace_flags = r.flags & 0xff
  if (r.eventName !== '') ev.event_name = r.eventName
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') ev.body = r.body
  if (r.attributes.length > 0) {
    const attrs = nest(r.attributes)
    let clashes: Fields | undefined
    for (const key of Object.keys(attrs)) {
      if (OWN_FIELDS.has(key)) setField(clashes ??= {}, key, attrs[key])
      else setField(ev, key, attrs[key])
    }
    if (clashes !== undefined) ev.attributes = clashes
  }
  if (r.droppedAttributesCount !== 0) ev.dropped_attributes_count = r.droppedAttributesCount
  ev.resource = shared.resource
  ev.scope = scope
  return ev
}
