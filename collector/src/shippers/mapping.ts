// Per-request field mapping for log shippers on POST /logs, from the query string:
//
//   POST /logs?app_name=nginx&message_field=log&time_field=date&level_field=severity
//
// Fluent Bit, Vector and winston's transports.Http send records whose fields are named by their own
// configuration; these parameters say which field is the message, the time and the level, and which
// app_name records without one get. Each record is renamed here, before normaliseEvent, so the rules of
// ingest (limits, renames, levels) apply unchanged.
//   message_field: that field becomes `message` (a value that is not a string becomes its JSON text)
//   time_field:    that field becomes `timestamp`; a number (or numeric text) is epoch **seconds**, with
//                  fractions (Fluent Bit's `json_date_format double`); other text is read as ingest reads it
//   level_field:   that field becomes `level`
//   app_name:      the app_name of records that carry none (a key's pinned app_name still wins)
// A record's own `message`/`timestamp`/`level` displaced this way is kept as `client_message`, … .
import { InvalidMappingError } from '../errors'
import { freeName } from '../normalise/field-names'

export interface ShipperMapping {
  appName?: string
  messageField?: string
  timeField?: string
  levelField?: string
}

const PARAMS: Record<string, keyof ShipperMapping> = {
  app_name: 'appName', message_field: 'messageField', time_field: 'timeField', level_field: 'levelField'
}
const NUMERIC = /^\s*\d+(\.\d+)?\s*$/

/** The mapping a query string asks for; undefined without one. Unknown or malformed parameters are a 400. */
export function shipperMapping (query: unknown, maxFieldNameLength: number): ShipperMapping | undefined {
  if (typeof query !== 'object' || query === null) return undefined
  let mapping: ShipperMapping | undefined
  for (const [name, value] of Object.entries(query)) {
    const option = PARAMS[name]
    if (option === undefined) {
      throw new InvalidMappingError(`unknown query parameter "${name.slice(0, 64)}"; accepted: ${Object.keys(PARAMS).join(', ')}`)
    }
    const max = option === 'appName' ? 256 : maxFieldNameLength
    if (typeof value !== 'string' || value.length === 0 || value.length > max) {
      throw new InvalidMappingError(`query parameter ${name} must be given once, 1 to ${max} characters`)
    }
    (mapping ??= {})[option] = value
  }
  return mapping
}

/** `rec[from]` moved to `rec[to]`; a value already at `to` is kept as client_<to>. */
function move (rec: Record<string, unknown>, from: string, to: string, convert: (v: unknown) => unknown): void {
  if (!Object.hasOwn(rec, from)) return
  const value = rec[from]
  if (from !== to) {
    delete rec[from]
    if (Object.hasOwn(rec, to)) rec[freeName(rec, `client_${to}`)] = rec[to]
  }
  rec[to] = convert(value)
}

const asMessage = (v: unknown): unknown => typeof v === 'string' ? v : JSON.stringify(v)
const asTimestamp = (v: unknown): unknown => {
  if (typeof v === 'number') return v * 1000
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v) * 1000
  return v
}
const same = (v: unknown): unknown => v

/** Applies `m` to one record (in place; the record is handed over). Anything but an object is left to normaliseEvent to refuse. */
export function applyMapping (rec: unknown, m: ShipperMapping): unknown {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return rec
  const r = rec as Record<string, unknown>
  if (m.messageField !== undefined) move(r, m.messageField, 'message', asMessage)
  if (m.timeField !== undefined) move(r, m.timeField, 'timestamp', asTimestamp)
  if (m.levelField !== undefined) move(r, m.levelField, 'level', same)
  if (m.appName !== undefined && r.app_name === undefined) r.app_name = m.appName
  return r
}
