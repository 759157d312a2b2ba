// One answer whoever answers: generated events and generated queries, each query asked of the journal
// (GET /logs in embedded mode), of MongoDB (GET /logs and /logs/histogram once every event is flushed to
// the provisioned server), of the tail's matcher, and of a small reference written here from the README's
// rules — all must name the same events. fast-check shrinks a failure to the smallest query that shows it.
import t from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { connectTestClient, segments, testMongoUri, uniqueDbName } from '../../test/support'
import { LineMatcher } from '../src/read/line-matcher'
import { parseReadQuery } from '../src/read/query'
import { buildTestApp } from './helpers'

const T0 = Date.parse('2026-11-30T00:00:00.000Z')
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']

// ---- the events -------------------------------------------------------------------------------------
const MESSAGES = ['Upstream timeout after 30s', 'connection reset by peer', 'slow query', 'ok', 'Café ouvert', 'İstanbul line', '\u212aELVIN scale', 'TIMEOUT again', 'say H\u0130', '']
const eventArb = fc.record({
  app_name: fc.constantFrom('api', 'web', 'pay'),
  level: fc.constantFrom(...LEVELS),
  message: fc.constantFrom(...MESSAGES),
  http: fc.option(fc.record({ status: fc.constantFrom<unknown>(200, 404, 500, 503, '500', 'n/a') }), { nil: undefined }),
  region: fc.option(fc.constantFrom('eu', 'us', 'ap', 'EU'), { nil: undefined }),
  user_id: fc.constantFrom<unknown>(undefined, null, 'u1', 7),
  tags: fc.option(fc.subarray(['a', 'b', 'c', 'web-9']), { nil: undefined }),
  items: fc.option(fc.array(fc.record({ sku: fc.constantFrom('x1', 'x2', 'y1'), qty: fc.constantFrom(1, 3, 10) }), { maxLength: 3 }), { nil: undefined }),
  duration_ms: fc.option(fc.constantFrom(5, 999, 1000, 1500, 20000, -3, 2.5), { nil: undefined }),
  ok: fc.option(fc.boolean(), { nil: undefined }),
  host: fc.option(fc.constantFrom('web-1', 'web-22', 'api-1', 'Web-3'), { nil: undefined }),
  note: fc.option(fc.constantFrom('Café', 'cafe', '\u212aelvin', 'straße', '10', 'b'), { nil: undefined })
}).map(e => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)))

// ---- the queries, as a structure the reference evaluates and as the text the collector parses --------
type Value = { text: string, quoted: boolean }
type Q =
  | { k: 'and' | 'or', a: Q, b: Q }
  | { k: 'not', a: Q }
  | { k: 'cmp', f: string, op: string, v: Value }
  | { k: 'in', f: string, vs: Value[] }
  | { k: 'exists', f: string }
  | { k: 'contains', f: string, text: string }
  | { k: 'text', text: string, quoted: boolean }

const FIELDS = ['app_name', 'message', 'http.status', 'region', 'user_id', 'tags', 'items.sku', 'items.qty', 'duration_ms', 'ok', 'host', 'note', 'missing']
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.record({ text: fc.constantFrom('api', 'web', 'eu', 'EU', 'us', 'a', 'b', 'c', 'x1', 'y1', 'u1', 'Café', 'cafe', 'straße', 'web-1', 'n/a', 'true', 'false'), quoted: fc.boolean() }),
  fc.record({ text: fc.constantFrom('0', '1', '3', '5', '7', '10', '200', '404', '500', '503', '999', '1000', '1500', '-3', '2.5', '1e3'), quoted: fc.boolean() })
)
const wordArb = fc.constantFrom('timeout', 'TimeOut', 'reset', 'slow', 'café', 'CAFÉ', 'istanbul', 'i', 'k', 'kelvin', 'again', 'ok', 'line', 'hi', 'say hi')

