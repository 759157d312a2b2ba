// Parity: requests encoded by the official JS serializers (@opentelemetry/otlp-transformer) decode, in
// protobuf and in JSON, to the same events — and those events are the ones the README's table promises.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { decodeLogsJson } from '../../src/otlp/json'
import { decodeLogsProtobuf } from '../../src/otlp/protobuf'
import { eventText, recordEvent, resourceFields, scopeFields } from '../../src/otlp/mapping'
import type { OtlpResource } from '../../src/otlp/model'
import { encodeJson, encodeProtobuf, sdkRecords, SPAN_ID, T0, TRACE_ID, VARIED } from './fixtures'

function events (resources: OtlpResource[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const res of resources) {
    const shared = resourceFields(res.attributes)
    for (const scope of res.scopes) {
      const s = scopeFields(scope)
      for (const r of scope.records) {
        const json = eventText()
        const ev = recordEvent(r, shared, s, json)
        // The text recordEvent writes is the event's JSON (same fields, same values).
        if (!isDeepStrictEqual(JSON.parse(json.text), JSON.parse(JSON.stringify(ev)))) throw new Error(`text differs from the event: ${json.text}`)
        out.push(ev)
      }
    }
  }
  // Through JSON, as the journal sees them.
  return JSON.parse(JSON.stringify(out))
}

t.test('SDK records decode to the same events from protobuf and from JSON', async t => {
  const records = await sdkRecords(VARIED, { 'service.name': 'checkout', 'service.version': '9.9', 'deployment.environment': 'prod' })
  const fromProto = events(decodeLogsProtobuf(encodeProtobuf(records), 20))
  const fromJson = events(decodeLogsJson(encodeJson(records), 20))
  t.equal(fromProto.length, VARIED.length)
  t.same(fromProto, fromJson)
  t.strictSame(decodeLogsProtobuf(encodeProtobuf(records), 20), decodeLogsJson(encodeJson(records), 20), 'the decoded models agree too')

  const [plain, structured, scalar, array, clashes, msgKey] = fromProto as Array<Record<string, any>>
  t.match(plain, { app_name: 'checkout', level: 'INFO', message: 'plain text', timestamp: T0, observed_timestamp: new Date(T0 + 5).toISOString(), severity_text: 'INFO' })
  t.notOk('severity_number' in plain!, 'INFO = 9 says no more than the level')
  t.same(Object.keys(plain!).slice(0, 4), ['level', 'timestamp', 'app_name', 'message'])
  t.notOk('body' in plain!, 'a string body is the message alone')
  t.same(plain!.resource, { service: { name: 'checkout', version: '9.9' }, deployment: { environment: 'prod' } })
  t.same(plain!.scope, { name: 'parity-scope', version: '1.2.3' })

  t.match(structured, { level: 'ERROR', severity_number: 18, message: 'structured', trace_id: TRACE_ID, span_id: SPAN_ID, trace_flags: 1 })
  t.same(structured!.body, { msg: 'structured', user: { id: 7, roles: ['a', 'b'] }, ok: true })
  t.same(structured!.http, { method: 'GET', status_code: 503, route: '/pay' })
  t.same([structured!.ratio, structured!.flag, structured!.list, structured!.bytes], [0.25, false, [1, 'two', 3.5], Buffer.from([1, 2, 250]).toString('base64')])

  t.match(scalar, { level: 'WARNING', message: '42', body: 42, event_name: 'cart.updated', severity_text: 'warn' })
  t.same(scalar!.attributes, { message: 'clash', level: 'clash too' }, 'attributes named like our fields are kept under attributes')
  t.equal(scalar!.big, '1152921504606846976', 'an int64 beyond 2^53 is kept exactly, as a string')

  t.match(array, { level: 'CRITICAL', message: '["x",{"y":null}]', body: ['x', { y: null }], observed_timestamp: new Date(T0 + 3).toISOString() })

  t.match(clashes, { level: 'INFO', message: '', severity_text: 'nonsense' })
  t.same(clashes!.a, { _value: 'value of a', b: 1, c: { d: 'deep' } }, 'a value and an object under one key: the value is _value')
  t.equal(clashes!['x..y'], 'kept whole')
  t.equal(clashes!.$where, 'renamed', 'left for normaliseEvent to rename')

  t.match(msgKey, { level: 'TRACE', message: 'from message key', body: { nested: { deeper: { deepest: 'ok' } } } })
})

