// GET /logs/fields: the field names of the newest matching events, with their JSON types and how many
// events carry each — from the journal (embedded mode) and from MongoDB with part of the events still
// only in the journal; under the same filters and keys as every read route.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { connectTestClient, testMongoUri, uniqueDbName } from '../../test/support'
import { buildTestApp } from './helpers'

const T0 = Date.parse('2026-11-30T10:00:00.000Z')
const N = 240
// Event i is i seconds before the newest; each optional field on a rule whose count is easy to state.
const events = Array.from({ length: N }, (_, i) => ({
  timestamp: T0 - i * 1000,
  level: i % 2 === 0 ? 'info' : 'error',
  app_name: ['api', 'web', 'db'][i % 3],
  message: `event ${i}`,
  ...(i % 2 === 0 ? { http: { status: i % 4 === 0 ? 'n/a' : 200 + (i % 5) } } : { meta: {} }), // http.status: 120
  ...(i % 3 === 0 ? { user: { id: i } } : {}), //                                          user.id: 80 (the api events)
  ...(i % 5 === 0 ? { tags: ['x', 'y'] } : {}), //                                         tags: 48
  ...(i % 6 === 0 ? { items: [{ sku: 'a' }, { sku: 'b', qty: 2 }] } : {}), //             items, items.sku, items.qty: 40
  ...(i === 7 ? { note: null } : {}),
  ...(i % 10 === 0 ? { flag: true } : {}) //                                                flag: 24
}))

interface Field { name: string, types: string[], count: number }
interface Answer { fields: Field[], sampled: boolean, source: string }

