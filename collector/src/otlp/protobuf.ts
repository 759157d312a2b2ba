// ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1) from protobuf bytes into model.ts.
//
//   bytes ─► Reader (varint, fixed32/64, length-delimited, skip) ─► request ─► resource_logs ─► scope_logs
//            ─► log_records ─► AnyValue (recursive, depth-capped) ─► visitor, one record at a time
//
// A visitor may take a log record's bytes before they are decoded (recordBytes: the direct path,
// direct-lines.ts, which reads them with this Reader).
//
// Hand-written rather than generated: it reads only the fields the mapping uses, straight into plain
// values, with no message objects in between (npm run bench:otlp compares it with protobufjs). Every read
// is bounds-checked against the end of its enclosing message, every loop consumes at least one byte,
// unknown fields are skipped by wire type, and AnyValue recursion stops at `maxDepth`: malformed input
// throws OtlpDecodeError (a 400), never anything else, and cannot hang.
import { collect, hex, newRecord, OtlpDecodeError, setField, type AnyValue, type KeyValue, type LogsVisitor, type OtlpRecord, type OtlpResource, type OtlpScope } from './model'

export const VARINT = 0
export const FIXED64 = 1
export const LEN = 2
export const FIXED32 = 5
const TWO_32 = 4294967296

/** The wire reader, shared with the direct line writer (direct-lines.ts), which reads records itself. */
export class Reader {
  pos = 0
  /** Whether a value of the record being read was skipped for nesting too deep. */
  tooDeep = false
  private readonly view: DataView

