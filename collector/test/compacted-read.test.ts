// Reads over compacted segments, with real collector processes: search pages, the export, histograms and
// counts answer exactly what they answered over the same NDJSON; a tail id issued before the compaction
// resumes exactly; a SIGKILL during compaction loses nothing and doubles nothing; WORKER_COUNT=2 workers
// read each other's compacted segments.
import t from 'tap'
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { collectorStatus, freshRequest, poll, startCollector, type RunningCollector } from '../../test/support'
import { compaction, forms, tail, type Compaction } from './compacted-helpers'

type Event = Record<string, any>
const HOUR = 3_600_000
const BASE = Date.parse('2026-03-01T00:00:00.000Z')
const APPS = ['api', 'web', 'billing']
const LEVELS = ['debug', 'info', 'warn', 'error']

function eventsFrom (from: number, n: number): Event[] {
  return Array.from({ length: n }, (_, k) => {
    const seq = from + k
    return {
      seq,
      app_name: APPS[seq % 3],
      level: LEVELS[seq % 4],
      timestamp: new Date(BASE + (seq * 7919 % 3600) * 1000).toISOString(), // out of arrival order, within an hour
      message: seq % 5 === 0 ? `upstream timeout after ${seq} ms` : `request ${seq} served`,
      ctx: { n: seq, tag: `t${seq % 7}` }
    }
  })
}

