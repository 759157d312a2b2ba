// Reads under load, on a real collector process over loopback: the cap on queries and its queue (503 +
// Retry-After, counted), a query past its time budget (a partial page whose cursor goes on exactly, an
// export cut off, 504 for counts), a client that goes away (its query stops, counted), and ingest
// answered while a long scan still runs. One journal of 200,000 events (~40 MB, ~40 blocks) serves
// collectors started on it in turn with different settings.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { collectorStatus, connectTestClient, poll, startCollector, testMongoUri, uniqueDbName, untilStatus, type RunningCollector } from '../../test/support'

const EVENTS = 200_000
/** Every NEEDLE_EVERY-th event (the newest one among them) says "needle". */
const NEEDLE_EVERY = 100
const BASE_MS = Date.now() - 3_600_000

interface Queries { running: number, queued: number, answered: number, refused: number, timed_out: number, aborted: number }
interface Status { queries: Queries }

const isNeedle = (i: number): boolean => i % NEEDLE_EVERY === NEEDLE_EVERY - 1

function eventLine (i: number): string {
  return JSON.stringify({
    timestamp: new Date(BASE_MS + i).toISOString(),
    level: i % 50 === 0 ? 'ERROR' : 'INFO',
    app_name: `app-${i % 5}`,
    message: `GET /api/orders/${i} answered 200 in ${i % 97} ms${isNeedle(i) ? ' needle' : ''}`,
    seq: i,
    user: { id: `u-${i % 1000}`, region: 'eu-west' },
    http: { method: 'GET', status: 200 }
  })
}

async function ingest (c: RunningCollector, from: number, to: number): Promise<void> {
  const lines: string[] = []
  for (let i = from; i < to; i++) lines.push(eventLine(i))
  const res = await fetch(`${c.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') })
  if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`)
}

const queries = async (c: RunningCollector): Promise<Queries> => (await collectorStatus<Status>(c)).queries
const untilQueries = async (c: RunningCollector, check: (q: Queries) => boolean): Promise<Queries> =>
  (await untilStatus<Status>(c, s => check(s.queries))).queries

/** A GET whose response the client does not read: the collector soon waits on the socket. */
function stalled (url: string, headers: Record<string, string> = {}): { req: ClientRequest, response: Promise<IncomingMessage> } {
  let req!: ClientRequest
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request(url, { agent: false, headers }, res => {
      res.pause()
      resolve(res)
    }).on('error', reject)
    req.end()
  })
  response.catch(() => {}) // a request destroyed on purpose
  return { req, response }
}

const logDir = mkdtempSync(join(tmpdir(), 'maap-admission-'))
t.teardown(() => rmSync(logDir, { recursive: true, force: true }))
// MAX_EVENT_LOOP_DELAY off: these tests are about queries, and their 20,000-event batches keep a collector's
// event loop busy for a second or more on a loaded machine, which ingest may rightly refuse as overload.
const env = { JOURNAL_FSYNC: 'off', MAX_EVENT_LOOP_DELAY: '0' }

