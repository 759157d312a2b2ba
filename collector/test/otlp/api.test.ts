// POST /v1/logs through the real Fastify app (inject): encodings, answers in the request's encoding,
// partialSuccess, and every error a google.rpc.Status with the right status — never a 500.
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer'
import { buildTestApp } from '../helpers'
import { journaled as journal, poll } from '../../../test/support'
import { encodeJson, encodeProtobuf, sdkRecords, T0, VARIED } from './fixtures'

const PROTO = { 'content-type': 'application/x-protobuf' }
const JSON_CT = { 'content-type': 'application/json' }

/** google.rpc.Status { 1: code, 2: message } from its protobuf bytes (single-byte tags and lengths). */
function status (buf: Buffer): { code: number, message: string } {
  let pos = 0
  let code = 0
  let message = ''
  while (pos < buf.length) {
    const tag = buf[pos++]!
    if (tag === 0x08) code = buf[pos++]!
    else if (tag === 0x12) {
      let len = 0
      let shift = 0
      for (;;) { const b = buf[pos++]!; len |= (b & 0x7f) << shift; shift += 7; if (b < 0x80) break }
      message = buf.toString('utf8', pos, pos + len)
      pos += len
    } else throw new Error(`unexpected tag ${tag}`)
  }
  return { code, message }
}

t.test('protobuf and JSON requests are journaled as events and answered in their own encoding', async t => {
  const { app, logDir } = await buildTestApp(t)
  const records = await sdkRecords(VARIED)
  const proto = await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: encodeProtobuf(records) })
  t.equal(proto.statusCode, 200)
  t.equal(proto.headers['content-type'], 'application/x-protobuf')
  t.equal(proto.rawPayload.length, 0, 'an empty ExportLogsServiceResponse: everything kept')
  const json = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload: JSON.stringify(encodeJson(records)) })
  t.equal(json.statusCode, 200)
  t.match(json.headers['content-type'], /^application\/json/)
  t.same(json.json(), {})
  const lines = journal(logDir)
  t.equal(lines.length, VARIED.length * 2)
  const first = lines[0]!
  t.match(first, { app_name: 'checkout', level: 'INFO', message: 'plain text', timestamp: new Date(T0).toISOString() })
  t.match(first._id, /^[0-9a-f]{24}$/)
  t.ok(first.received_at)
  const renamed = lines.find(l => l.severity_text === 'nonsense')!
  t.equal(renamed._$where, 'renamed', 'normaliseEvent renamed the $ key')
  const strip = (l: Record<string, unknown>): unknown => { const { _id, received_at, observed_timestamp, ...rest } = l; return rest }
  t.same(lines.slice(0, VARIED.length).map(strip), lines.slice(VARIED.length).map(strip), 'both encodings stored the same events')
})

t.test('gzip bodies; the body limit applies after decompression (413 as a Status)', async t => {
  const { app, logDir } = await buildTestApp(t, { BODY_LIMIT: '4096' })
  const small = encodeProtobuf(await sdkRecords([{ body: 'zipped' }]))
  const ok = await app.inject({ method: 'POST', url: '/v1/logs', headers: { ...PROTO, 'content-encoding': 'gzip' }, payload: gzipSync(small) })
  t.equal(ok.statusCode, 200)
  t.equal(journal(logDir)[0]!.message, 'zipped')
  const big = encodeProtobuf(await sdkRecords([{ body: 'x'.repeat(8000) }]))
  const zipped = gzipSync(big)
  t.ok(zipped.length < 4096, 'the compressed body is under the limit')
  const tooBig = await app.inject({ method: 'POST', url: '/v1/logs', headers: { ...PROTO, 'content-encoding': 'gzip' }, payload: zipped })
  t.equal(tooBig.statusCode, 413)
  t.equal(tooBig.headers['content-type'], 'application/x-protobuf')
  t.equal(status(tooBig.rawPayload).code, 3)
  const tooBigJson = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload: JSON.stringify({ resourceLogs: [], pad: 'x'.repeat(5000) }) })
  t.equal(tooBigJson.statusCode, 413)
  t.match(tooBigJson.json(), { code: 3, message: /body/i })
})

t.test('a request whose events, each with the shared resource, outgrow the journal queue is a 413; nothing is kept', async t => {
  const { app, logDir } = await buildTestApp(t, { JOURNAL_MAX_QUEUE_BYTES: '65536' })
  const resource = { 'service.name': 'checkout', 'k8s.labels': 'l'.repeat(2000) }
  const many = await sdkRecords(Array.from({ length: 40 }, (_, i) => ({ body: `small ${i}` })), resource)
  const body = encodeProtobuf(many)
  t.ok(body.length < 8192, `the body is small (${body.length} bytes); its 40 lines are not`)
  for (const [headers, payload] of [[PROTO, body], [JSON_CT, JSON.stringify(encodeJson(many))]] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/logs', headers, payload })
    t.equal(res.statusCode, 413)
    const answer = headers === PROTO ? status(res.rawPayload) : res.json()
    t.match(answer.message, /more than 65536 bytes; nothing was stored: send smaller batches/)
  }
  t.same(journal(logDir), [], 'nothing journaled')
  const few = await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: encodeProtobuf(many.slice(0, 10)) })
  t.equal(few.statusCode, 200, 'a smaller batch of the same records is kept')
  t.equal(journal(logDir).length, 10)
})

