// The scan threads of a count (read/scan-pool.ts, read/scan-worker.ts), real threads over real compacted
// segments: counts and histograms answer the same through the threads as over the NDJSON (columns-data.ts's
// generated segments and queries; in-thread over the columns: read-columns.test.ts); a count stopped
// mid-way (QUERY_TIMEOUT, client gone) is answered only once no thread works for it any more, and the
// threads' block counter stops there; a pool whose threads cannot start, or die, hands the blocks back and
// the answer is still whole; a real collector counts through its threads and says so in /status.
import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { collectorStatus, freshRequest, poll, startCollector } from '../../test/support'
import { readFooter } from '../src/journal/segment-file'
import { histogram, histogramRange } from '../src/read/aggregate'
import { QueryBudget, QueryStoppedError } from '../src/read/budget'
import { candidates } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import { JOB_ITEMS, ScanPool, configureScanPool, scanPool, type ScanItem } from '../src/read/scan-pool'
import { run, serve, type ScanReply, type ScanRequest } from '../src/read/scan-worker'
import { NOW, answers, compactedCopies, firstDiff, journalOf } from './columns-data'

// The thread runs the source (the test's TypeScript loader is inherited by threads), so its coverage counts.
const WORKER = resolve(__dirname, '..', 'src', 'read', 'scan-worker.ts')

type Segments = Awaited<ReturnType<typeof compactedCopies>>

/**
 * The generated segments, NDJSON and compacted (columns-data.ts), made once for the tests that only read
 * them (each copy compacts three segments); removed when the file's tests end. A test that changes its
 * files makes its own copy.
 */
let shared: Promise<Segments> | undefined
async function segments (): Promise<Segments> {
  shared ??= compactedCopies('maap-scan-pool-')
  return await shared
}
t.teardown(async () => {
  if (shared !== undefined) rmSync((await shared).base, { recursive: true, force: true })
})

/** The candidate blocks of a whole-range count over `dir`, as the pool takes them. */
async function itemsOf (dir: string, names: string[]): Promise<ScanItem[]> {
  const q = parseReadQuery({}, { now: NOW })
  const blocks = await candidates(await journalOf(dir, names).sources(), q, false)
  return blocks.map(c => ({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset }))
}

// The same reads in-thread over the columns are read-columns.test.ts's (c).
t.test('counts answer the same through the threads and over NDJSON', async t => {
  const { ndjson, cols, names } = await segments()
  configureScanPool(0)
  const want = await answers(journalOf(ndjson, names))
  configureScanPool(2, WORKER)
  t.teardown(async () => {
    await scanPool()?.close()
    configureScanPool(0)
  })
  const before = scanPool()!.status().blocks
  t.equal(firstDiff(await answers(journalOf(cols, names)), want), undefined, 'through two threads')
  const s = scanPool()!.status()
  t.ok(s.blocks > before, `the threads counted ${s.blocks - before} blocks`)
  t.equal(s.started, 2, 'both threads ran')
  t.equal(s.failures, 0)
  t.ok((want as Array<{ count: number }>).some(a => a.count > 100), 'the queries do count things')
})

t.test('a count stopped mid-way is answered once no thread works for it, and no block is counted after', async t => {
  const { cols, names } = await segments()
  const pool = new ScanPool(2, WORKER)
  t.teardown(async () => await pool.close())
  const one = await itemsOf(cols, names)
  t.ok(one.length > 10, `${one.length} blocks`)
  // The same blocks many times over: a count long enough to be stopped in the middle.
  const many = Array.from({ length: 400 }, () => one).flat()
  const range = { fromMs: 0, toMs: Infinity, first: 0, intervalMs: Number.MAX_SAFE_INTEGER, buckets: 1 }
  const query = { text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined }
  const budget = new QueryBudget()
  const counting = pool.count(many, query, range, budget.signal)
  await poll(() => pool.status().blocks > 0, 1, { ms: 60_000, what: 'the threads to count a first block' })
  budget.stop('client closed')
  await t.rejects(counting, new QueryStoppedError('client closed'), 'the count stops with the budget\'s reason')
  const stopped = pool.status()
  t.equal(stopped.busy, 0, 'no thread works for it when it is answered')
  t.ok(stopped.blocks < many.length, `stopped after ${stopped.blocks} of ${many.length} blocks`)
  t.ok(stopped.cancelled >= 1, 'its running jobs were cancelled')
  // Another count after it: the counter grows by that count's blocks alone.
  const r = await pool.count(one, query, range, new AbortController().signal)
  t.equal(pool.status().blocks, stopped.blocks + one.length, 'nothing of the stopped count was counted later')
  t.ok(r.counts.reduce((a, b) => a + b, 0) > 0, 'the next count counts')
  // A job that fails (its directory is a file: ENOTDIR) hands its blocks back rather than failing the count.
  const failed = await pool.count([{ ...one[0]!, dir: join(cols, names[0]! + '.z') }, ...one.slice(1)], query, range, new AbortController().signal)
  t.same(failed.fallback, Array.from({ length: Math.min(JOB_ITEMS, one.length) }, (_, k) => k), 'the failed job\'s blocks handed back')
  const gone = new AbortController()
  gone.abort('time budget')
  await t.rejects(pool.count(one, query, range, gone.signal), new QueryStoppedError('time budget'), 'a count stopped before it starts')
})

