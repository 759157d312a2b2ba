// Defects found by using the API as a client would (issue 10, section 6): empty bodies on POST routes
// that take none, each status's own reason phrase, and /status without a counter that could only be 0.
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { STATUS_CODES } from 'node:http'
import { testMongoUri, uniqueDbName, connectTestClient } from '../../test/support'
import type { InjectOptions } from 'fastify'
import { buildTestApp } from './helpers'

const adminKey = 'admin-key-0123456789'
const ingestKey = 'ingest-key-0123456789'

t.test('POST /force-flush with an empty body succeeds whatever the Content-Type (embedded mode)', async t => {
  const { app } = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/force-flush`
  for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/x-ndjson', undefined]) {
    const res = await fetch(url, { method: 'POST', headers: type === undefined ? {} : { 'content-type': type }, body: '' })
    t.equal(res.status, 200, `Content-Type ${type ?? '(none)'}`)
    t.match(await res.json(), { status: 'success', message: /^Flushed 0 logs to MongoDB/ })
  }
  const chunked = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Blob([]).stream(), duplex: 'half' } as RequestInit)
  t.equal(chunked.status, 200, 'an empty chunked body too')
  const ignored = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"anything": true}' })
  t.equal(ignored.status, 200, 'a body sent anyway is ignored (the route takes none)')
  const gz = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('') })
  t.equal(gz.status, 200, 'an empty gzip body')
})

t.test('POST /force-flush with Content-Type: application/json and no body flushes into MongoDB', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('emptyflush')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600' })
  t.equal((await app.inject({ method: 'POST', url: '/logs', payload: [{ message: 'a', app_name: 'x' }, { message: 'b', app_name: 'x' }] })).statusCode, 200)
  const res = await app.inject({ method: 'POST', url: '/force-flush', headers: { 'content-type': 'application/json' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'success', message: 'Flushed 2 logs to MongoDB' })
  t.equal(await client.db(dbName).collection('logs').countDocuments(), 2)
})

t.test('ingest routes still refuse an empty JSON body (they take one)', async t => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/log', headers: { 'content-type': 'application/json' } })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { error: 'Bad Request', code: 'MAAP_NO_EVENTS' })
})

t.test('every error status answers with its own reason phrase', async t => {
  const { app } = await buildTestApp(t, { API_KEYS: ingestKey, ADMIN_API_KEY: adminKey, RATE_LIMIT_PER_MINUTE: '3', BODY_LIMIT: '1024' })
  const auth = { authorization: `Bearer ${ingestKey}` }
  const cases: Array<[number, InjectOptions & { method: string, url: string }]> = [
    [400, { method: 'POST', url: '/log', headers: auth, payload: { app_name: 'a' } }],
    [401, { method: 'GET', url: '/status' }],
    [403, { method: 'GET', url: '/status', headers: { authorization: 'Bearer not-the-admin-key' } }],
    [413, { method: 'POST', url: '/logs', headers: { ...auth, 'content-type': 'application/x-ndjson' }, payload: 'x'.repeat(2048) }],
    [415, { method: 'POST', url: '/log', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' }],
    [429, { method: 'POST', url: '/log', headers: auth, payload: { message: 'm', app_name: 'a' } }]
  ]
  // Three ingest requests a minute per key: the 400, 413 and 415 use them, so the fourth is a 429.
  for (const [status, request] of cases) {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, `${request.method} ${request.url}`)
    t.equal(res.json().error, STATUS_CODES[status], `${status} says "${STATUS_CODES[status]}"`)
    t.equal(res.json().statusCode, status)
  }
})

t.test('/status has no "dropped": nothing acknowledged is ever dropped, and what is refused is counted by name', async t => {
  const { app } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/logs', payload: [{ message: 'ok', app_name: 'a' }, { message: 'no app' }] })
  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.notOk('dropped' in status)
  t.match(status, { accepted_total: 1, rejected_total: 1, dead_lettered: 0 })
  t.same(Object.keys(status).slice(0, 6), ['status', 'mongodb_status', 'buffer_size', 'time_since_last_flush', 'version', 'timestamp'], 'the documented keys first, as before')
})