async function post (c: RunningCollector, events: Event[]): Promise<void> {
  const res = await freshRequest(c, 'POST', '/logs', { body: events.map(e => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
  if (res.status !== 200) throw new Error(`ingest: ${res.status} ${res.text}`)
}

async function json (c: RunningCollector, path: string): Promise<any> {
  const res = await freshRequest(c, 'GET', path)
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return JSON.parse(res.text)
}

/** What the read side answers, without the parts that measure time. */
async function answers (c: RunningCollector): Promise<Record<string, unknown>> {
  const pages: Event[] = []
  for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
    const page: { events: Event[], next: string | null } = await json(c, `/logs?limit=97&app_name=api,billing${cursor === null ? '' : `&cursor=${cursor}`}`)
    pages.push(...page.events)
    cursor = page.next
  }
  const exported = (await freshRequest(c, 'GET', '/logs?q=timeout', { headers: { accept: 'application/x-ndjson' } })).text
  const window = `from=${new Date(BASE).toISOString()}&to=${new Date(BASE + HOUR).toISOString()}`
  const hist = await json(c, `/logs/histogram?buckets=12&${window}`)
  const count = await json(c, `/logs/histogram?buckets=1&${window}&q=timeout&level=error`)
  return { pages, exported, histogram: [hist.times, hist.levels, hist.total], count: count.total }
}

/** Small segments, so that 600 events close several of them. */
const small = { JOURNAL_SEGMENT_BYTES: '8192' }

/** A collector without compaction that took 600 events, and what a tail opened before them received. */
async function sixHundredUncompacted (t: Tap.Test): Promise<{ first: RunningCollector, seen: Array<{ id: string, seq: number }> }> {
  const first = await startCollector(t, { env: { ...small, JOURNAL_COMPACT: 'off' } })
  const tailing = tail(first, 600)
  await poll(async () => (await collectorStatus(first) as any).journal.segments >= 1)
  for (let i = 0; i < 600; i += 50) await post(first, eventsFrom(i, 50))
  return { first, seen: await tailing }
}

t.test('search, export, histogram, count and a tail id answer the same over compacted segments', async t => {
  const { first, seen } = await sixHundredUncompacted(t)
  t.same(seen.map(s => s.seq), eventsFrom(0, 600).map(e => e.seq), 'the tail before')
  const resumeAt = seen[299]!.id
  const before = await answers(first)
  await first.stop()
  const closed = forms(first.logDir).plain
  t.ok(closed.length >= 8, `${closed.length} segments`)

  const again = await startCollector(t, { logDir: first.logDir, env: { ...small, JOURNAL_COMPACT: 'on' } })
  await poll(async () => (await compaction(again)).segments === closed.length, 50)
  const after = forms(again.logDir)
  t.same(after.packed, closed, 'every closed segment compacted')
  t.same(after.plain.filter(p => closed.includes(p)), [], 'no NDJSON of them left')
  t.same(await answers(again), before, 'the same answers')
  const resumed = await tail(again, 300, resumeAt)
  t.same(resumed.map(s => s.seq), eventsFrom(300, 300).map(e => e.seq), 'a tail id from before the compaction resumes exactly')
  t.equal((await compaction(again)).errors, 0)
})

t.test('SIGKILL during compaction: every event exactly once, no .tmp, no segment in both forms', async t => {
  const env = { JOURNAL_SEGMENT_BYTES: '4096', JOURNAL_COMPACT: 'on' }
  const c = await startCollector(t, { env })
  let sent = 0
  // Enough small segments that compaction is busy, then the kill while /status says it runs.
  for (;;) {
    await post(c, eventsFrom(sent, 40))
    sent += 40
    if (sent >= 800 && (await compaction(c)).running) break
    if (sent > 40_000) throw new Error('never saw a compaction running')
  }
  await c.stop('SIGKILL')
  const again = await startCollector(t, { logDir: c.logDir, env })
  const exported = (await freshRequest(again, 'GET', '/logs', { headers: { accept: 'application/x-ndjson' } })).text.trim().split('\n').map(l => JSON.parse(l).seq as number)
  t.equal(exported.length, sent, 'every acknowledged event')
  t.equal(new Set(exported).size, sent, 'none twice')
  const closed = (await collectorStatus(again) as any).journal.segments - 1
  await poll(async () => (await compaction(again)).segments + forms(again.logDir).packed.length >= closed && !(await compaction(again)).running, 50)
  await again.stop()
  const f = forms(again.logDir)
  t.same(f.tmp, [], 'no half-written compaction left')
  t.same(f.plain.filter(p => f.packed.includes(p)), [], 'no segment in both forms')
})

t.test('WORKER_COUNT=2: each worker reads its sibling\'s compacted segments', async t => {
  const c = await startCollector(t, { env: { WORKER_COUNT: '2', JOURNAL_SEGMENT_BYTES: '4096', JOURNAL_COMPACT: 'on' } })
  // Events until each worker has compacted a segment of its own: a worker that came up late is dealt few
  // connections at first, so a fixed number of events may never close one of its segments.
  const dirs = ['worker-1', 'worker-2'].map(w => join(c.logDir, w))
  let sent = 0
  for (; sent < 400; sent += 20) await post(c, eventsFrom(sent, 20))
  await poll(async () => {
    if (dirs.every(d => existsSync(d) && forms(d).packed.length > 0)) return true
    // More only while a worker has no closed segment yet (the newest is the one being written).
    if (dirs.some(d => !existsSync(d) || forms(d).packed.length + forms(d).plain.length < 2)) {
      await post(c, eventsFrom(sent, 20))
      sent += 20
    }
    return false
  }, 50)
  t.ok(dirs.every(d => existsSync(d)), 'both workers journaled')
  // Connections spread over the workers: each answer must hold every event, whichever worker gave it.
  for (let i = 0; i < 6; i++) {
    const lines = (await freshRequest(c, 'GET', '/logs', { headers: { accept: 'application/x-ndjson' } })).text.trim().split('\n')
    t.equal(new Set(lines.map(l => JSON.parse(l).seq)).size, sent, `answer ${i}: all ${sent} events`)
  }
})

t.test('a damaged .z with no NDJSON copy: renamed .z.damaged at start, a block damaged later is skipped; reads answer with the rest', async t => {
  const { first, seen } = await sixHundredUncompacted(t)
  await first.stop()
  const closed = forms(first.logDir).plain
  t.ok(closed.length >= 6, `${closed.length} segments`)
  const seqsOf = (name: string): number[] => readFileSync(join(first.logDir, name), 'utf8').trim().split('\n').map(l => JSON.parse(l).seq)
  const [torn, flipped] = [closed[1]!, closed[3]!]
  const lost = new Set([...seqsOf(torn), ...seqsOf(flipped)])

  const packer = await startCollector(t, { logDir: first.logDir, env: { ...small, JOURNAL_COMPACT: 'on' } })
  await poll(async () => (await compaction(packer)).segments === closed.length, 50)
  await packer.stop()
  // One torn in half (its footer gone: start-up sees it), one with a byte of its block changed (only a read sees it).
  const tornPath = join(first.logDir, `${torn}.z`)
  truncateSync(tornPath, Math.floor(statSync(tornPath).size / 2))
  const flippedPath = join(first.logDir, `${flipped}.z`)
  const bytes = readFileSync(flippedPath)
  bytes[20] = bytes[20]! ^ 0xff
  writeFileSync(flippedPath, bytes)

  const c = await startCollector(t, { logDir: first.logDir, env: { ...small, JOURNAL_COMPACT: 'on' } })
  t.equal((await compaction(c)).recovered.corrupt, 1, 'the torn one counted')
  t.ok(existsSync(`${tornPath}.damaged`), 'kept for a person as .z.damaged')
  t.notOk(existsSync(tornPath), 'no longer listed')
  const expected = eventsFrom(0, 600).map(e => e.seq).filter(s => !lost.has(s))
  const exported = await freshRequest(c, 'GET', '/logs', { headers: { accept: 'application/x-ndjson' } })
  t.equal(exported.status, 200, 'the export answers')
  t.same(exported.text.trim().split('\n').map(l => JSON.parse(l).seq).sort((a, b) => a - b), expected, 'every other segment\'s events')
  const page = await freshRequest(c, 'GET', '/logs?limit=1000')
  t.equal(page.status, 200, 'a search page answers')
  t.equal(JSON.parse(page.text).events.length, expected.length)
  const hist = await freshRequest(c, 'GET', `/logs/histogram?buckets=4&from=${new Date(BASE).toISOString()}&to=${new Date(BASE + HOUR).toISOString()}`)
  t.equal(hist.status, 200, 'a histogram answers')
  t.ok(JSON.parse(hist.text).total >= expected.length)
  const status = await compaction(c) as Compaction & { damaged_reads: number }
  t.equal(status.damaged_reads, 1, 'the changed block counted once')
  // A tail from the first event reads past both: it neither stalls nor fails.
  const resumed = await tail(c, expected.length - 1, seen[0]!.id)
  t.same(resumed.map(s => s.seq), expected.slice(1), 'the tail reads on past the damage')
})