t.test('other content types are 415, with a JSON Status', async t => {
  const { app } = await buildTestApp(t)
  for (const ct of ['text/plain', 'application/x-ndjson', 'application/grpc']) {
    const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': ct }, payload: 'x' })
    t.equal(res.statusCode, 415, ct)
    t.match(res.json(), { code: 3, message: /content-type|media type/i })
  }
  const encoded = await app.inject({ method: 'POST', url: '/v1/logs', headers: { ...PROTO, 'content-encoding': 'br' }, payload: Buffer.from('x') })
  t.equal(encoded.statusCode, 415, 'an unsupported Content-Encoding')
  t.equal(encoded.headers['content-type'], 'application/x-protobuf')
})

t.test('undecodable bodies are 400 with a google.rpc.Status in the request encoding', async t => {
  const { app } = await buildTestApp(t)
  const proto = await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: Buffer.from([0x0a, 0x05, 0x12]) })
  t.equal(proto.statusCode, 400)
  t.match(status(proto.rawPayload), { code: 3, message: /not an OTLP ExportLogsServiceRequest: length runs past/ })
  const cases = ['{"resourceLogs":', '[]', '{"resourceLogs":{}}', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}']
  for (const payload of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload })
    t.equal(res.statusCode, 400, payload)
    t.equal(res.json().code, 3)
  }
  const path = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload: cases[3]! })
  t.match(path.json().message, 'resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be hex')
})

t.test('refused records are counted in partialSuccess and their neighbours kept', async t => {
  const { app, logDir } = await buildTestApp(t, { MAX_EVENT_DEPTH: '3' })
  const records = await sdkRecords([
    { body: 'good one' },
    { body: { a: { b: { c: { d: 'too deep' } } } } },
    { body: 'good two', attributes: { 'x.y.z.w.v': 'dotted nesting too deep' } }
  ])
  const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: encodeProtobuf(records) })
  t.equal(res.statusCode, 200)
  const answer = ProtobufLogsSerializer.deserializeResponse(res.rawPayload)
  t.equal(Number(answer.partialSuccess!.rejectedLogRecords), 2)
  t.match(answer.partialSuccess!.errorMessage, /^2 log record\(s\) refused; the first: a value nests deeper than 3 levels/)
  t.same(journal(logDir).map(l => l.message), ['good one'])
  const json = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload: JSON.stringify(encodeJson(records)) })
  t.match(json.json(), { partialSuccess: { rejectedLogRecords: '2', errorMessage: /nests deeper/ } })
  t.match((await app.inject({ method: 'GET', url: '/status' })).json(), { rejected_total: 4 })
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /^maap_events_received_total\{route="\/v1\/logs"\} 6$/m, 'counted under its route, as /logs')
  t.match(metrics, /^maap_events_accepted_total\{route="\/v1\/logs"\} 2$/m)
  t.match(metrics, /^maap_events_rejected_total\{route="\/v1\/logs",reason="invalid_event"\} 4$/m)
})

t.test('API keys as on /logs: 401 and 403 as a Status; a pinned app_name wins', async t => {
  const { app, logDir } = await buildTestApp(t, { API_KEYS: 'pinned:secret-key-1' })
  const body = encodeProtobuf(await sdkRecords([{ body: 'k' }]))
  const none = await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: body })
  t.equal(none.statusCode, 401)
  t.equal(status(none.rawPayload).code, 16)
  const wrong = await app.inject({ method: 'POST', url: '/v1/logs', headers: { ...PROTO, authorization: 'Bearer nope-nope-nope' }, payload: body })
  t.equal(wrong.statusCode, 403)
  t.equal(status(wrong.rawPayload).code, 7)
  const ok = await app.inject({ method: 'POST', url: '/v1/logs', headers: { ...PROTO, authorization: 'Bearer secret-key-1' }, payload: body })
  t.equal(ok.statusCode, 200)
  t.match(journal(logDir)[0], { app_name: 'pinned', client_app_name: 'checkout' })
})

t.test('rate limit 429 and journal trouble 503 carry Retry-After; nothing is a 500', async t => {
  const { app, logDir } = await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: '2', JOURNAL_SEGMENT_BYTES: '1024' })
  const body = encodeProtobuf(await sdkRecords([{ body: 'y'.repeat(1100) }]))
  const send = async (): ReturnType<typeof app.inject> => await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: body })
  t.equal((await send()).statusCode, 200)
  renameSync(logDir, logDir + '.away')
  writeFileSync(logDir, 'not a directory')
  const failed = await send()
  t.equal(failed.statusCode, 503)
  t.equal(failed.headers['retry-after'], '1')
  t.match(status(failed.rawPayload), { code: 14, message: /could not be written to the local journal/ })
  rmSync(logDir)
  renameSync(logDir + '.away', logDir)
  const limited = await send()
  t.equal(limited.statusCode, 429)
  t.ok(limited.headers['retry-after'])
  t.equal(status(limited.rawPayload).code, 8)
})

t.test('backpressure from under-pressure is a 503 with Retry-After', async t => {
  const { app } = await buildTestApp(t, { MAX_HEAP_USED_BYTES: '1' })
  // under-pressure samples the heap on a timer; poll until it reports pressure.
  const res = await poll(async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload: '{}' })
    return r.statusCode === 503 && r
  })
  t.ok(res.headers['retry-after'])
  t.equal(res.json().code, 14)
})

t.test('an empty request is a 200 with nothing journaled', async t => {
  const { app, logDir } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: PROTO, payload: Buffer.alloc(0) })
  t.equal(res.statusCode, 200)
  t.same(journal(logDir), [])
  const json = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_CT, payload: '{"resourceLogs":[],"unknownField":1}' })
  t.equal(json.statusCode, 200)
})