t.test('the cap and its queue: 503 MAAP_TOO_MANY_QUERIES + Retry-After, a client gone while waiting or running, each counted', async t => {
  const c = await startCollector(t, { logDir, env: { ...env, QUERY_CONCURRENCY: '1', QUERY_QUEUE: '1', QUERY_QUEUE_WAIT: '600', QUERY_TIMEOUT: '600' } })
  for (let i = 0; i < EVENTS; i += 20_000) await ingest(c, i, i + 20_000)

  // An export whose client reads nothing holds the one slot: ~40 MB cannot all sit in socket buffers.
  const holder = stalled(`${c.url}/logs`, { accept: 'application/x-ndjson' })
  t.equal((await holder.response).statusCode, 200)
  await untilQueries(c, q => q.running === 1)

  const waiting = stalled(`${c.url}/logs/histogram?from=2h`)
  await untilQueries(c, q => q.queued === 1)

  const refused = await fetch(`${c.url}/logs?limit=1`)
  t.equal(refused.status, 503)
  t.ok(refused.headers.get('retry-after'), 'says when to come back')
  const body = await refused.json() as { code: string, message: string }
  t.equal(body.code, 'MAAP_TOO_MANY_QUERIES')
  t.match(body.message, /QUERY_CONCURRENCY.*QUERY_QUEUE/)
  t.match(await queries(c), { running: 1, queued: 1, refused: 1, aborted: 0 })

  // Refusals are about queries only: ingest and tails are not held by them.
  await ingest(c, EVENTS, EVENTS + 10)

  waiting.req.destroy()
  await untilQueries(c, q => q.queued === 0 && q.aborted === 1)
  holder.req.destroy()
  const after = await untilQueries(c, q => q.running === 0 && q.aborted === 2)
  t.equal(after.refused, 1)

  const answered = await fetch(`${c.url}/logs?limit=3&q=needle`)
  t.equal(answered.status, 200)
  t.equal(((await answered.json()) as { events: unknown[] }).events.length, 3)
  t.match(await queries(c), { running: 0, queued: 0, answered: 1, refused: 1, aborted: 2, timed_out: 0 })
  const metrics = await (await fetch(`${c.url}/metrics`)).text()
  t.match(metrics, /maap_queries_total\{outcome="refused"\} 1\b/)
  t.match(metrics, /maap_queries_total\{outcome="aborted"\} 2\b/)
  t.match(metrics, /maap_queries_running 0\b/)
  await c.stop()
})

interface Page { events: Array<{ seq: number }>, next: string | null, partial?: boolean, reason?: string }

t.test('past QUERY_TIMEOUT: a page says partial and its cursor goes on exactly; an export is cut off; counts answer 504', async t => {
  // 1 ms: no collector reads ~20 blocks in that time, so every query below ends by its budget.
  const c = await startCollector(t, { logDir, env: { ...env, QUERY_TIMEOUT: '0.001' } })
  const res = await fetch(`${c.url}/logs?q=needle&limit=1000`)
  t.equal(res.status, 200)
  const page = await res.json() as Page
  t.equal(page.partial, true)
  t.equal(page.reason, 'time budget')
  t.ok(page.events.length >= 1 && page.events.length < 1000, `some of the page: ${page.events.length}`)
  t.type(page.next, 'string')
  // What it answers is the answer's beginning: the newest needles, in order.
  const newest = Math.floor((EVENTS - 1) / NEEDLE_EVERY) * NEEDLE_EVERY + NEEDLE_EVERY - 1
  t.same(page.events.map(e => e.seq), page.events.map((_e, i) => newest - i * NEEDLE_EVERY))

  for (const path of ['/logs/histogram?q=needle&from=2h', '/logs/values?field=app_name&q=needle', '/logs/fields?q=needle']) {
    const r = await fetch(`${c.url}${path}`)
    t.equal(r.status, 504, path)
    t.match(await r.json(), { code: 'MAAP_QUERY_TIMEOUT', message: /QUERY_TIMEOUT \(0\.001 s\)/ }, path)
  }

  // QUERY_TIMEOUT does not apply to an NDJSON export, which is as long as what it matches: it ends whole.
  const whole = await fetch(`${c.url}/logs?q=needle`, { headers: { accept: 'application/x-ndjson' } })
  t.equal(whole.status, 200)
  t.equal((await whole.text()).trim().split('\n').length, Math.floor(EVENTS / NEEDLE_EVERY), 'every needle exported, past QUERY_TIMEOUT')

  await untilQueries(c, q => q.timed_out === 4 && q.running === 0)
  await c.stop()

  // EXPORT_TIMEOUT does: an export cut short never ends as a complete response.
  const e = await startCollector(t, { logDir, env: { ...env, EXPORT_TIMEOUT: '0.001' } })
  const exported = await fetch(`${e.url}/logs?q=needle`, { headers: { accept: 'application/x-ndjson' } })
  t.equal(exported.status, 200)
  await t.rejects(exported.text(), 'the client sees the export incomplete')
  await untilQueries(e, q => q.timed_out === 1 && q.running === 0)
  await e.stop()

  // With time enough, the cursor goes on where the partial page stopped: every needle once.
  const d = await startCollector(t, { logDir, env })
  const seqs = page.events.map(e => e.seq)
  for (let next = page.next; next !== null;) {
    const more = await (await fetch(`${d.url}/logs?q=needle&limit=1000&cursor=${next}`)).json() as Page
    t.notOk(more.partial)
    seqs.push(...more.events.map(e => e.seq))
    next = more.next
  }
  const expected: number[] = []
  for (let i = EVENTS - 1; i >= 0; i--) if (isNeedle(i)) expected.push(i)
  t.same(seqs, expected, 'nothing lost, nothing twice, in order')
  await d.stop()
})