t.test('threads that cannot start or that die hand their blocks back: the answer is whole', async t => {
  const { base, ndjson, cols, names } = await segments()
  const q = parseReadQuery({ q: 'timeout' }, { now: NOW })
  const all = { ...q, from: new Date(NOW - 30 * 86_400_000).toISOString() }
  configureScanPool(0)
  const want = (await histogram(journalOf(ndjson, names), undefined, all, histogramRange(all, 1, NOW))).total
  t.ok(want > 0)
  configureScanPool(2, join(base, 'no-such-worker.js'))
  t.teardown(() => configureScanPool(0))
  const broken = scanPool()!
  for (let i = 0; i < 3; i++) {
    const got = (await histogram(journalOf(cols, names), undefined, all, histogramRange(all, 1, NOW))).total
    t.equal(got, want, `count ${i + 1}: the blocks read in-thread`)
  }
  t.ok(broken.status().failures >= 3, 'the failures counted')
  t.equal(scanPool(), undefined, 'past a few failures the pool is no longer used')
  t.equal((await histogram(journalOf(cols, names), undefined, all, histogramRange(all, 1, NOW))).total, want, 'in-thread from then on')
  const items = await itemsOf(cols, names)
  const back = await broken.count(items, { text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined },
    { fromMs: 0, toMs: Infinity, first: 0, intervalMs: Number.MAX_SAFE_INTEGER, buckets: 1 }, new AbortController().signal)
  t.equal(back.fallback.length, items.length, 'asked anyway, it hands every block back')
})

t.test('a scan thread\'s job: columns missing or damaged are handed back, undecided lines named', async t => {
  // Its own copy: it damages the compacted files.
  const { base, ndjson, cols, names } = await compactedCopies('maap-scan-pool-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const range = { fromMs: 0, toMs: Infinity, first: 0, intervalMs: Number.MAX_SAFE_INTEGER, buckets: 1 }
  const query = { text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined }
  const items = await itemsOf(cols, names)
  const r = await run(1, query, range, items)
  t.equal(r.code, 'done')
  if (r.code !== 'done') return
  t.equal(r.fallback.length, 0, 'every block has columns')
  t.ok(r.undecided.length > 0, 'some lines left to the parse (escapes, non-ASCII, no head)')
  t.equal(r.blocks, items.length)
  const plainItems = await itemsOf(ndjson, names)
  const plain = await run(2, query, range, plainItems)
  t.equal(plain.code === 'done' && plain.fallback.length, plainItems.length, 'NDJSON segments: every block handed back')
  const gone = await run(3, query, range, items.map(i => ({ ...i, segment: 'maap-00000000T000000Z-000000.ndjson' })))
  t.equal(gone.code === 'done' && gone.fallback.length, items.length, 'a segment that is gone: handed back')
  // Damaged columns (a flipped byte: their checksum fails), then a damaged footer: handed back too.
  const path = join(cols, names[0]! + '.z')
  const fh = await open(path, 'r')
  const footer = await readFooter(fh, path)
  await fh.close()
  const victim = footer.blocks[1]!
  const bytes = readFileSync(path)
  bytes[victim.cols!.at + 3] = bytes[victim.cols!.at + 3]! ^ 0xff
  writeFileSync(path, bytes)
  const inVictim = items.filter(i => i.segment === names[0] && i.start < victim.end && i.end > victim.start)
  const damaged = await run(4, query, range, inVictim)
  t.equal(damaged.code === 'done' && damaged.fallback.length, inVictim.length, 'damaged columns: handed back')
  writeFileSync(path, bytes.subarray(0, bytes.length - 3))
  const torn = await run(5, query, range, inVictim)
  t.equal(torn.code === 'done' && torn.fallback.length, inVictim.length, 'a torn footer: handed back')
})

t.test('the thread\'s protocol over a real channel: count, cancel, release, error', async t => {
  const { cols, names } = await segments()
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => { port1.close() })
  serve(port1)
  const replies: ScanReply[] = []
  port2.on('message', (r: ScanReply) => replies.push(r))
  const ask = async (req: ScanRequest, n: number): Promise<ScanReply> => {
    port2.postMessage(req)
    return await poll(() => replies.length >= n && replies[n - 1], 5, { ms: 60_000, what: `answer ${n}` })
  }
  const range = { fromMs: 0, toMs: Infinity, first: 0, intervalMs: Number.MAX_SAFE_INTEGER, buckets: 1 }
  const query = { text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined }
  const items = await itemsOf(cols, names)
  const done = await ask({ code: 'count', id: 1, query, range, items }, 1)
  t.equal(done.code, 'done')
  t.ok(done.code === 'done' && done.counts[0]! > 0, 'counted')
  port2.postMessage({ code: 'cancel', id: 1 } satisfies ScanRequest) // crossed its answer: nothing to stop
  port2.postMessage({ code: 'release' } satisfies ScanRequest)
  const many = Array.from({ length: 200 }, () => items).flat()
  port2.postMessage({ code: 'count', id: 2, query, range, items: many } satisfies ScanRequest)
  const stopped = await ask({ code: 'cancel', id: 2 }, 2)
  t.equal(stopped.code, 'cancelled', 'a cancel stops the job between blocks')
  t.ok(stopped.code === 'cancelled' && stopped.blocks < many.length)
  const failed = await ask({ code: 'count', id: 3, query, range, items: [{ ...items[0]!, dir: join(cols, names[0]! + '.z') }] }, 3)
  t.same(failed.code, 'error', 'a job that fails says so')
  const again = await ask({ code: 'count', id: 4, query, range, items }, 4)
  t.same(again.code === 'done' && again.counts, done.code === 'done' && done.counts, 'the next job counts as the first')
  port2.postMessage({ code: 'release' } satisfies ScanRequest)
})

