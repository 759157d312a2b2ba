// The documented REST API on the embedded (journal-only) store, through Fastify's inject().
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { segments } from '../../test/support'
import { buildTestApp } from './helpers'

async function journalLines (logDir: string): Promise<Array<Record<string, unknown>>> {
  const names = segments(logDir)
  const out: Array<Record<string, unknown>> = []
  for (const n of names) {
    for (const line of (await readFile(join(logDir, n), 'utf8')).split('\n')) if (line) out.push(JSON.parse(line))
  }
  return out
}

t.test('POST /log answers 201 with the original shape and journals the event', async t => {
  const { app, logDir } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/log', payload: { level: 'warning', message: 'disk low', app_name: 'api', disk: 'sda' } })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.same(Object.keys(body), ['status', 'message', 'timestamp'])
  t.equal(body.status, 'success')
  t.equal(body.message, 'Log recorded')
  t.ok(!Number.isNaN(Date.parse(body.timestamp)), 'timestamp is ISO 8601')
  const [line] = await journalLines(logDir)
  t.match(line, { level: 'WARNING', message: 'disk low', app_name: 'api', disk: 'sda', received_at: body.timestamp })
  t.match(line!._id, /^[0-9a-f]{24}$/)
})

t.test('GET /status has the six documented keys and says not_configured without MongoDB', async t => {
  const { app } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/log', payload: { message: 'x', app_name: 'a' } })
  const res = await app.inject({ method: 'GET', url: '/status' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(Object.keys(body).slice(0, 6), ['status', 'mongodb_status', 'buffer_size', 'time_since_last_flush', 'version', 'timestamp'])
  t.equal(body.status, 'operational')
  t.equal(body.mongodb_status, 'not_configured')
  t.equal(body.accepted_total, 1)
  t.type(body.time_since_last_flush, 'number')
  t.match(body.version, /^\d+\.\d+\.\d+/)
})

t.test('GET /status counts what the routes refused next to what the journal accepted', async t => {
  const { app } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/log', payload: { app_name: 'a' } }) // no message: refused
  const malformed = await app.inject({ method: 'POST', url: '/log', headers: { 'content-type': 'application/json' }, payload: '{"message":' })
  t.match(malformed.json(), { statusCode: 400, code: 'MAAP_INVALID_JSON' }, 'a body that does not parse is refused, and counted below')
  const batch = [JSON.stringify({ message: 'kept', app_name: 'a' }), '{not json', JSON.stringify({ app_name: 'a' })].join('\n')
  const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: batch })
  t.equal(res.statusCode, 200)
  t.match(await app.inject({ method: 'GET', url: '/status' }).then(r => r.json()), { accepted_total: 1, rejected_total: 4 })
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /maap_events_received_total\{route="\/log"\} 2\n/)
  t.match(metrics, /maap_events_rejected_total\{route="\/log",reason="invalid_event"\} 1\n/)
  t.match(metrics, /maap_events_rejected_total\{route="\/log",reason="invalid_json"\} 1\n/)
  t.match(metrics, /maap_events_rejected_total\{route="\/logs",reason="invalid_json"\} 1\n/)
  t.match(metrics, /maap_events_rejected_total\{route="\/logs",reason="invalid_event"\} 1\n/)
})

t.test('POST /force-flush without MongoDB succeeds and says where the events are', async t => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/force-flush' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 'success', message: /^Flushed 0 logs to MongoDB \(MongoDB is not configured/ })
})

