// GET /logs on the embedded store (the journal alone): filters, order, keyset paging that stays exact
// while events keep arriving, time windows over many segments, lines of an older collector, and the
// NDJSON export.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { poll } from '../../test/support'
import { buildTestApp, listen } from './helpers'
import { allPages, postEvents as post, search } from './read-helpers'

const T0 = Date.parse('2026-11-30T00:00:00.000Z')

t.test('filters combine with AND; newest first, ties by _id; events as stored', async t => {
  const { app } = await buildTestApp(t)
  await post(app, [
    { level: 'info', message: 'GET /a took 5ms', app_name: 'api', timestamp: T0 + 1000, http: { status: 200 } },
    { level: 'error', message: 'Upstream TIMEOUT after 30s', app_name: 'api', timestamp: T0 + 2000, http: { status: 504 } },
    { level: 'warn', message: 'slow query (timeout soon)', app_name: 'db', timestamp: T0 + 3000, tags: ['slow', 'sql'] },
    { level: 'fatal', message: 'out of memory', app_name: 'worker', timestamp: T0 + 4000, http: { status: '500' } },
    { level: 'debug', message: 'cache miss a.b*c', app_name: 'api', timestamp: T0 + 4000 }
  ])
  const all = await search(app, '')
  t.equal(all.source, 'journal')
  t.equal(all.next, null)
  t.type(all.took_ms, 'number')
  t.same(all.events.map(e => e.timestamp), ['2026-11-30T00:00:04.000Z', '2026-11-30T00:00:04.000Z', '2026-11-30T00:00:03.000Z', '2026-11-30T00:00:02.000Z', '2026-11-30T00:00:01.000Z'])
  t.ok(all.events[0]._id > all.events[1]._id, 'equal timestamps: the larger _id first')
  t.match(all.events[3], { level: 'ERROR', app_name: 'api', message: 'Upstream TIMEOUT after 30s', http: { status: 504 }, _id: /^[0-9a-f]{24}$/, received_at: /Z$/ })

  const messages = async (q: string): Promise<string[]> => (await search(app, q)).events.map(e => e.message)
  t.same(await messages('app_name=api'), ['cache miss a.b*c', 'Upstream TIMEOUT after 30s', 'GET /a took 5ms'])
  t.same(await messages('app_name=db,worker'), ['out of memory', 'slow query (timeout soon)'])
  t.same(await messages('level=WARNING'), ['out of memory', 'slow query (timeout soon)', 'Upstream TIMEOUT after 30s'])
  t.same(await messages('level=50'), ['out of memory', 'Upstream TIMEOUT after 30s'])
  t.same(await messages('q=timeout'), ['slow query (timeout soon)', 'Upstream TIMEOUT after 30s'], 'case-insensitive')
  t.same(await messages('q=a.b*c'), ['cache miss a.b*c'], 'regex characters are literal')
  t.same(await messages('q=a.b.c'), [])
  t.same(await messages('f.http.status=500'), ['out of memory'], 'a number-looking value matches the string')
  t.same(await messages('f.http.status=504'), ['Upstream TIMEOUT after 30s'], 'and the number')
  t.same(await messages('f.tags=sql'), ['slow query (timeout soon)'], 'an item of an array')
  t.same(await messages('app_name=api&level=error&q=upstream'), ['Upstream TIMEOUT after 30s'])
  t.same(await messages(`from=${T0 + 2000}&to=${new Date(T0 + 4000).toISOString()}`), ['slow query (timeout soon)', 'Upstream TIMEOUT after 30s'], 'from inclusive, to exclusive')
  t.same(await messages('from=1h'), [], 'relative to now')
})

t.test('bad parameters answer 400 naming the parameter', async t => {
  const { app } = await buildTestApp(t)
  for (const [query, name] of [['level=loud', 'level'], ['limit=abc', 'limit'], ['limit=1001', 'limit'], ['from=soon', 'from'],
    ['from=1h&to=2h', 'from'], ['cursor=abc', 'cursor'], ['f.$gt=1', 'f.$gt'], ['sort=asc', 'sort'], ['q=a&q=b', 'q']]) {
    const res = await app.inject({ method: 'GET', url: `/logs?${query}` })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { code: 'MAAP_BAD_QUERY', message: new RegExp(`^(${name.replace('$', '\\$')}:|unknown parameter "${name}")`) }, query)
  }
})

