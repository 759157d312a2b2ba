// The journal lines of one OTLP logs request, in either encoding:
//
//   protobuf ─► each record: direct-lines.ts (its bytes straight to its line), else ─┐
//   JSON     ─► each record ──────────────────────────────────────────────────────────┴─► decoded: mapping.ts
//                                                                                          ─► normaliseEvent
// With redaction on (REDACT_FIELDS, REDACT_PATTERNS), every record takes the decoded path: the redactor
// works on the decoded event, inside normaliseEvent.
//
// Records refused by normalisation (limits, an app_name too long, …) are counted, with the first reason,
// and their neighbours kept. Throws OtlpDecodeError for a body that is not such a request, and
// LinesTooLargeError when the lines outgrow their bound: nothing of the request may be journaled then.
// The bound matters because each line carries its resource and scope: a large resource shared by many
// small records makes lines far larger than the body.
import { LineBuffer } from '../journal/line-buffer'
import { normaliseEvent, type IngestContext } from '../normalise/normalise'
import { DirectLines, type DirectScope } from './direct-lines'
import { visitLogsJson } from './json'
import { eventText, recordEvent, resourceFields, scopeFields, type ScopeFields, type Shared } from './mapping'
import type { LogsVisitor } from './model'
import { visitLogsProtobuf } from './protobuf'

export interface RequestLines {
  /** The accepted events' journal lines (each ending in '\n'). */
  lines: Buffer
  accepted: number
  /** How many of the accepted were written straight from their bytes (direct-lines.ts). */
  direct: number
  rejected: number
  /** Why the first refused record was refused ('' when none was). */
  firstError: string
}

/** The request's lines would pass `maxBytes`. */
export class LinesTooLargeError extends Error {
  constructor (readonly maxBytes: number) {
    super(`the request's journal lines would pass ${maxBytes} bytes`)
    this.name = 'LinesTooLargeError'
  }
}

export interface RequestLinesOptions {
  /** MAX_EVENT_DEPTH */
  maxDepth: number
  /** Bytes the lines may come to. */
  maxBytes: number
  /** false sends every protobuf record the decoded way: the reference the direct path is tested against. */
  direct?: boolean
}

interface Scope {
  shared: Shared
  fields: ScopeFields
  direct: DirectScope | undefined
}

/** The lines of `body`: protobuf bytes (a Buffer) or the parsed JSON encoding. */
export function requestLines (body: unknown, ctx: IngestContext, { maxDepth, maxBytes, direct = true }: RequestLinesOptions): RequestLines {
  const proto = Buffer.isBuffer(body)
  // Lines run about twice their protobuf record's size.
  const out = new LineBuffer(proto ? body.length * 2 + 1024 : 65536)
  // Redaction works on decoded events: with it on, every record takes the decoded path.
  const directLines = proto && direct && ctx.redactor === undefined ? new DirectLines(body, out, ctx, maxDepth) : undefined
  const json = eventText()
  let accepted = 0
  let directCount = 0
  let rejected = 0
  let firstError = ''
  const written = (): void => {
    if (out.pos > maxBytes) throw new LinesTooLargeError(maxBytes)
    accepted++
  }
  const visitor: LogsVisitor<Shared, Scope> = {
    resource: attributes => resourceFields(attributes),
    scope: (scope, shared) => {
      const fields = scopeFields(scope)
      return { shared, fields, direct: directLines?.scope(shared, fields) }
    },
    recordBytes: (start, end, scope) => {
      if (scope.direct === undefined || !directLines!.write(start, end, scope.direct)) return false
      written()
      directCount++
      return true
    },
    record: (record, scope) => {
      const normalised = record.tooDeep
        ? { ok: false as const, error: `a value nests deeper than ${maxDepth} levels` }
        : normaliseEvent(recordEvent(record, scope.shared, scope.fields, json), ctx, json.text)
      if (normalised.ok) {
        out.text(normalised.line + '\n')
        written()
      } else if (rejected++ === 0) firstError = normalised.error
    }
  }
  if (proto) visitLogsProtobuf(body, maxDepth, visitor)
  else visitLogsJson(body, maxDepth, visitor)
  return { lines: out.lines(), accepted, direct: directCount, rejected, firstError }
}