t.test('ingest is answered while a long scan still runs', async t => {
  const c = await startCollector(t, { logDir, env })
  // No prefilter can help `seq < 0`: every line is parsed, and none matches.
  let answeredAt = ''
  const order: string[] = []
  const scan = fetch(`${c.url}/logs?query=${encodeURIComponent('seq < 0')}&limit=10`).then(async r => {
    order.push('query answered')
    answeredAt = String(r.status)
    return await r.json() as Page
  })
  await poll(async () => order.length > 0 || (await queries(c)).running === 1)
  t.same(order, [], 'the scan is still running')
  await ingest(c, EVENTS + 10, EVENTS + 11)
  order.push('ingest answered')
  const found = await scan
  t.equal(answeredAt, '200')
  t.same(found.events, [])
  t.same(order, ['ingest answered', 'query answered'], 'ingest did not wait for the scan')
  t.match(await queries(c), { answered: 1, running: 0 })
  await c.stop()
})

t.test('with MongoDB: a query past its budget stops on both sides, never falls back to the journal alone', async t => {
  const dbName = uniqueDbName('admission')
  const client = await connectTestClient(t)
  t.teardown(() => client.db(dbName).dropDatabase())
  // Nothing flushed: the journal's unconfirmed part (~20 blocks) is read with MongoDB's answer.
  const c = await startCollector(t, {
    env: { ...env, MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '1000000', QUERY_TIMEOUT: '0.001' }
  })
  for (let i = 0; i < EVENTS / 2; i += 20_000) await ingest(c, i, i + 20_000)
  for (const path of ['/logs/histogram?q=needle&from=2h', '/logs/values?field=app_name&q=needle', '/logs/fields?q=needle']) {
    const r = await fetch(`${c.url}${path}`)
    t.equal(r.status, 504, path)
    t.match(await r.json(), { code: 'MAAP_QUERY_TIMEOUT' }, path)
  }
  // A page cut short answers what was found by then, from both sides; on a loaded machine the 1 ms budget
  // can end before either side found anything: then 504, as the README says. Never the journal alone.
  const res = await fetch(`${c.url}/logs?q=needle&limit=1000`)
  const page = await res.json() as Page & { source: string, mongodb_error?: string, code?: string }
  if (res.status === 504) t.equal(page.code, 'MAAP_QUERY_TIMEOUT', 'nothing found within the budget')
  else {
    t.equal(res.status, 200)
    t.equal(page.partial, true)
    t.equal(page.source, 'mongodb', 'not answered as if MongoDB had failed')
  }
  t.equal(page.mongodb_error, undefined)
  await untilQueries(c, q => q.timed_out === 4 && q.running === 0)
  // SIGKILL, not SIGTERM: a clean stop would first flush the whole journal (the 200,000 events of the tests
  // above and these) into MongoDB, which is no part of this test and took most of its time.
  await c.stop('SIGKILL')
})