  constructor (readonly buf: Buffer, readonly maxDepth: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  fail (what: string): never {
    throw new OtlpDecodeError(`${what} at byte ${this.pos}`)
  }

  /** A varint as a number; for tags, lengths, enums and 32-bit fields (higher bits are dropped). */
  uint32 (end: number): number {
    const buf = this.buf
    let pos = this.pos
    // Most varints here (tags, small lengths) are one byte.
    if (pos < end && buf[pos]! < 0x80) {
      this.pos = pos + 1
      return buf[pos]!
    }
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= end) {
        this.pos = pos
        this.fail('truncated varint')
      }
      const b = buf[pos++]!
      if (i < 5) result += (b & 0x7f) * scale // the bits below 2^35; those past 2^32 are cut below
      if (b < 0x80) {
        this.pos = pos
        return result > 0xffffffff ? result % TWO_32 : result
      }
      scale *= 128
    }
    this.pos = pos
    return this.fail('varint longer than 10 bytes')
  }

  /** A varint int64: a number while it is a safe integer, else its exact decimal text. */
  int64 (end: number): number | string {
    const buf = this.buf
    let pos = this.pos
    let lo = 0
    let hi = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= end) {
        this.pos = pos
        this.fail('truncated varint')
      }
      const b = buf[pos++]!
      const bits = b & 0x7f
      // Bytes 0–3 fill lo's 28 low bits, byte 4 straddles lo and hi, bytes 5–9 fill hi from its bit 3.
      if (i < 4) lo += bits * scale
      else if (i === 4) {
        lo += (bits & 0x0f) * 268435456 // 2^28
        hi += bits >>> 4
        scale = 8 / 128
      } else hi += bits * scale
      scale *= 128
      if (b < 0x80) {
        this.pos = pos
        hi %= TWO_32
        if (hi < 0x200000) return hi * TWO_32 + lo // below 2^53
        const big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo))
        return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big.toString()
      }
    }
    this.pos = pos
    return this.fail('varint longer than 10 bytes')
  }

  need (n: number, end: number): void {
    if (this.pos + n > end) this.fail('truncated field')
  }

  /** fixed64 nanoseconds as epoch milliseconds (with the fraction). */
  nanosAsMs (end: number): number {
    this.need(8, end)
    const lo = this.view.getUint32(this.pos, true)
    const hi = this.view.getUint32(this.pos + 4, true)
    this.pos += 8
    return (hi * TWO_32 + lo) / 1e6
  }

  fixed32 (end: number): number {
    this.need(4, end)
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }

  double (end: number): number {
    this.need(8, end)
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }

  /** The end offset of a length-delimited field that starts here. */
  lenEnd (end: number): number {
    const n = this.uint32(end)
    if (this.pos + n > end) this.fail('length runs past the end of its message')
    return this.pos + n
  }

  /** Where the field span() passed over starts. */
  spanStart = 0

  /** Passes over a length-delimited field (its wire type and length checked); returns its end, its start in spanStart. */
  span (end: number): number {
    this.expect(LEN)
    const to = this.lenEnd(end)
    this.spanStart = this.pos
    this.pos = to
    return to
  }

  string (end: number): string {
    const to = this.lenEnd(end)
    // Buffer#utf8Slice is what toString('utf8', …) calls after checking its arguments, already done here.
    const s = this.buf.utf8Slice(this.pos, to)
    this.pos = to
    return s
  }

  skipField (wire: number, end: number): void {
    if (wire === VARINT) this.uint32(end)
    else if (wire === FIXED64) { this.need(8, end); this.pos += 8 } else if (wire === LEN) this.pos = this.lenEnd(end)
    else if (wire === FIXED32) { this.need(4, end); this.pos += 4 } else this.fail(`unsupported wire type ${wire}`)
  }

  /** Reads a tag; returns the field number, with the wire type in this.wire. */
  wire = 0
  tag (end: number): number {
    const t = this.uint32(end)
    this.wire = t & 7
    const field = t >>> 3
    if (field === 0) this.fail('field number 0')
    return field
  }

  expect (wire: number): void {
    if (this.wire !== wire) this.fail(`wire type ${this.wire} where ${wire} was expected`)
  }

  // ── messages ──
  // Each record goes to the visitor as soon as it is read, so a request's records die young instead of
  // all living until the last is read. A resource (or scope) is read before its scope_logs (or
  // log_records) even where the encoder wrote it after them: one pass finds it, the next reads the rest.

  request (visitor: LogsVisitor<unknown, unknown>): void {
    const end = this.buf.length
    while (this.pos < end) {
      if (this.tag(end) === 1) { this.expect(LEN); this.resourceLogs(this.lenEnd(end), visitor) } else this.skipField(this.wire, end)
    }
  }

  resourceLogs (end: number, visitor: LogsVisitor<unknown, unknown>): void {
    const start = this.pos
    const attributes: KeyValue[] = []
    while (this.pos < end) {
      if (this.tag(end) === 1) { this.expect(LEN); this.attributesOf(this.lenEnd(end), 1, attributes) } else this.skipField(this.wire, end)
    }
    const resource = visitor.resource(attributes)
    this.pos = start
    while (this.pos < end) {
      if (this.tag(end) === 2) { this.expect(LEN); this.scopeLogs(this.lenEnd(end), visitor, resource) } else this.skipField(this.wire, end)
    }
  }

  /** The repeated KeyValue `field` of the message that ends at `end`, appended to `into`. */
  attributesOf (end: number, field: number, into: KeyValue[]): void {
    while (this.pos < end) {
      if (this.tag(end) === field) { this.expect(LEN); into.push(this.keyValue(this.lenEnd(end), 0)) } else this.skipField(this.wire, end)
    }
  }

  scopeLogs (end: number, visitor: LogsVisitor<unknown, unknown>, resource: unknown): void {
    const start = this.pos
    const info: OtlpScope = { name: '', version: '', attributes: [], records: [] }
    while (this.pos < end) {
      if (this.tag(end) === 1) {
        this.expect(LEN)
        const sEnd = this.lenEnd(end)
        while (this.pos < sEnd) {
          const g = this.tag(sEnd)
          if (g === 1) { this.expect(LEN); info.name = this.string(sEnd) } else if (g === 2) { this.expect(LEN); info.version = this.string(sEnd) } else if (g === 3) { this.expect(LEN); info.attributes.push(this.keyValue(this.lenEnd(sEnd), 0)) } else this.skipField(this.wire, sEnd)
        }
      } else this.skipField(this.wire, end)
    }
    const scope = visitor.scope(info, resource)
    this.pos = start
    while (this.pos < end) {
      if (this.tag(end) === 2) {
        this.expect(LEN)
        const rEnd = this.lenEnd(end)
        if (visitor.recordBytes?.(this.pos, rEnd, scope) === true) this.pos = rEnd
        else visitor.record(this.logRecord(rEnd), scope)
      } else this.skipField(this.wire, end)
    }
  }

  logRecord (end: number): OtlpRecord {
    const r = newRecord()
    this.tooDeep = false
    while (this.pos < end) {
      switch (this.tag(end)) {
        case 1: this.expect(FIXED64); r.timeMs = this.nanosAsMs(end); break
        case 2: this.expect(VARINT); r.severityNumber = this.uint32(end); break
        case 3: this.expect(LEN); r.severityText = this.string(end); break
        case 5: this.expect(LEN); r.body = this.anyValue(this.lenEnd(end), 1) ?? undefined; break
        case 6: this.expect(LEN); r.attributes.push(this.keyValue(this.lenEnd(end), 0)); break
        case 7: this.expect(VARINT); r.droppedAttributesCount = this.uint32(end); break
        case 8: this.expect(FIXED32); r.flags = this.fixed32(end); break
        case 9: { const to = this.span(end); r.traceId = hex(this.buf, this.spanStart, to); break }
        case 10: { const to = this.span(end); r.spanId = hex(this.buf, this.spanStart, to); break }
        case 11: this.expect(FIXED64); r.observedMs = this.nanosAsMs(end); break
        case 12: this.expect(LEN); r.eventName = this.string(end); break
        default: this.skipField(this.wire, end)
      }
    }
    r.tooDeep = this.tooDeep
    return r
  }

  /** KeyValue; `depth` is how many arrays/lists enclose it. */
  keyValue (end: number, depth: number): KeyValue {
    let key = ''
    let value: AnyValue = null
    while (this.pos < end) {
      const f = this.tag(end)
      if (f === 1) { this.expect(LEN); key = this.string(end) } else if (f === 2) { this.expect(LEN); value = this.anyValue(this.lenEnd(end), depth + 1) } else this.skipField(this.wire, end)
    }
    return { key, value }
  }

  /** AnyValue at nesting `depth` (1 = a body or an attribute's value). */
  anyValue (end: number, depth: number): AnyValue {
    let value: AnyValue = null
    while (this.pos < end) {
      switch (this.tag(end)) {
        case 1: this.expect(LEN); value = this.string(end); break
        case 2: this.expect(VARINT); value = this.uint32(end) !== 0; break
        case 3: this.expect(VARINT); value = this.int64(end); break
        case 4: { this.expect(FIXED64); const d = this.double(end); value = Number.isFinite(d) ? d : String(d); break }
        case 5: value = this.nested(end, depth, false); break
        case 6: value = this.nested(end, depth, true); break
        case 7: { const to = this.span(end); value = this.buf.toString('base64', this.spanStart, to); break }
        default: this.skipField(this.wire, end)
      }
    }
    return value
  }

  /** ArrayValue or KeyValueList: skipped (and the record marked) past the depth cap. */
  nested (end: number, depth: number, isList: boolean): AnyValue {
    this.expect(LEN)
    const to = this.lenEnd(end)
    if (depth > this.maxDepth) {
      this.tooDeep = true
      this.pos = to
      return null
    }
    if (isList) {
      const obj: Record<string, AnyValue> = {}
      while (this.pos < to) {
        if (this.tag(to) === 1) {
          this.expect(LEN)
          const kv = this.keyValue(this.lenEnd(to), depth)
          setField(obj, kv.key, kv.value)
        } else this.skipField(this.wire, to)
      }
      return obj
    }
    const arr: AnyValue[] = []
    while (this.pos < to) {
      if (this.tag(to) === 1) { this.expect(LEN); arr.push(this.anyValue(this.lenEnd(to), depth + 1)) } else this.skipField(this.wire, to)
    }
    return arr
  }
}

/**
 * Reads an ExportLogsServiceRequest into `visitor`, record by record. Arrays and key-value lists nested
 * more than `maxDepth` deep are skipped and mark their record `tooDeep`. Throws OtlpDecodeError for bytes
 * that are not such a request (possibly after some records were visited: the caller keeps nothing then).
 */
export function visitLogsProtobuf<R, S> (buf: Buffer, maxDepth: number, visitor: LogsVisitor<R, S>): void {
  new Reader(buf, maxDepth).request(visitor as LogsVisitor<unknown, unknown>)
}

/** The whole request as the model (for tests and tools; the route visits). */
export function decodeLogsProtobuf (buf: Buffer, maxDepth: number): OtlpResource[] {
  return collect(visitor => visitLogsProtobuf(buf, maxDepth, visitor))
}