t.test('following next sees every event that matched at the first page exactly once, while more arrive', async t => {
  // Small segments: the pages cross many segment files and blocks.
  const { app } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '4096' })
  const before = Array.from({ length: 450 }, (_, i) => ({ message: `before ${i}`, app_name: i % 3 === 0 ? 'api' : 'web', seq: i, timestamp: T0 + Math.floor(i / 4) * 1000 }))
  await post(app, before)
  let n = 0
  // After each page: new events, some newer than everything, some in the middle of what is being paged.
  const seen = await allPages(app, 'limit=37', async () => {
    await post(app, [
      { message: `during ${n}`, app_name: 'api', seq: 10_000 + n, timestamp: Date.now() },
      { message: `during old ${n}`, app_name: 'web', seq: 20_000 + n, timestamp: T0 + 50_000 }
    ])
    n++
  })
  const seqs = seen.map(e => e.seq as number)
  t.equal(new Set(seqs).size, seqs.length, 'no event twice')
  t.same(seqs.filter(s => s < 10_000).sort((a, b) => a - b), before.map(e => e.seq), 'every event of the first page\'s moment, once')
  t.notOk(seqs.some(s => s >= 10_000), 'nothing that arrived after the first page')
  for (let i = 1; i < seen.length; i++) {
    const a = seen[i - 1]!
    const b = seen[i]!
    if (!(a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a._id > b._id))) t.fail(`out of order at ${i}`)
  }
  const apiOnly = await allPages(app, 'app_name=api&limit=10')
  t.same(apiOnly.map(e => e.app_name), Array(apiOnly.length).fill('api'))
  t.equal(apiOnly.length, 150 + n, 'a filtered paging sees the api events, the ones that arrived since included')
})

t.test('events that an older collector journaled (without the fixed head) are found too', async t => {
  const { app, logDir } = await buildTestApp(t)
  await post(app, [{ message: 'new one', app_name: 'api', timestamp: T0 + 5000 }])
  await app.close()
  // A segment in the layout the collector wrote before the head existed (_id first, or level first).
  await writeFile(join(logDir, 'maap-20261129T000000Z-000001.ndjson'),
    JSON.stringify({ _id: '6a0000000000000000000001', timestamp: new Date(T0 + 1000).toISOString(), received_at: new Date(T0 + 1000).toISOString(), level: 'ERROR', app_name: 'api', message: 'old one' }) + '\n' +
    JSON.stringify({ level: 'INFO', timestamp: new Date(T0 + 9000).toISOString(), app_name: 'web', message: 'old two', _id: '6a0000000000000000000002', received_at: new Date(T0 + 9000).toISOString() }) + '\n')
  const { app: again } = await buildTestApp(t, { LOG_DIR: logDir })
  t.same((await search(again, '')).events.map(e => e.message), ['old two', 'new one', 'old one'])
  t.same((await search(again, 'level=error')).events.map(e => e.message), ['old one'])
  t.same((await search(again, `to=${T0 + 2000}`)).events.map(e => e.message), ['old one'])
})

t.test('Accept: application/x-ndjson exports every match, past the page cap; limit caps it', async t => {
  const { app } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '65536' })
  await post(app, Array.from({ length: 2500 }, (_, i) => ({ message: `e ${i}`, app_name: 'api', seq: i, timestamp: T0 + i })))
  const res = await app.inject({ method: 'GET', url: '/logs', headers: { accept: 'application/x-ndjson' } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /application\/x-ndjson/)
  const lines = res.body.trimEnd().split('\n').map(l => JSON.parse(l))
  t.equal(lines.length, 2500)
  t.same(lines.map(e => e.seq), Array.from({ length: 2500 }, (_, i) => 2499 - i))
  const capped = await app.inject({ method: 'GET', url: '/logs?limit=5&q=e%201', headers: { accept: 'application/x-ndjson' } })
  t.same(capped.body.trimEnd().split('\n').map(l => JSON.parse(l).seq), [1999, 1998, 1997, 1996, 1995])
})

