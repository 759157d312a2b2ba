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
import { LEVELS, eventArb, queryArb, render, type Q, type Value } from './query-arbitraries'

const T0 = Date.parse('2026-11-30T00:00:00.000Z')
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
    matcher.scan(buf, buf.length, 0, (s, e, event) => { ns.push(Number((event ?? JSON.parse(buf.toString('utf8', s, e))).n)) })
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