t.test('a collector counts compacted segments in its scan threads', async t => {
  const c = await startCollector(t, { env: { JOURNAL_COMPACT: 'on', JOURNAL_SEGMENT_BYTES: '65536', SCAN_THREADS: '2' } })
  const at = Date.parse('2026-03-01T00:00:00.000Z')
  const lines: string[] = []
  for (let i = 0; i < 3000; i++) {
    lines.push(JSON.stringify({ timestamp: new Date(at + i * 1000).toISOString(), level: i % 4 === 0 ? 'error' : 'info', app_name: i % 2 === 0 ? 'api' : 'web', message: i % 5 === 0 ? `upstream timeout ${i}` : `request ${i} served` }))
  }
  for (let i = 0; i < lines.length; i += 500) {
    const res = await freshRequest(c, 'POST', '/logs', { body: lines.slice(i, i + 500).join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
    t.equal(res.status, 200)
  }
  await poll(async () => ((await collectorStatus<any>(c)).journal.compaction?.segments ?? 0) >= 2, 50, { ms: 120_000, what: 'two segments compacted' })
  const window = `from=${new Date(at).toISOString()}&to=${new Date(at + 3000 * 1000).toISOString()}`
  const res = await freshRequest(c, 'GET', `/logs/histogram?${window}&q=timeout&buckets=1`)
  t.equal(res.status, 200)
  t.equal(JSON.parse(res.text).total, 600, 'every fifth event')
  const errors = await freshRequest(c, 'GET', `/logs/histogram?${window}&q=TIMEOUT&level=error&app_name=api&buckets=3`)
  t.same(JSON.parse(errors.text).levels.ERROR.reduce((a: number, b: number) => a + b, 0), 150, 'timeout at ERROR in api: every twentieth')
  const s = (await collectorStatus<any>(c)).scan_pool
  t.equal(s.threads, 2)
  t.ok(s.blocks > 0, `${s.blocks as number} blocks counted in the threads`)
  t.equal(s.failures, 0)
  // The same in GET /metrics.
  const metrics = (await freshRequest(c, 'GET', '/metrics')).text
  const metric = (name: string): number | undefined => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)
    return m === null ? undefined : Number(m[1])
  }
  t.equal(metric('maap_scan_pool_threads'), 2)
  t.equal(metric('maap_scan_pool_blocks_total'), s.blocks, 'blocks counted, as /status says')
  t.ok((metric('maap_scan_pool_jobs_total') ?? 0) > 0)
  for (const name of ['maap_scan_pool_threads_started', 'maap_scan_pool_busy', 'maap_scan_pool_cancelled_total']) t.type(metric(name), 'number', name)
  t.equal(metric('maap_scan_pool_failures_total'), 0)
})