async function fields (app: FastifyInstance, query = ''): Promise<Answer> {
  const res = await app.inject({ method: 'GET', url: `/logs/fields${query}` })
  if (res.statusCode !== 200) throw new Error(`GET /logs/fields${query} answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

const byName = (a: Answer): Record<string, Omit<Field, 'name'>> => Object.fromEntries(a.fields.map(({ name, ...rest }) => [name, rest]))

async function post (app: FastifyInstance, list: unknown[]): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: list.map(e => JSON.stringify(e)).join('\n') })
  if (res.statusCode !== 200) throw new Error(res.body)
}

async function checkFields (t: typeof import('tap').default, app: FastifyInstance, source: string): Promise<void> {
  const all = await fields(app)
  t.equal(all.source, source)
  t.equal(all.sampled, false)
  t.same(byName(all), {
    _id: { types: ['string'], count: N },
    app_name: { types: ['string'], count: N },
    level: { types: ['string'], count: N },
    message: { types: ['string'], count: N },
    received_at: { types: ['string'], count: N },
    timestamp: { types: ['string'], count: N },
    'http.status': { types: ['number', 'string'], count: 120 },
    'user.id': { types: ['number'], count: 80 },
    tags: { types: ['array'], count: 48 },
    items: { types: ['array'], count: 40 },
    'items.sku': { types: ['string'], count: 40 },
    'items.qty': { types: ['number'], count: 40 },
    flag: { types: ['boolean'], count: 24 },
    note: { types: ['null'], count: 1 }
  }, 'every name once, dotted, with its types and the events that carry it; an empty object has no name')
  const counts = all.fields.map(f => f.count)
  t.same(counts, [...counts].sort((a, b) => b - a), 'most frequent first')
  t.same(all.fields.slice(0, 6).map(f => f.name), ['_id', 'app_name', 'level', 'message', 'received_at', 'timestamp'], 'ties by name')

  t.same((await fields(app, '?limit=8')).fields.map(f => f.name).slice(6), ['http.status', 'user.id'], 'limit keeps the most frequent')
  const api = byName(await fields(app, '?app_name=api'))
  t.same(api['user.id'], { types: ['number'], count: 80 }, 'under app_name: only api events')
  t.same(api['http.status'], { types: ['number', 'string'], count: 40 })
  const queried = byName(await fields(app, `?query=${encodeURIComponent('tags exists and level >= ERROR')}`))
  t.same(queried.tags, { types: ['array'], count: 24 }, 'under the query language: odd multiples of 5')
  t.equal(queried.timestamp!.count, 24)
  t.notOk('http.status' in queried, 'no error event has http')
  const windowed = byName(await fields(app, `?from=${new Date(T0 - 9_000).toISOString()}`))
  t.equal(windowed.timestamp!.count, 10, 'from/to bound the events read')
  t.same(windowed.note, { types: ['null'], count: 1 })

  const bad = await app.inject({ method: 'GET', url: `/logs/fields?query=${encodeURIComponent('level >= ')}` })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'MAAP_BAD_QUERY', position: 10 })
  for (const [url, name] of [['?limit=0', 'limit'], ['?limit=1001', 'limit'], ['?field=a', 'field'], ['?level=LOUD', 'level']]) {
    const res = await app.inject({ method: 'GET', url: `/logs/fields${url!}` })
    t.equal(res.statusCode, 400, url)
    t.match(res.json().message, new RegExp(`^(${name}:|unknown parameter "${name}")`), url)
  }
}

t.test('embedded: the names of the journal\'s events', async t => {
  const { app } = await buildTestApp(t)
  await post(app, events)
  await checkFields(t, app, 'journal')
})

t.test('MongoDB: half flushed, half still in the journal, each event once', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('fields')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', LOG_RETENTION_DAYS: '0', MAX_DOCUMENTS: '0' })
  await post(app, events.slice(0, N / 2))
  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  t.equal(await client.db(dbName).collection('logs').countDocuments(), N / 2)
  await post(app, events.slice(N / 2))
  await checkFields(t, app, 'mongodb')
})

t.test('only the newest events are read, and the answer says so', async t => {
  const { app } = await buildTestApp(t)
  // The oldest event alone has `ancient`; 10,000 newer ones fill the sample.
  await post(app, [{ timestamp: T0 - 86_400_000, level: 'info', app_name: 'api', message: 'old', ancient: 1 }])
  for (let k = 0; k < 10; k++) {
    await post(app, Array.from({ length: 1000 }, (_, i) => ({ timestamp: T0 - (k * 1000 + i), level: 'info', app_name: 'api', message: 'new', recent: i })))
  }
  const sampled = await fields(app)
  t.equal(sampled.sampled, true)
  t.same(byName(sampled).recent, { types: ['number'], count: 10_000 })
  t.notOk('ancient' in byName(sampled), 'the oldest event was not read')
  const narrowed = await fields(app, '?query=ancient%20exists')
  t.equal(narrowed.sampled, false, 'a filter that leaves fewer events reads them all')
  t.same(byName(narrowed).ancient, { types: ['number'], count: 1 })
})

t.test('keys: a read key reads, a pinned read key sees its app\'s names alone, an ingest key does not read', async t => {
  const { app } = await buildTestApp(t, { API_KEYS: 'ingest-key-0001', READ_API_KEYS: 'reader-key-0001,billing:billing-reader-01' })
  const res = await app.inject({
    method: 'POST', url: '/logs', headers: { authorization: 'Bearer ingest-key-0001', 'content-type': 'application/x-ndjson' },
    payload: '{"message":"a","app_name":"api","user":{"id":1}}\n{"message":"b","app_name":"billing","invoice":{"total":9.5}}\n'
  })
  t.equal(res.statusCode, 200)
  const names = async (key: string | undefined, query = ''): Promise<string[] | number> => {
    const r = await app.inject({ method: 'GET', url: `/logs/fields${query}`, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
    return r.statusCode === 200 ? (r.json() as Answer).fields.map(f => f.name).filter(n => n.includes('.')) : r.statusCode
  }
  t.equal(await names(undefined), 401)
  t.equal(await names('ingest-key-0001'), 403)
  t.same(await names('reader-key-0001'), ['invoice.total', 'user.id'])
  t.same(await names('billing-reader-01'), ['invoice.total'])
  t.same(await names('billing-reader-01', '?app_name=api'), ['invoice.total'], 'whatever it asks for')
})