const termArb: fc.Arbitrary<Q> = fc.oneof(
  fc.record({ k: fc.constant('cmp' as const), f: fc.constantFrom(...FIELDS), op: fc.constantFrom('=', '!=', '>', '>=', '<', '<=', ':'), v: valueArb }),
  fc.record({ k: fc.constant('cmp' as const), f: fc.constantFrom('host', 'tags', 'note', 'items.sku'), op: fc.constant('prefix'), v: fc.record({ text: fc.constantFrom('web', 'web-', 'W', 'ca', 'x'), quoted: fc.constant(false) }) }),
  fc.record({ k: fc.constant('cmp' as const), f: fc.constant('level'), op: fc.constantFrom('=', '>', '>=', '<', '<='), v: fc.record({ text: fc.constantFrom('info', 'WARNING', 'error', 'critical', 'trace'), quoted: fc.constant(false) }) }),
  fc.record({ k: fc.constant('in' as const), f: fc.constantFrom(...FIELDS), vs: fc.array(valueArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({ k: fc.constant('exists' as const), f: fc.constantFrom(...FIELDS) }),
  fc.record({ k: fc.constant('contains' as const), f: fc.constantFrom('message', 'note', 'host', 'tags', 'region'), text: fc.constantFrom('e', 'caf', 'CAFÉ', 'web', 'k', 'i', 'ss', 'ß', 'U') }),
  fc.record({ k: fc.constant('text' as const), text: wordArb, quoted: fc.boolean() })
)
const queryArb: fc.Arbitrary<Q> = fc.letrec<{ q: Q }>(tie => ({
  q: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    termArb,
    fc.record({ k: fc.constant('not' as const), a: tie('q') }),
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const), a: tie('q'), b: tie('q') }))
})).q

const lit = (v: Value): string => v.quoted ? JSON.stringify(v.text) : v.text

function render (q: Q): string {
  switch (q.k) {
    case 'and': case 'or': return `(${render(q.a)}) ${q.k} (${render(q.b)})`
    case 'not': return `not (${render(q.a)})`
    case 'cmp': return q.op === 'prefix' ? `${q.f} = ${q.v.text}*` : `${q.f} ${q.op} ${lit(q.v)}`
    case 'in': return `${q.f} in (${q.vs.map(lit).join(', ')})`
    case 'exists': return `${q.f} exists`
    case 'contains': return `${q.f} contains ${JSON.stringify(q.text)}`
    case 'text': return q.quoted ? JSON.stringify(q.text) : q.text
  }
}

// ---- the reference: the README's rules, written again as plainly as possible -------------------------
function found (doc: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [doc]
  if (Array.isArray(doc)) return doc.filter(d => typeof d === 'object' && d !== null && !Array.isArray(d)).flatMap(d => found(d, path))
  if (typeof doc !== 'object' || doc === null || !(path[0]! in doc)) return []
  return found((doc as Record<string, unknown>)[path[0]!], path.slice(1))
}
const anyOf = (vals: unknown[], test: (v: unknown) => boolean): boolean => vals.some(v => test(v) || (Array.isArray(v) && v.some(test)))
const numeric = (v: Value): number | undefined => !v.quoted && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.text) ? Number(v.text) : undefined
function equal (x: unknown, v: Value): boolean {
  if (typeof x === 'string') return x === v.text
  if (typeof x === 'number') return numeric(v) === x
  if (typeof x === 'boolean') return !v.quoted && v.text === String(x)
  return false
}
const rank = (level: string): number => LEVELS.indexOf(level.toUpperCase() === 'WARN' ? 'WARNING' : level.toUpperCase())
function ordered (op: string, c: number): boolean {
  return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0
}

function reference (q: Q, e: Record<string, unknown>): boolean {
  switch (q.k) {
    case 'and': return reference(q.a, e) && reference(q.b, e)
    case 'or': return reference(q.a, e) || reference(q.b, e)
    case 'not': return !reference(q.a, e)
    case 'exists': return found(e, q.f.split('.')).length > 0
    case 'text': return typeof e.message === 'string' && e.message.toLowerCase().includes(q.text.toLowerCase())
    case 'contains': return anyOf(found(e, q.f.split('.')), x => typeof x === 'string' && x.toLowerCase().includes(q.text.toLowerCase()))
    case 'in': return q.vs.some(v => reference({ k: 'cmp', f: q.f, op: '=', v }, e))
    case 'cmp': {
      const vals = found(e, q.f.split('.'))
      if (q.f === 'level') {
        const want = rank(q.v.text)
        return q.op === '=' ? rank(e.level as string) === want : ordered(q.op, rank(e.level as string) - want)
      }
      if (q.op === 'prefix') return anyOf(vals, x => typeof x === 'string' && x.startsWith(q.v.text))
      if (q.op === '=' || q.op === ':') return anyOf(vals, x => equal(x, q.v))
      if (q.op === '!=') return !anyOf(vals, x => equal(x, q.v))
      const n = numeric(q.v)
      if (n !== undefined) return anyOf(vals, x => typeof x === 'number' && ordered(q.op, x - n))
      return anyOf(vals, x => typeof x === 'string' && ordered(q.op, x < q.v.text ? -1 : x > q.v.text ? 1 : 0))
    }
  }
}

