// OTLP protobuf log records written straight from their bytes to their journal lines, for the records
// whose line needs no decision beyond the mapping's table: no value objects, no event object, no second
// walk over what the mapping has just built, no text to splice and then encode again.
//
//   LogRecord bytes ─► pass 1: field offsets and scalars; the attributes (direct-attributes.ts)
//                  ─► pass 2: the line's bytes, in the line's order
//                  └─ anything else ─► false: the record takes the decoded path (mapping.ts, normaliseEvent)
//
// The line is byte for byte the one the decoded path writes (collector/test/otlp/direct.test.ts holds
// the two paths to each other on generated and on mutated requests). A record is taken here when:
//   - its body is absent or a string, and its attributes are as direct-attributes.ts takes them (scalar
//     values, keys kept as they are or nested by their dots);
//   - it stays within MAX_EVENT_FIELDS, its scope's app_name is one normaliseEvent keeps as it is, and
//     its resource and scope break no limit and hold no name to rename (decided once per scope);
//   - its body, and each attribute's value, come once (the decoder reads, and checks, every one; a
//     repeated scalar field is read here as there, the last one winning).
// It reads with the decoder's own Reader, in the same order, so malformed bytes fail here exactly where
// they fail there (OtlpDecodeError, a 400); where it declines, it has read nothing the decoded path
// would not read too.
import { LineBuffer } from '../journal/line-buffer'
import { lineHead, TS_LENGTH, TS_START } from '../journal/line-head'
import { writeIsoFromMillis } from '../normalise/iso-time'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { countFields, MAX_APP_NAME_LENGTH, type IngestContext } from '../normalise/normalise'
import { writeObjectIdHex } from '../normalise/object-id'
import { DirectAttributes } from './direct-attributes'
import { appNameOf, eventMillis, keepsObservedTime, keepsSeverityNumber, levelOfSeverity, levelOfText, OWN_FIELDS, type ScopeFields, type Shared } from './mapping'
import { FIXED32, FIXED64, Reader, VARINT } from './protobuf'

/** What every line of one scope's records shares, made once per scope. */
export interface DirectScope {
  /** `"app_name":<json>,"message":` */
  appHead: Buffer
  /** `,"resource":<json>,"scope":<json>,"_id":"` */
  tail: Buffer
  /** The fields normaliseEvent counts in `resource` and `scope`, those two keys included. */
  fields: number
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')
// The line head for each level, with the timestamp's 24 characters at TS_START to be written over.
const LEVEL_HEADS = new Map<string, Buffer>(CANONICAL_LEVELS.map(l => [l, latin1(lineHead(' '.repeat(TS_LENGTH), l))]))
const F = {
  observed: latin1(',"observed_timestamp":"'),
  severityNumber: latin1(',"severity_number":'),
  severityText: latin1(',"severity_text":'),
  traceId: latin1(',"trace_id":"'),
  spanId: latin1(',"span_id":"'),
  traceFlags: latin1(',"trace_flags":'),
  eventName: latin1(',"event_name":'),
  dropped: latin1(',"dropped_attributes_count":'),
  quote: latin1('"')
}
const LONGEST_OWN_FIELD = Math.max(...[...OWN_FIELDS].map(f => f.length))
// Bytes a line can take beyond six per byte of its record (the worst case of JSON escaping): the head and
// the event's own field names. The scope's parts and the received_at tail are added to it.
const LINE_OVERHEAD = 512

export class DirectLines {
  private readonly reader: Reader
  private readonly enabled: boolean
  private readonly attributes: DirectAttributes
  /** `","received_at":"<time>"}` and the line's end. */
  private readonly receivedTail: Buffer

  constructor (private readonly body: Buffer, private readonly out: LineBuffer, private readonly ctx: IngestContext, maxDepth: number) {
    this.reader = new Reader(body, maxDepth)
    this.attributes = new DirectAttributes(body, this.reader, ctx.limits)
    // The event's own field names must themselves be short enough, and the arrival time is what the head's
    // fixed 24 characters hold when a record has no time (ingestContext makes it so).
    this.enabled = ctx.limits.maxFieldNameLength >= LONGEST_OWN_FIELD && /^[\x20-\x7e]{24}$/.test(ctx.receivedAt)
    this.receivedTail = latin1(`","received_at":"${ctx.receivedAt}"}\n`)
  }

  /** The shared parts of a scope's lines, or undefined when its records must take the decoded path. */
  scope (shared: Shared, scope: ScopeFields): DirectScope | undefined {
    if (!this.enabled) return undefined
    const appName = appNameOf(shared, scope.name)
    // A longer one is refused; under a key pinned to another app the event keeps its own as client_app_name.
    if (appName.length > MAX_APP_NAME_LENGTH || (this.ctx.appName !== undefined && this.ctx.appName !== appName)) return undefined
    const fields = countFields({ resource: shared.resource, scope: scope.fields }, this.ctx.limits)
    if (fields === undefined) return undefined
    return {
      appHead: Buffer.from('"app_name":' + JSON.stringify(appName) + ',"message":'),
      tail: Buffer.from(',"resource":' + shared.resourceJson + ',"scope":' + scope.json + ',"_id":"'),
      fields
    }
  }