t.test('client errors are 4xx with a message naming the problem', async t => {
  const { app } = await buildTestApp(t, { BODY_LIMIT: '2048' })
  const cases: Array<{ name: string, req: Parameters<typeof app.inject>[0], status: number, message: RegExp }> = [
    { name: 'malformed JSON', req: { method: 'POST', url: '/log', headers: { 'content-type': 'application/json' }, payload: '{"message":' }, status: 400, message: /JSON/i },
    { name: 'missing message', req: { method: 'POST', url: '/log', payload: { app_name: 'a' } }, status: 400, message: /'message'/ },
    { name: 'message of the wrong type', req: { method: 'POST', url: '/log', payload: { app_name: 'a', message: 5 } }, status: 400, message: /'message' must be a string/ },
    { name: 'missing app_name', req: { method: 'POST', url: '/log', payload: { message: 'm' } }, status: 400, message: /'app_name'/ },
    { name: 'unknown level', req: { method: 'POST', url: '/log', payload: { app_name: 'a', message: 'm', level: 'LOUD' } }, status: 400, message: /unknown level "LOUD"; accepted: .*warning/ },
    { name: 'garbage timestamp', req: { method: 'POST', url: '/log', payload: { app_name: 'a', message: 'm', timestamp: 'yesterday-ish' } }, status: 400, message: /'timestamp'/ },
    { name: 'array to /log', req: { method: 'POST', url: '/log', payload: [{ app_name: 'a', message: 'm' }] }, status: 400, message: /JSON object/ },
    { name: 'text/plain', req: { method: 'POST', url: '/log', headers: { 'content-type': 'text/plain' }, payload: 'hello' }, status: 415, message: /content-type|media type/i },
    { name: 'body over the limit', req: { method: 'POST', url: '/log', payload: { app_name: 'a', message: 'x'.repeat(4096) } }, status: 413, message: /too large|limit/i },
    { name: 'gzip that inflates past the limit', req: { method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, payload: gzipSync(JSON.stringify({ app_name: 'a', message: 'x'.repeat(100_000) })) }, status: 413, message: /too large|limit/i },
    { name: 'empty batch', req: { method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: '\n\n' }, status: 400, message: /no events/ }
  ]
  for (const c of cases) {
    const res = await app.inject(c.req)
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    t.match(res.json().message, c.message, `${c.name}: message`)
  }
  const after = await app.inject({ method: 'POST', url: '/log', payload: { app_name: 'a', message: 'still up' } })
  t.equal(after.statusCode, 201, 'a good event right after is accepted')
})

t.test('POST /logs keeps the good elements of a batch and says which were rejected and why', async t => {
  const { app, logDir } = await buildTestApp(t)
  const ndjson = [
    JSON.stringify({ level: 30, msg: 'ignored', message: 'pino info', app_name: 'a' }),
    '{not json',
    JSON.stringify({ level: 'nope', message: 'bad level', app_name: 'a' }),
    '',
    JSON.stringify({ level: 'http', message: 'winston http', app_name: 'a', timestamp: 1700000000000 })
  ].join('\n')
  const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'partial')
  t.equal(body.accepted, 2)
  t.same(body.rejected.map((r: { index: number }) => r.index), [1, 2])
  t.match(body.rejected[0].error, /not valid JSON/)
  t.match(body.rejected[1].error, /unknown level/)
  const lines = await journalLines(logDir)
  t.same(lines.map(l => [l.level, l.message]), [['INFO', 'pino info'], ['INFO', 'winston http']])
  t.equal(lines[1]!.timestamp, new Date(1700000000000).toISOString())
})

t.test('POST /logs takes a JSON array and gzip, and answers 400 when nothing is acceptable', async t => {
  const { app, logDir } = await buildTestApp(t)
  const events = Array.from({ length: 50 }, (_, i) => ({ message: `m${i}`, app_name: 'gz', level: 'debug' }))
  const gz = await app.inject({
    method: 'POST', url: '/logs', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzipSync(JSON.stringify(events))
  })
  t.equal(gz.statusCode, 200)
  t.same(gz.json(), { status: 'success', accepted: 50, rejected: [] })
  const allBad = await app.inject({ method: 'POST', url: '/logs', payload: [{ message: 1 }, { app_name: 'x' }] })
  t.equal(allBad.statusCode, 400)
  t.match(allBad.json(), { status: 'error', accepted: 0, rejected: [{ index: 0 }, { index: 1 }] })
  t.equal((await journalLines(logDir)).length, 50)
})
