// ExportLogsServiceRequest in the OTLP/JSON encoding (already parsed by Fastify) into model.ts.
//
//   {resourceLogs:[{resource:{attributes}, scopeLogs:[{scope, logRecords:[…]}]}]} ─► visitor, record by record
//
// The encoding's quirks: trace and span ids are hex (not base64), 64-bit integers come as strings or
// numbers, enums as integers (their names are accepted too), unknown fields are ignored. A field of the
// wrong type is an OtlpDecodeError (400) naming its path; AnyValue recursion stops at `maxDepth`.
import { collect, newRecord, OtlpDecodeError, setField, type AnyValue, type KeyValue, type LogsVisitor, type OtlpRecord, type OtlpResource } from './model'

const SEVERITY_NAMES = ['UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4',
  'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4',
  'FATAL', 'FATAL2', 'FATAL3', 'FATAL4']
const INTEGER = /^-?\d{1,20}$/
const HEX_ID = /^[0-9a-fA-F]*$/

type Obj = Record<string, unknown>

function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function fail (path: string, what: string): never {
  throw new OtlpDecodeError(`${path}: ${what}`)
}

function objectAt (v: unknown, path: string): Obj | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObj(v)) fail(path, 'must be an object')
  return v
}

function arrayAt (v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) fail(path, 'must be an array')
  return v
}

function stringAt (v: unknown, path: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') fail(path, 'must be a string')
  return v
}

/** A uint32/int32 field: a number or its decimal text. */
function intAt (v: unknown, path: string): number {
  if (v === undefined || v === null) return 0
  const n = typeof v === 'string' && INTEGER.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(path, 'must be an integer')
  return n
}

/** A fixed64 of nanoseconds (a decimal string or a number) as epoch milliseconds. */
function nanosAt (v: unknown, path: string): number {
  if (v === undefined || v === null) return 0
  const n = typeof v === 'string' && INTEGER.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) fail(path, 'must be unsigned nanoseconds (a decimal string or a number)')
  return n / 1e6
}

function idAt (v: unknown, path: string): string {
  const s = stringAt(v, path)
  if (!HEX_ID.test(s) || s.length % 2 !== 0) fail(path, 'must be hex')
  return s.toLowerCase()
}

/** Prefixes the path of a failure inside element `i` of `name` (paths are built only when one fails). */
function within (err: unknown, name: string, i: number): never {
  if (err instanceof OtlpDecodeError) err.message = `${name}[${i}].${err.message}`
  throw err
}

class JsonReader {
  tooDeep = false
  constructor (readonly maxDepth: number) {}

  request (body: unknown, visitor: LogsVisitor<unknown, unknown>): void {
    if (!isObj(body)) fail('body', 'must be an ExportLogsServiceRequest object')
    const rls = arrayAt(body.resourceLogs, 'resourceLogs')
    for (let i = 0; i < rls.length; i++) {
      try {
        this.resourceLogs(rls[i], visitor)
      } catch (err) { within(err, 'resourceLogs', i) }
    }
  }

  resourceLogs (v: unknown, visitor: LogsVisitor<unknown, unknown>): void {
    const rl = objectAt(v, 'resourceLogs') ?? {}
    const resource = visitor.resource(this.attributes(objectAt(rl.resource, 'resource')?.attributes, 'resource.attributes'))
    const sls = arrayAt(rl.scopeLogs, 'scopeLogs')
    for (let j = 0; j < sls.length; j++) {
      try {
        this.scopeLogs(sls[j], visitor, resource)
      } catch (err) { within(err, 'scopeLogs', j) }
    }
  }

  scopeLogs (v: unknown, visitor: LogsVisitor<unknown, unknown>, resource: unknown): void {
    const sl = objectAt(v, 'scopeLogs') ?? {}
    const s = objectAt(sl.scope, 'scope') ?? {}
    const scope = visitor.scope({
      name: stringAt(s.name, 'scope.name'),
      version: stringAt(s.version, 'scope.version'),
      attributes: this.attributes(s.attributes, 'scope.attributes'),
      records: []
    }, resource)
    const lrs = arrayAt(sl.logRecords, 'logRecords')
    for (let k = 0; k < lrs.length; k++) {
      try {
        visitor.record(this.logRecord(lrs[k]), scope)
      } catch (err) { within(err, 'logRecords', k) }
    }
  }