  /** Writes the line of the LogRecord at body[start, end); false (nothing written) when it declines. */
  write (start: number, end: number, scope: DirectScope): boolean {
    const r = this.reader
    const body = this.body
    let timeMs = 0
    let observedMs = 0
    let severityNumber = 0
    let severityText = 0
    let severityTextEnd = 0
    let bodyAt = -1
    let bodyEnd = 0
    let dropped = 0
    let flags = 0
    let traceId = 0
    let traceIdEnd = 0
    let spanId = 0
    let spanIdEnd = 0
    let eventName = 0
    let eventNameEnd = 0
    const attributes = this.attributes
    attributes.begin()
    // Pass 1: where each field is, in the decoder's order and with its checks.
    r.pos = start
    while (r.pos < end) {
      switch (r.tag(end)) {
        case 1: r.expect(FIXED64); timeMs = r.nanosAsMs(end); break
        case 2: r.expect(VARINT); severityNumber = r.uint32(end); break
        case 3: severityTextEnd = r.span(end); severityText = r.spanStart; break
        case 5:
          // The decoder reads (and checks) every body; only the last is read here.
          if (bodyAt !== -1) return false
          bodyEnd = r.span(end)
          bodyAt = r.spanStart
          break
        case 6: {
          const to = r.span(end)
          attributes.add(r.spanStart, to)
          break
        }
        case 7: r.expect(VARINT); dropped = r.uint32(end); break
        case 8: r.expect(FIXED32); flags = r.fixed32(end); break
        case 9: traceIdEnd = r.span(end); traceId = r.spanStart; break
        case 10: spanIdEnd = r.span(end); spanId = r.spanStart; break
        case 11: r.expect(FIXED64); observedMs = r.nanosAsMs(end); break
        case 12: eventNameEnd = r.span(end); eventName = r.spanStart; break
        default: r.skipField(r.wire, end)
      }
    }
    // The body: absent, empty or a string (the message, '' for the first two); anything else is mapped by
    // the decoded path.
    let message = 0
    let messageEnd = 0
    if (bodyAt !== -1) {
      r.pos = bodyAt
      while (r.pos < bodyEnd) {
        const f = r.tag(bodyEnd)
        if (f === 1) {
          messageEnd = r.span(bodyEnd)
          message = r.spanStart
        } else if (f >= 2 && f <= 7) return false
        else r.skipField(r.wire, bodyEnd)
      }
    }
    // An empty text or id is the same as none.
    const hasSeverityText = severityTextEnd > severityText
    const hasTraceId = traceIdEnd > traceId
    const hasSpanId = spanIdEnd > spanId
    const hasEventName = eventNameEnd > eventName
    const level = levelOfSeverity(severityNumber) ?? (hasSeverityText ? levelOfText(body.utf8Slice(severityText, severityTextEnd)) : 'INFO')
    const ms = eventMillis(timeMs, observedMs)
    const hasObserved = keepsObservedTime(timeMs, observedMs)
    const hasSeverityNumber = keepsSeverityNumber(severityNumber)
    if (!attributes.read()) return false
    // level, app_name, message, the optional ones, the attributes, resource and scope (in scope.fields).
    const fields = 3 + (ms > 0 ? 1 : 0) + (hasObserved ? 1 : 0) + (hasSeverityNumber ? 1 : 0) + (hasSeverityText ? 1 : 0) +
      (hasTraceId ? 1 : 0) + (hasSpanId ? 1 : 0) + (flags !== 0 ? 1 : 0) + (hasEventName ? 1 : 0) + attributes.fields +
      (dropped !== 0 ? 1 : 0) + scope.fields
    if (fields > this.ctx.limits.maxFields) return false

    // Pass 2: the line. fixed64 nanoseconds (below 2^64, the year 2554) are always within MAX_DATE_MS.
    const out = this.out
    const lineStart = out.pos
    out.reserve(6 * (end - start) + scope.appHead.length + scope.tail.length + this.receivedTail.length + LINE_OVERHEAD)
    const head = LEVEL_HEADS.get(level)!
    out.put(head)
    if (ms > 0) writeIsoFromMillis(out.buf, lineStart + TS_START, ms)
    else out.buf.latin1Write(this.ctx.receivedAt, lineStart + TS_START, TS_LENGTH)
    out.put(scope.appHead)
    out.jsonText(body, message, messageEnd)
    if (hasObserved) {
      out.put(F.observed)
      writeIsoFromMillis(out.buf, out.pos, observedMs)
      out.pos += TS_LENGTH
      out.put(F.quote)
    }
    if (hasSeverityNumber) {
      out.put(F.severityNumber)
      out.number(severityNumber)
    }
    if (hasSeverityText) {
      out.put(F.severityText)
      out.jsonText(body, severityText, severityTextEnd)
    }
    if (hasTraceId) {
      out.put(F.traceId)
      out.hex(body, traceId, traceIdEnd)
      out.put(F.quote)
    }
    if (hasSpanId) {
      out.put(F.spanId)
      out.hex(body, spanId, spanIdEnd)
      out.put(F.quote)
    }
    if (flags !== 0) {
      out.put(F.traceFlags)
      out.number(flags & 0xff)
    }
    if (hasEventName) {
      out.put(F.eventName)
      out.jsonText(body, eventName, eventNameEnd)
    }
    attributes.write(out)
    if (dropped !== 0) {
      out.put(F.dropped)
      out.number(dropped)
    }
    out.put(scope.tail)
    writeObjectIdHex(out.buf, out.pos)
    out.pos += 24
    out.put(this.receivedTail)
    // The reservation above bounds every line (6 bytes per byte of its record, JSON escaping's worst case):
    // a line past it would be a bug here, and is not journaled cut short.
    if (out.pos > out.buf.length) throw new Error('an OTLP line outgrew its reservation')
    return true
  }
}
