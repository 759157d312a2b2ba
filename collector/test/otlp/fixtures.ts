// OTLP logs requests made by the official OpenTelemetry JS SDK and serializers (the parity fixtures):
// records are emitted through a real LoggerProvider into an in-memory exporter, then encoded by
// @opentelemetry/otlp-transformer as protobuf and as JSON.
import { SeverityNumber } from '@opentelemetry/api-logs'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer'
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api'

export const TRACE_ID = '5b8efff798038103d269b633813fc60c'
export const SPAN_ID = 'eee19b7ec3c1b174'
export const T0 = 1767225600000 // 2026-01-01T00:00:00.000Z

type Emit = Parameters<ReturnType<LoggerProvider['getLogger']>['emit']>[0]

/** The SDK's records for `emits`, from a provider with `resource` attributes and scope `scope`. */
export async function sdkRecords (emits: Emit[], resource: Record<string, unknown> = { 'service.name': 'checkout' },
  scope = { name: 'parity-scope', version: '1.2.3' }): Promise<ReadableLogRecord[]> {
  const exporter = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource as Record<string, string>),
    processors: [new SimpleLogRecordProcessor({ exporter })]
  })
  const logger = provider.getLogger(scope.name, scope.version)
  for (const e of emits) logger.emit(e)
  await provider.forceFlush()
  const records = exporter.getFinishedLogRecords()
  await provider.shutdown()
  return records
}

export function encodeProtobuf (records: ReadableLogRecord[]): Buffer {
  return Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!)
}

export function encodeJson (records: ReadableLogRecord[]): unknown {
  return JSON.parse(Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString('utf8'))
}

export const spanContext = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED })

/** A spread of what records carry: every AnyValue kind, severities, trace context, event names. */
export const VARIED: Emit[] = [
  { body: 'plain text', severityNumber: SeverityNumber.INFO, severityText: 'INFO', timestamp: T0, observedTimestamp: T0 + 5 },
  {
    body: { msg: 'structured', user: { id: 7, roles: ['a', 'b'] }, ok: true },
    severityNumber: SeverityNumber.ERROR2,
    attributes: { 'http.method': 'GET', 'http.status_code': 503, 'http.route': '/pay', ratio: 0.25, flag: false, list: [1, 'two', 3.5], bytes: new Uint8Array([1, 2, 250]) },
    context: spanContext,
    timestamp: T0 + 1
  },
  { body: 42, severityText: 'warn', eventName: 'cart.updated', timestamp: T0 + 2, attributes: { message: 'clash', level: 'clash too', big: 2 ** 60 } },
  { body: ['x', { y: null }], severityNumber: SeverityNumber.FATAL4, observedTimestamp: T0 + 3 },
  { severityText: 'nonsense', attributes: { 'a.b': 1, a: 'value of a', 'a.c.d': 'deep', 'x..y': 'kept whole', $where: 'renamed' }, timestamp: T0 + 4 },
  { body: { message: 'from message key', nested: { deeper: { deepest: 'ok' } } }, severityNumber: SeverityNumber.TRACE, timestamp: T0 + 6 },
  { body: 'line "one"\n\ttab \u0001 \u2713 \ud83d\ude00', attributes: { 'quote"key': 'back\\slash', emoji: '\ud83d\ude00', '1': 'integer-like key' }, timestamp: T0 + 7 }
]
