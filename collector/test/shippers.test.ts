// POST /logs as log shippers send it, with the per-request mapping in the query string. The request
// shapes follow each shipper's own documentation and sources:
//   Fluent Bit `http` output: `format json` → a JSON array (application/json), `format json_lines` →
//     NDJSON (application/x-ndjson); each record has its time under `json_date_key` (default `date`) as
//     epoch seconds with fractions (`json_date_format double`, the default); tail puts the line in `log`;
//     `compress gzip` → Content-Encoding: gzip.
//   Vector `http` sink: `encoding.codec = "json"` → a JSON array; with `framing.method =
//     "newline_delimited"` → NDJSON; events carry `message`, an RFC 3339 `timestamp` with nanoseconds, `host`.
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { buildTestApp } from './helpers'
import { journaled as journal } from '../../test/support'

const DATE = 1796158800.123456 // 2026-12-01T21:00:00.123Z as Fluent Bit writes it
const ISO = '2026-12-01T21:00:00.123Z'

t.test('Fluent Bit format json (gzip) and json_lines with app_name, message_field and time_field', async t => {
  const { app, logDir } = await buildTestApp(t)
  const records = [
    { date: DATE, log: '10.0.0.1 - - "GET / HTTP/1.1" 200', stream: 'stdout' },
    { date: DATE + 1, log: 'upstream timed out', stream: 'stderr', level: 'error' }
  ]
  const url = '/logs?app_name=nginx&message_field=log&time_field=date'
  const json = await app.inject({
    method: 'POST', url, payload: gzipSync(JSON.stringify(records)),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'user-agent': 'Fluent-Bit' }
  })
  t.equal(json.statusCode, 200)
  t.match(json.json(), { status: 'success', accepted: 2 })
  const lines = await app.inject({
    method: 'POST', url, payload: records.map(r => JSON.stringify(r)).join('\n') + '\n', headers: { 'content-type': 'application/x-ndjson', 'user-agent': 'Fluent-Bit' }
  })
  t.match(lines.json(), { status: 'success', accepted: 2 })
  const stored = journal(logDir)
  t.equal(stored.length, 4)
  t.match(stored[0], { app_name: 'nginx', message: '10.0.0.1 - - "GET / HTTP/1.1" 200', timestamp: ISO, level: 'INFO', stream: 'stdout' })
  t.notOk('log' in stored[0]! || 'date' in stored[0]!, 'the mapped fields are moved, not copied')
  t.match(stored[1], { level: 'ERROR', timestamp: '2026-12-01T21:00:01.123Z' })
  t.same(stored.slice(2).map(l => l.message), stored.slice(0, 2).map(l => l.message))
})

t.test('Vector json and newline-delimited framing: app_name only; its RFC 3339 timestamps are read as they are', async t => {
  const { app, logDir } = await buildTestApp(t)
  const events = [
    { message: 'payment accepted', timestamp: '2026-12-01T21:00:00.123456789Z', host: 'web-1', source_type: 'file', file: '/var/log/app.log' },
    { message: 'payment refused', timestamp: '2026-12-01T21:00:02.5Z', host: 'web-1', source_type: 'file', file: '/var/log/app.log' }
  ]
  const array = await app.inject({ method: 'POST', url: '/logs?app_name=payments', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(events) })
  t.match(array.json(), { accepted: 2 })
  const ndjson = await app.inject({ method: 'POST', url: '/logs?app_name=payments', headers: { 'content-type': 'application/x-ndjson' }, payload: events.map(e => JSON.stringify(e)).join('\n') })
  t.match(ndjson.json(), { accepted: 2 })
  const stored = journal(logDir)
  t.match(stored[0], { app_name: 'payments', message: 'payment accepted', timestamp: ISO, host: 'web-1', source_type: 'file' })
  t.equal(stored[1]!.timestamp, '2026-12-01T21:00:02.500Z')
  t.equal(stored.length, 4)
})

t.test('NDJSON (or a JSON array) without Content-Type is read, not refused; other types stay 415', async t => {
  const { app, logDir } = await buildTestApp(t)
  const noType = await app.inject({ method: 'POST', url: '/logs?app_name=raw', payload: '{"message":"one"}\n{"message":"two"}\n' })
  t.equal(noType.statusCode, 200)
  t.match(noType.json(), { accepted: 2 })
  const arr = await app.inject({ method: 'POST', url: '/logs?app_name=raw', payload: '[{"message":"three"}]' })
  t.match(arr.json(), { accepted: 1 })
  const badArr = await app.inject({ method: 'POST', url: '/logs', payload: '[{"message":' })
  t.equal(badArr.statusCode, 400)
  t.match(badArr.json(), { code: 'MAAP_INVALID_JSON', message: /^the body is not valid JSON: / })
  t.same(journal(logDir).map(l => l.message), ['one', 'two', 'three'])
  const html = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'text/html' }, payload: '<p>' })
  t.equal(html.statusCode, 415)
  t.match(html.json(), { code: 'MAAP_UNSUPPORTED_MEDIA_TYPE', message: /Content-Type "text\/html" is not accepted/ })
})

t.test('mapping rules: displaced fields kept, non-string messages as JSON text, numeric-text seconds, level_field; a pinned key wins', async t => {
  const { app, logDir } = await buildTestApp(t, { API_KEYS: 'pinned:shipper-key-1,open-key-12' })
  const auth = (k: string): Record<string, string> => ({ authorization: `Bearer ${k}`, 'content-type': 'application/json' })
  const res = await app.inject({
    method: 'POST',
    url: '/logs?app_name=svc&message_field=msg&time_field=t&level_field=sev',
    headers: auth('open-key-12'),
    payload: [
      { msg: 'moved', message: 'was here', t: '1796158800.123', timestamp: 'old', sev: 'warn', level: 'debug' },
      { msg: { nested: true }, app_name: 'own' },
      { msg: 'iso', t: ISO },
      { nothing: 'to map' }
    ]
  })
  t.match(res.json(), { status: 'partial', accepted: 3, rejected: [{ index: 3, error: "missing required field 'message'" }] })
  const [moved, nested, iso] = journal(logDir)
  t.match(moved, { message: 'moved', client_message: 'was here', timestamp: ISO, client_timestamp: 'old', level: 'WARNING', client_level: 'debug', app_name: 'svc' })
  t.match(nested, { message: '{"nested":true}', app_name: 'own' })
  t.equal(iso!.timestamp, ISO)
  await app.inject({ method: 'POST', url: '/logs?app_name=svc', headers: auth('shipper-key-1'), payload: [{ message: 'pinned' }] })
  t.equal(journal(logDir)[3]!.app_name, 'pinned')
})

t.test('bad mapping queries are a 400 naming the parameter', async t => {
  const { app } = await buildTestApp(t)
  for (const [url, message] of [
    ['/logs?message_feild=log', /unknown query parameter "message_feild"; accepted: app_name, message_field, time_field, level_field/],
    ['/logs?app_name=', /app_name must be given once, 1 to 256/],
    ['/logs?time_field=a&time_field=b', /time_field must be given once/],
    [`/logs?message_field=${'x'.repeat(300)}`, /1 to 256 characters/]
  ] as const) {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: [{ message: 'm', app_name: 'a' }] })
    t.equal(res.statusCode, 400, url.slice(0, 40))
    t.match(res.json(), { code: 'MAAP_INVALID_MAPPING', message })
  }
})
