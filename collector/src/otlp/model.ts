// What both OTLP decoders (protobuf.ts, json.ts) produce: the logs request as plain values, one shape
// whatever the encoding, so mapping.ts has one input and the parity test can compare the two.
//
//   ExportLogsServiceRequest ─► OtlpResource[] ─► OtlpScope[] ─► OtlpRecord[]
//
// AnyValue becomes a plain JavaScript value: string, boolean, number (an int64 beyond ±2^53 is its exact
// decimal text), a non-finite double its name ("NaN", "Infinity", "-Infinity"), bytes their base64 text,
// an array an array, a key-value list an object (built with setField, so `__proto__` is data), and an
// AnyValue with nothing set null.

export type AnyValue = string | number | boolean | null | AnyValue[] | { [key: string]: AnyValue }

export interface KeyValue {
  key: string
  value: AnyValue
}

export interface OtlpRecord {
  /** Epoch milliseconds (with the sub-millisecond fraction) of time_unix_nano; 0 = not set. */
  timeMs: number
  /** Epoch milliseconds of observed_time_unix_nano; 0 = not set. */
  observedMs: number
  severityNumber: number
  severityText: string
  /** undefined when the record has no body (or an empty AnyValue). */
  body: AnyValue | undefined
  attributes: KeyValue[]
  droppedAttributesCount: number
  flags: number
  /** Lowercase hex; '' when not set. */
  traceId: string
  spanId: string
  eventName: string
  /** Set when a value nested deeper than the decoder's cap; the value was skipped, the record is refused. */
  tooDeep: boolean
}

export interface OtlpScope {
  name: string
  version: string
  attributes: KeyValue[]
  records: OtlpRecord[]
}

export interface OtlpResource {
  attributes: KeyValue[]
  scopes: OtlpScope[]
}

/**
 * What a decoder hands its records to, in order: each resource (its attributes) before its scopes, each
 * scope before its records. `R` and `S` are whatever the visitor makes of a resource and a scope.
 */
export interface LogsVisitor<R, S> {
  resource: (attributes: KeyValue[]) => R
  /** `scope.records` is empty: the records follow, one `record` call each. */
  scope: (scope: OtlpScope, resource: R) => S
  record: (record: OtlpRecord, scope: S) => void
  /**
   * Protobuf only: offered each LogRecord's bytes [start, end) of the request first. Returns true when it
   * took the record itself; otherwise the record is decoded and handed to `record`.
   */
  recordBytes?: (start: number, end: number, scope: S) => boolean
}

/** The whole request as OtlpResource[], from a decoder run with the visitor this passes it. */
export function collect (run: (visitor: LogsVisitor<OtlpResource, OtlpScope>) => void): OtlpResource[] {
  const out: OtlpResource[] = []
  run({
    resource: attributes => { const res: OtlpResource = { attributes, scopes: [] }; out.push(res); return res },
    scope: (scope, res) => { res.scopes.push(scope); return scope },
    record: (record, scope) => { scope.records.push(record) }
  })
  return out
}

/** A body that is not an OTLP logs request: answered 400 with a google.rpc.Status. */
export class OtlpDecodeError extends Error {}

export function newRecord (): OtlpRecord {
  return {
    timeMs: 0,
    observedMs: 0,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
    tooDeep: false
  }
}

/** obj[key] = value, with `__proto__` as an own data property rather than a prototype change. */
export function setField (obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else obj[key] = value
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lowercase hex of bytes[start, end). */
export function hex (bytes: Uint8Array, start: number, end: number): string {
  let out = ''
  for (let i = start; i < end; i++) out += HEX[bytes[i]!]!
  return out
}