  logRecord (v: unknown): OtlpRecord {
    const lr = objectAt(v, 'logRecord') ?? {}
    const r = newRecord()
    this.tooDeep = false
    r.timeMs = nanosAt(lr.timeUnixNano, 'timeUnixNano')
    r.observedMs = nanosAt(lr.observedTimeUnixNano, 'observedTimeUnixNano')
    const sev = lr.severityNumber
    if (typeof sev === 'string' && !INTEGER.test(sev)) {
      const i = SEVERITY_NAMES.indexOf(sev.replace(/^SEVERITY_NUMBER_/, ''))
      if (i === -1) fail('severityNumber', 'must be a SeverityNumber')
      r.severityNumber = i
    } else r.severityNumber = intAt(sev, 'severityNumber')
    r.severityText = stringAt(lr.severityText, 'severityText')
    r.body = this.anyValue(lr.body, 'body', 1) ?? undefined
    r.attributes = this.attributes(lr.attributes, 'attributes')
    r.droppedAttributesCount = intAt(lr.droppedAttributesCount, 'droppedAttributesCount')
    r.flags = intAt(lr.flags, 'flags')
    r.traceId = idAt(lr.traceId, 'traceId')
    r.spanId = idAt(lr.spanId, 'spanId')
    r.eventName = stringAt(lr.eventName, 'eventName')
    r.tooDeep = this.tooDeep
    return r
  }

  attributes (v: unknown, name: string): KeyValue[] {
    const list = arrayAt(v, name)
    const out: KeyValue[] = new Array(list.length)
    for (let i = 0; i < list.length; i++) {
      try {
        out[i] = this.keyValue(list[i], 0)
      } catch (err) { within(err, name, i) }
    }
    return out
  }

  /** KeyValue; `depth` is how many arrays/lists enclose it. */
  keyValue (v: unknown, depth: number): KeyValue {
    const kv = objectAt(v, 'keyValue') ?? {}
    return { key: stringAt(kv.key, 'key'), value: this.anyValue(kv.value, 'value', depth + 1) }
  }

  /** AnyValue at nesting `depth` (1 = a body or an attribute's value). */
  anyValue (v: unknown, name: string, depth: number): AnyValue {
    const av = objectAt(v, name)
    if (av === undefined) return null
    if (av.stringValue !== undefined) return stringAt(av.stringValue, 'stringValue')
    if (av.boolValue !== undefined) {
      if (typeof av.boolValue !== 'boolean') fail('boolValue', 'must be a boolean')
      return av.boolValue
    }
    if (av.intValue !== undefined) return int64(av.intValue, 'intValue')
    if (av.doubleValue !== undefined) return double(av.doubleValue, 'doubleValue')
    if (av.bytesValue !== undefined) return stringAt(av.bytesValue, 'bytesValue')
    if (av.arrayValue !== undefined) {
      if (depth > this.maxDepth) return this.skipped()
      const values = arrayAt(objectAt(av.arrayValue, 'arrayValue')?.values, 'arrayValue.values')
      const out: AnyValue[] = new Array(values.length)
      for (let i = 0; i < values.length; i++) {
        try {
          out[i] = this.anyValue(values[i], 'value', depth + 1)
        } catch (err) { within(err, 'arrayValue.values', i) }
      }
      return out
    }
    if (av.kvlistValue !== undefined) {
      if (depth > this.maxDepth) return this.skipped()
      const values = arrayAt(objectAt(av.kvlistValue, 'kvlistValue')?.values, 'kvlistValue.values')
      const out: Record<string, AnyValue> = {}
      for (let i = 0; i < values.length; i++) {
        try {
          const kv = this.keyValue(values[i], depth)
          setField(out, kv.key, kv.value)
        } catch (err) { within(err, 'kvlistValue.values', i) }
      }
      return out
    }
    return null
  }

  skipped (): null {
    this.tooDeep = true
    return null
  }
}

/** An int64: a number while it is a safe integer, else its exact decimal text. */
function int64 (v: unknown, path: string): number | string {
  // A number past 2^53 has already lost precision; its exact value as a double is what a protobuf
  // encoder would have written, so it is kept as that decimal text.
  if (typeof v === 'number' && Number.isInteger(v)) return Number.isSafeInteger(v) ? v : BigInt(v).toString()
  if (typeof v === 'string' && INTEGER.test(v)) {
    const n = Number(v)
    if (Number.isSafeInteger(n)) return n
    const big = BigInt.asIntN(64, BigInt(v))
    return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big.toString()
  }
  return fail(path, 'must be an integer (a number or a decimal string)')
}

function double (v: unknown, path: string): number | string {
  if (typeof v === 'number') return v
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return fail(path, 'must be a number')
}

/** Reads a parsed OTLP/JSON logs request into `visitor`. Throws OtlpDecodeError when it is not one. */
export function visitLogsJson<R, S> (body: unknown, maxDepth: number, visitor: LogsVisitor<R, S>): void {
  new JsonReader(maxDepth).request(body, visitor as LogsVisitor<unknown, unknown>)
}

/** The whole request as the model (for tests and tools; the route visits). */
export function decodeLogsJson (body: unknown, maxDepth: number): OtlpResource[] {
  return collect(visitor => visitLogsJson(body, maxDepth, visitor))
}
