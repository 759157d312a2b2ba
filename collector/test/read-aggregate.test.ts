// GET /logs/histogram and GET /logs/values: counts that agree with the events themselves, from the block
// summaries and from reading blocks alike, on the journal and on MongoDB (where FerretDB's missing date
// arithmetic in $group takes the portable path).
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { CANONICAL_LEVELS } from '../src/normalise/levels'
import { connectTestClient, testMongoUri, uniqueDbName } from '../../test/support'
import { buildTestApp } from './helpers'

const T0 = Date.parse('2026-11-30T10:00:00.000Z')
const LEVELS = ['debug', 'info', 'info', 'warn', 'error', 'fatal']
const N = 6000
const events = Array.from({ length: N }, (_, i) => ({
  level: LEVELS[i % LEVELS.length], message: `event ${i}${i % 7 === 0 ? ' timeout' : ''}`, app_name: ['api', 'web', 'db'][i % 3], timestamp: T0 + i * 500, user: { id: i % 5 }, tags: i % 2 === 0 ? ['even'] : ['odd', 'x']
}))
const canonical = (l: string): string => ({ debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'CRITICAL' } as Record<string, string>)[l]!

async function post (app: FastifyInstance): Promise<void> {
  for (let i = 0; i < N; i += 1000) {
    const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: events.slice(i, i + 1000).map(e => JSON.stringify(e)).join('\n') })
    if (res.statusCode !== 200) throw new Error(res.body)
  }
}

/** What a histogram must say, counted from the events themselves. */
function expected (times: number[], intervalMs: number, fromMs: number, toMs: number, keep: (e: typeof events[number]) => boolean): Record<string, number[]> {
  const out: Record<string, number[]> = Object.fromEntries(CANONICAL_LEVELS.map(l => [l, times.map(() => 0)]))
  for (const e of events) {
    if (e.timestamp < fromMs || e.timestamp >= toMs || !keep(e)) continue
    const b = Math.floor((e.timestamp - times[0]!) / intervalMs)
    if (b >= 0 && b < times.length) out[canonical(e.level!)]![b]!++
  }
  return out
}

async function checkHistograms (t: typeof import("tap").default, app: FastifyInstance, source: string): Promise<void> {
  const from = new Date(T0 + 60_000).toISOString()
  const to = new Date(T0 + 2_900_000).toISOString()
  const cases: Array<[string, (e: typeof events[number]) => boolean]> = [
    ['', () => true],
    ['&level=warning', e => ['warn', 'error', 'fatal'].includes(e.level!)],
    ['&app_name=web', e => e.app_name === 'web'],
    ['&q=timeout&level=error', e => e.message.includes('timeout') && ['error', 'fatal'].includes(e.level!)]
  ]
  for (const buckets of ['', '&buckets=7', '&buckets=500']) {
    for (const [filter, keep] of cases) {
      const res = await app.inject({ method: 'GET', url: `/logs/histogram?from=${from}&to=${to}${buckets}${filter}` })
      t.equal(res.statusCode, 200)
      const h = res.json()
      t.equal(h.source, source)
      const want = expected(h.times, h.interval_ms, Date.parse(from), Date.parse(to), keep)
      t.same(h.levels, want, `histogram${buckets}${filter}: ${h.times.length} buckets of ${h.interval_ms} ms`)
      t.equal(h.total, Object.values(want).flat().reduce((a, b) => a + b, 0))
    }
  }
  const round = (await app.inject({ method: 'GET', url: `/logs/histogram?from=${from}&to=${to}` })).json()
  t.equal(round.interval_ms, 60_000, 'about 60 buckets of a round width')
  t.equal(round.times[0] % 60_000, 0, 'aligned to it')
}

async function checkValues (t: typeof import("tap").default, app: FastifyInstance): Promise<void> {
  const apps = (await app.inject({ method: 'GET', url: '/logs/values?field=app_name' })).json()
  t.same(apps.values, [{ value: 'api', count: 2000 }, { value: 'db', count: 2000 }, { value: 'web', count: 2000 }])
  t.equal(apps.sampled, false)
  const ids = (await app.inject({ method: 'GET', url: '/logs/values?field=user.id&app_name=api&limit=2' })).json()
  t.equal(ids.values.length, 2)
  t.equal(ids.values[0].count, 400, 'api events spread evenly over five ids')
  const levels = (await app.inject({ method: 'GET', url: '/logs/values?field=level&level=error' })).json()
  t.same(levels.values, [{ value: 'CRITICAL', count: 1000 }, { value: 'ERROR', count: 1000 }])
  for (const [url, name] of [['/logs/values', 'field'], ['/logs/values?field=$where', 'field'], ['/logs/values?field=a&limit=0', 'limit'], ['/logs/histogram?buckets=1001', 'buckets'], ['/logs/histogram?cursor=x', 'cursor']]) {
    const res = await app.inject({ method: 'GET', url: url! })
    t.equal(res.statusCode, 400, url)
    t.match(res.json().message, new RegExp(`^(${name}:|unknown parameter "${name}")`))
  }
}

t.test('embedded: histogram and values from the journal', async t => {
  // Segments of 64 KB: about 300 events (150 s) each, so blocks both inside and across buckets.
  const { app } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '65536' })
  await post(app)
  await checkHistograms(t, app, 'journal')
  await checkValues(t, app)
})

t.test('MongoDB: histogram and values, half flushed, half still in the journal', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('aggregate')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', LOG_RETENTION_DAYS: '0', MAX_DOCUMENTS: '0', JOURNAL_SEGMENT_BYTES: '65536' })
  const first = events.slice(0, 3000)
  const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: first.map(e => JSON.stringify(e)).join('\n') })
  t.equal(res.statusCode, 200)
  await app.inject({ method: 'POST', url: '/force-flush' })
  t.equal(await client.db(dbName).collection('logs').countDocuments(), 3000)
  const second = events.slice(3000)
  await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: second.map(e => JSON.stringify(e)).join('\n') })
  await checkHistograms(t, app, 'mongodb')
  await checkValues(t, app)
})