t.test('app_name falls back to the scope name, then unknown_service', async t => {
  const withScope = await sdkRecords([{ body: 'a' }], {}, { name: 'my-lib', version: '' })
  const e1 = events(decodeLogsProtobuf(encodeProtobuf(withScope), 20))[0]!
  t.equal(e1.app_name, 'my-lib')
  const resources = decodeLogsJson({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'b' } }] }] }] }, 20)
  t.equal(events(resources)[0]!.app_name, 'unknown_service')
})

t.test('timestamp: time_unix_nano, else observed_time_unix_nano, else none (server time)', async t => {
  const ns = (ms: number): string => String(BigInt(ms) * 1000000n + 123456n)
  const logRecords = [
    { timeUnixNano: ns(T0), observedTimeUnixNano: ns(T0 + 9) },
    { observedTimeUnixNano: ns(T0 + 9) },
    { timeUnixNano: 0, observedTimeUnixNano: '0' }
  ]
  const [both, observed, none] = events(decodeLogsJson({ resourceLogs: [{ scopeLogs: [{ logRecords }] }] }, 20))
  t.match(both, { timestamp: T0, observed_timestamp: new Date(T0 + 9).toISOString() })
  t.equal(observed!.timestamp, T0 + 9)
  t.notOk('observed_timestamp' in observed!)
  t.notOk('timestamp' in none!)
})

t.test('__proto__ keys are data, in attributes and in key-value lists', async t => {
  const kv = (key: string, value: unknown): unknown => ({ key, value })
  const logRecords = [{
    body: { kvlistValue: { values: [kv('__proto__', { stringValue: 'in body' })] } },
    attributes: [kv('__proto__', { stringValue: 'attr' }), kv('__proto__.x', { intValue: '1' })]
  }]
  const model = decodeLogsJson({ resourceLogs: [{ scopeLogs: [{ logRecords }] }] }, 20)
  const ev = recordEvent(model[0]!.scopes[0]!.records[0]!, resourceFields(model[0]!.attributes), scopeFields(model[0]!.scopes[0]!), eventText())
  t.equal(Object.getPrototypeOf(ev), Object.prototype)
  t.ok(Object.hasOwn(ev, '__proto__'))
  t.same(Object.getOwnPropertyDescriptor(ev, '__proto__')!.value, { _value: 'attr', x: 1 })
  t.equal(Object.getPrototypeOf(ev.body), Object.prototype)
  t.equal(JSON.stringify(ev.body), '{"__proto__":"in body"}')
})

t.test('the event text escapes what JSON must (quotes, controls, lone surrogates)', async t => {
  const kv = (key: string, value: unknown): unknown => ({ key, value })
  const odd = 'a "quote" \\ \n \u0007 \ud800 \udfff \ud83d\ude00'
  const logRecords = [{ body: { stringValue: odd }, severityText: odd, eventName: odd, attributes: [kv(odd, { stringValue: odd })] }]
  const [ev] = events(decodeLogsJson({ resourceLogs: [{ resource: { attributes: [kv('service.name', { stringValue: odd })] }, scopeLogs: [{ logRecords }] }] }, 20))
  t.match(ev, { message: odd, app_name: odd, severity_text: odd, event_name: odd, [odd]: odd })
})

t.test('severity numbers map by range', async t => {
  const want = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']
  const logRecords = Array.from({ length: 24 }, (_, i) => ({ severityNumber: i + 1 }))
  const got = events(decodeLogsJson({ resourceLogs: [{ scopeLogs: [{ logRecords }] }] }, 20)).map(e => e.level)
  t.same(got, Array.from({ length: 24 }, (_, i) => want[Math.floor(i / 4)]))
  const named = events(decodeLogsJson({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'SEVERITY_NUMBER_WARN3' }, { severityNumber: '17' }, { severityNumber: 30, severityText: 'ERROR' }] }] }] }, 20))
  t.same(named.map(e => e.level), ['WARNING', 'ERROR', 'ERROR'], 'enum names, numeric strings, out-of-range numbers fall to the text')
})