// ---- the sources ------------------------------------------------------------------------------------
async function ask (app: FastifyInstance, query: string): Promise<{ ns: number[], source: string }> {
  const res = await app.inject({ method: 'GET', url: `/logs?limit=1000&query=${encodeURIComponent(query)}` })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} for ${query}: ${res.body}`)
  const body = res.json() as { events: Array<{ n: number }>, source: string }
  return { ns: body.events.map(e => e.n).sort((a, b) => a - b), source: body.source }
}

async function histogramTotal (app: FastifyInstance, query: string): Promise<number> {
  const from = new Date(T0 - 60_000).toISOString()
  const to = new Date(T0 + 3_600_000).toISOString()
  const res = await app.inject({ method: 'GET', url: `/logs/histogram?from=${from}&to=${to}&query=${encodeURIComponent(query)}` })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} for ${query}: ${res.body}`)
  return (res.json() as { total: number }).total
}

/** What the tail's matcher (the one every live tail runs over new journal lines) keeps of the journal. */
function tailMatches (logDir: string, query: string): number[] {
  const matcher = new LineMatcher(parseReadQuery({ query }), undefined, false)
  const ns: number[] = []
  for (const name of segments(logDir)) {
    const buf = readFileSync(join(logDir, name))
    matcher.scan(buf, buf.length, 0, (_s, _e, line, event) => { ns.push(Number((event ?? JSON.parse(line())).n)) })
  }
  return ns.sort((a, b) => a - b)
}

t.test('journal, MongoDB, tail and the reference agree on generated queries over generated events', async t => {
  const events = fc.sample(eventArb, { numRuns: 80, seed: 20261206 }).map((e, n) => ({ ...e, n, timestamp: T0 + n * 1000 }))
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('qdiff')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app: journal, logDir } = await buildTestApp(t)
  const { app: mongo } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', LOG_RETENTION_DAYS: '0', MAX_DOCUMENTS: '0', MAX_COLLECTION_SIZE: '0' })
  for (const app of [journal, mongo]) {
    const res = await app.inject({ method: 'POST', url: '/logs', payload: events })
    t.equal(res.statusCode, 200, res.body)
  }
  t.equal((await mongo.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  t.equal(await client.db(dbName).collection('logs').countDocuments(), events.length)

  let asked = 0
  await fc.assert(fc.asyncProperty(queryArb, async q => {
    const query = render(q)
    const want = events.filter(e => reference(q, e)).map(e => e.n)
    const fromJournal = await ask(journal, query)
    const fromMongo = await ask(mongo, query)
    if (fromMongo.source !== 'mongodb') throw new Error(`answered by ${fromMongo.source}`)
    const label = (name: string): string => `${name} for ${query}`
    assertSame(fromJournal.ns, want, label('journal'))
    assertSame(fromMongo.ns, want, label('MongoDB'))
    assertSame(tailMatches(logDir, query), want, label('tail'))
    const total = await histogramTotal(mongo, query)
    if (total !== want.length) throw new Error(`histogram (MongoDB) for ${query}: ${total}, want ${want.length}`)
    asked++
  }), { numRuns: 200, seed: 20261206, endOnFailure: true })
  t.equal(asked, 200, 'every generated query was asked of every source')
})

function assertSame (got: number[], want: number[], label: string): void {
  if (got.length !== want.length || got.some((n, i) => n !== want[i])) {
    throw new Error(`${label}: got [${got.join(',')}], want [${want.join(',')}]`)
  }
}