t.test('an export writes lines longer than its write batch (256 KiB) whole, in order, among short ones', async t => {
  const { app } = await buildTestApp(t)
  const big = (c: string): string => c.repeat(300_000)
  await post(app, [
    { message: 'short 0', app_name: 'api', timestamp: T0 },
    { message: big('a'), app_name: 'api', timestamp: T0 + 1 },
    { message: big('b'), app_name: 'api', timestamp: T0 + 2 },
    { message: 'short 3', app_name: 'api', timestamp: T0 + 3 }
  ])
  const res = await app.inject({ method: 'GET', url: '/logs', headers: { accept: 'application/x-ndjson' } })
  t.equal(res.statusCode, 200)
  t.same(res.body.trimEnd().split('\n').map(l => JSON.parse(l).message), ['short 3', big('b'), big('a'), 'short 0'])
})

t.test('an export stops reading when the client goes away, and the collector goes on serving', async t => {
  const { app } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '1048576' })
  const batch = Array.from({ length: 5000 }, (_, i) => ({ message: `bulk ${i} ${'x'.repeat(200)}`, app_name: 'api', seq: i }))
  for (let i = 0; i < 16; i++) await post(app, batch)
  const url = await listen(app)
  const received = await new Promise<number>((resolve, reject) => {
    const req = request(`${url}/logs`, { headers: { accept: 'application/x-ndjson' } }, res => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes > 100_000) {
          req.destroy()
          resolve(bytes)
        }
      })
    })
    req.on('error', err => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    req.end()
  })
  t.ok(received < 1_000_000, 'the client took part of the export and left')
  // The export ends by itself once the socket is gone; how far it read says whether it stopped early.
  await poll(() => app.collector.searcher.streamsOpen === 0)
  t.ok(app.collector.searcher.eventsAnswered < 40_000, `read ${app.collector.searcher.eventsAnswered} of 80,000 events, then stopped`)
  const after = await search(app, 'limit=1')
  t.equal(after.events.length, 1, 'the collector still answers')
})

t.test('a long export to a client slower than the collector: every line whole, once; no listener left behind on its response', async t => {
  const { app } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '1048576' })
  const batch = Array.from({ length: 5000 }, (_, i) => ({ message: `bulk ${i} ${'x'.repeat(200)}`, app_name: 'api', seq: i }))
  for (let i = 0; i < 8; i++) await post(app, batch)
  const url = await listen(app)
  // Node warns once an emitter holds more than 10 listeners for one event: each wait for 'drain' that
  // left its 'close' listener behind would add one.
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const body = await new Promise<Buffer>((resolve, reject) => {
    request(`${url}/logs`, { headers: { accept: 'application/x-ndjson' } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        res.pause() // a slow reader: the collector's writes fill the socket and wait for 'drain'
        setTimeout(() => res.resume(), 1)
      }).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject)
    }).on('error', reject).end()
  })
  // ~12 MB in 256 KB writes, each buffer filled again once the socket is done with it: a buffer reused too
  // early would show as a torn or repeated line.
  const lines = body.toString('utf8').split('\n').slice(0, -1)
  t.equal(lines.length, 40_000, 'every event exported')
  const seqs = new Map<number, number>()
  for (const line of lines) {
    const e = JSON.parse(line) as { seq: number, message: string }
    if (e.message !== `bulk ${e.seq} ${'x'.repeat(200)}`) t.fail(`a line not as stored: ${line.slice(0, 80)}`)
    seqs.set(e.seq, (seqs.get(e.seq) ?? 0) + 1)
  }
  t.ok(seqs.size === 5000 && [...seqs.values()].every(n => n === 8), 'each of the 5,000 events of each of the 8 batches once')
  t.same(warnings, [], 'no listener leak warning')
})

t.test('a block searched before it grew is searched again in full: an escaped value written later is found', async t => {
  const { app } = await buildTestApp(t)
  await post(app, [{ level: 'info', message: 'first', app_name: 'api', user: 'ann', timestamp: T0 }])
  t.same((await search(app, 'f.user=ann')).events.map(e => e.message), ['first'], 'this scan learns the block holds no \\u')
  // As a transport writes it (spliced as it is): the value with a letter escaped.
  const escaped = `{"level":"info","timestamp":${T0 + 1000},"message":"second","app_name":"api","user":"\\u0061nn"}`
  const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: escaped })
  t.equal(res.json().accepted, 1)
  t.same((await search(app, 'f.user=ann')).events.map(e => e.message), ['second', 'first'], 'the grown block is not trusted to hold no escape')
})
