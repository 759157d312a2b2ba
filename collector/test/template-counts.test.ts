// A block's template counts (read/template-counts.ts): a scan thread's count of a word without digits takes
// them instead of the block's columns when the block lies whole in the range and one bucket. Held to the
// columns (the same segments compacted without template counts) and to the NDJSON, over blocks that are
// clean, blocks with lines the columns leave undecided, blocks whose apps are not all in place, windows
// and buckets that cut through blocks; texts with digits never take them; damaged counts fall back to the
// columns; malformed counts are refused.
import t from 'tap'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { CODEC_DEFLATE } from '../src/journal/compacted/codecs'
import { FORMAT_VERSION } from '../src/journal/compacted/format'
import { normaliseEvent } from '../src/normalise/normalise'
import { histogram, histogramRange } from '../src/read/aggregate'
import { decodeColumns, encodeBlock } from '../src/read/columns'
import { candidates } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import { run, type ScanItem, type ScanReply } from '../src/read/scan-worker'
import { decodeTemplateCounts, encodeTemplateCounts } from '../src/read/template-counts'
import { NOW, journalOf, limits, random } from './columns-data'
import { footerOf } from './compacted-helpers'

const HOUR = 3_600_000
const START = NOW - 12 * HOUR
const MESSAGES = ['upstream timeout after 30s', 'request served', 'TIMEOUT', 'cache miss for key session:4711', 'queue depth 17 on partition 2',
  'payment captured', 'time out', 'slow timeout in kiel', 'user logged in']
const APPS = ['api', 'web', 'billing', 'mailer']
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/**
 * Three segments of collector lines over the 12 hours before NOW: the first clean (every line decided by
 * its columns), the second with now and then a message the columns cannot hold (an escape: undecided),
 * the third with now and then a line without app_name (decided, but its app not in place).
 */
function writeSegments (dir: string): string[] {
  const r = random(7)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const names: string[] = []
  let seq = 0
  for (let s = 0; s < 3; s++) {
    const name = `maap-2026120${s}T000000Z-00000${s + 1}.ndjson`
    const lines: string[] = []
    for (let k = 0; k < 900; k++, seq++) {
      const timestamp = new Date(START + Math.floor(seq * 12 * HOUR / 2700) + Math.floor(r() * 20_000)).toISOString()
      const odd = r() < 0.004
      const message = s === 1 && odd ? 'say "timeout"' : pick(MESSAGES)
      const out = normaliseEvent({ timestamp, level: pick(LEVELS), app_name: pick(APPS), message, seq }, { limits, receivedAt: timestamp })
      if (!out.ok) throw new Error(out.error)
      // A line without app_name (as an older collector wrote): its message right after the level, still decided.
      lines.push(s === 2 && odd ? out.line.replace(/"app_name":"[a-z]+",/, '') : out.line)
    }
    writeFileSync(join(dir, name), lines.join('\n') + '\n')
    names.push(name)
  }
  return names
}


const base = mkdtempSync(join(tmpdir(), 'maap-tcounts-'))
t.teardown(() => rmSync(base, { recursive: true, force: true }))
const names = writeSegments(base)
const dirs = { with: join(base, 'with'), without: join(base, 'without') }
/** The segments compacted with template counts and without (as collectors before them wrote). */
const compacted = (async () => {
  for (const [kind, dir] of Object.entries(dirs)) {
    mkdirSync(dir)
    for (const n of names) {
      copyFileSync(join(base, n), join(dir, n))
      await compactSegment(dir, n, 8 * 1024, true, FORMAT_VERSION, CODEC_DEFLATE, kind === 'with')
    }
  }
})()

/** The scan thread's count over every candidate of `dir` (run, as the pool runs it). */
async function count (dir: string, params: Record<string, string>, buckets: number): Promise<Extract<ScanReply, { code: 'done' }>> {
  const q = parseReadQuery(params, { now: NOW })
  const all = { ...q, from: q.from ?? new Date(START - HOUR).toISOString() }
  const r = histogramRange(all, buckets, NOW)
  // As aggregate.ts hands it to the pool.
  const range = { fromMs: r.fromMs, toMs: r.toMs, first: r.times[0] ?? r.fromMs, intervalMs: r.intervalMs, buckets: r.times.length }
  const items: ScanItem[] = (await candidates(await journalOf(dir, names).sources(), all, false))
    .map(c => ({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset }))
  const done = await run(1, { text: all.text, from: all.from, to: all.to, levels: all.levels, apps: all.apps }, range, items)
  if (done.code !== 'done') throw new Error(`the count answered ${done.code}`)
  return done
}

t.test('the blocks hold template counts: clean ones, ones with undecided lines, ones with apps not in place', async t => {
  await compacted
  const blocks = (await Promise.all(names.map(async n => (await footerOf(join(dirs.with, `${n}.z`))).blocks))).flat()
  t.ok(blocks.length > 30, `${blocks.length} blocks`)
  t.ok(blocks.every(b => b.tcounts !== undefined), 'every block has them')
  const without = (await Promise.all(names.map(async n => (await footerOf(join(dirs.without, `${n}.z`))).blocks))).flat()
  t.ok(without.every(b => b.tcounts === undefined), 'none when not asked for (a file from before them)')
  const kinds = { clean: 0, undecided: 0, noApp: 0 }
  for (const [i, n] of names.entries()) {
    const bytes = readFileSync(join(dirs.with, `${n}.z`))
    for (const b of (await footerOf(join(dirs.with, `${n}.z`))).blocks) {
      const { brotliDecompressSync } = await import('node:zlib')
      const s = decodeTemplateCounts(brotliDecompressSync(bytes.subarray(b.tcounts!.at, b.tcounts!.at + b.tcounts!.length)))
      if (s.undecided > 0) kinds.undecided++
      else if (s.noApp > 0) kinds.noApp++
      else kinds.clean++
      let lines = s.undecided
      for (let k = 0; k < s.entries; k++) lines += s.count(k)
      t.equal(lines, b.levels.reduce((a, c) => a + c, 0), `segment ${i}, block at ${b.start}: every line once`)
    }
  }
  t.ok(kinds.clean > 10 && kinds.undecided > 0 && kinds.noApp > 0, `blocks: ${JSON.stringify(kinds)}`)
})

t.test('counts from template counts are the columns\' and the NDJSON\'s, for every query and bucketing', async t => {
  await compacted
  let taken = 0
  const queries: Array<Record<string, string>> = []
  for (const q of ['timeout', 'TIME', 'out', 'served', 'kiel', 'ue', ' ', 'time out', 'after 30', '17', 'session:4711']) {
    const extras: Array<Record<string, string>> = [{}, { level: 'warn' }, { app_name: 'api,web' }, { level: 'error', app_name: 'billing' },
      { from: new Date(START + 2 * HOUR + 1234).toISOString(), to: new Date(START + 7 * HOUR - 999).toISOString() }]
    for (const extra of extras) queries.push({ q, ...extra })
  }
  for (const params of queries) {
    const digits = /[0-9]/.test(params.q!)
    for (const buckets of [1, 12, 97]) {
      const fast = await count(dirs.with, params, buckets)
      const slow = await count(dirs.without, params, buckets)
      const what = `${JSON.stringify(params)} in ${buckets}`
      t.same([...fast.counts], [...slow.counts], `${what}: as the columns count`)
      t.same([fast.undecided, fast.fallback], [slow.undecided, slow.fallback], `${what}: the same lines left to the main thread`)
      t.equal(slow.fromTemplateCounts, 0, `${what}: without template counts, none used`)
      if (digits) t.equal(fast.fromTemplateCounts, 0, `${what}: a text with digits never takes them`)
      if (buckets === 1 && params.from === undefined && !digits) t.ok(fast.fromTemplateCounts > 10, `${what}: ${fast.fromTemplateCounts} blocks from their template counts`)
      t.ok(fast.counts.length === 6 * buckets && slow.counts.some(n => n > 0), `${what}: something counted`)
      taken += fast.fromTemplateCounts
    }
    // The whole answer (the main thread adding up what the threads and the parse found) against the NDJSON's.
    const q = parseReadQuery(params, { now: NOW })
    const all = { ...q, from: q.from ?? new Date(START - HOUR).toISOString() }
    const want = await histogram(journalOf(base, names), undefined, all, histogramRange(all, 1, NOW))
    const got = await histogram(journalOf(dirs.with, names), undefined, all, histogramRange(all, 1, NOW))
    t.same(got.levels, want.levels, `${JSON.stringify(params)}: the count as over the NDJSON`)
  }
  t.ok(taken > 500, `${taken} blocks counted from template counts in all`)
})

t.test('damaged template counts: the columns count the block instead', async t => {
  await compacted
  const dir = join(base, 'damaged')
  mkdirSync(dir)
  for (const n of names) copyFileSync(join(dirs.with, `${n}.z`), join(dir, `${n}.z`))
  const path = join(dir, `${names[0]!}.z`)
  const victim = (await footerOf(path)).blocks[3]!
  const bytes = readFileSync(path)
  bytes[victim.tcounts!.at + 1] = bytes[victim.tcounts!.at + 1]! ^ 0xff
  writeFileSync(path, bytes)
  const params = { q: 'timeout' }
  const fast = await count(dirs.with, params, 1)
  const damaged = await count(dir, params, 1)
  t.same([...damaged.counts], [...fast.counts], 'the same count')
  t.equal(damaged.fromTemplateCounts, fast.fromTemplateCounts - 1, 'the damaged block counted from its columns')
  t.same(damaged.fallback, [], 'and in the thread: nothing handed back')
})

t.test('template counts that do not hold together are refused', async t => {
  const event = (timestamp: string, level: string, app: string, message: string): string => {
    const out = normaliseEvent({ timestamp, level, app_name: app, message }, { limits, receivedAt: timestamp })
    if (!out.ok) throw new Error(out.error)
    return out.line
  }
  const block = Buffer.from([event('2026-12-06T00:00:00.000Z', 'info', 'api', 'a 1 b'), event('2026-12-06T00:00:01.000Z', 'warn', 'web', 'c d')].join('\n') + '\n')
  const good = encodeTemplateCounts(decodeColumns(encodeBlock(block, block.length, true).columns, block.length))
  const s = decodeTemplateCounts(good)
  const each = (f: (k: number) => number): number[] => Array.from({ length: s.entries }, (_, k) => f(k))
  t.same({ count: each(k => s.count(k)), level: each(k => s.level(k)), undecided: s.undecided, noApp: s.noApp, minMs: s.minMs, maxMs: s.maxMs, apps: s.apps.map(String) },
    { count: [1, 1], level: [2, 3], undecided: 0, noApp: 0, minMs: Date.parse('2026-12-06T00:00:00.000Z'), maxMs: Date.parse('2026-12-06T00:00:01.000Z'), apps: ['api', 'web'] })
  t.throws(() => decodeTemplateCounts(good.subarray(0, 30)), /shorter than their header/, 'shorter than the header')
  t.throws(() => decodeTemplateCounts(Buffer.concat([good, Buffer.from([0])])), /longer than what they hold/, 'a byte too many')
  const badTemplate = Buffer.from(good)
  badTemplate.writeUInt32LE(99, 40 + 4 * 2)
  t.throws(() => decodeTemplateCounts(badTemplate), /out of range/, 'a template index past the templates')
  const badLevel = Buffer.from(good)
  badLevel[40 + 10 * 2] = 6
  t.throws(() => decodeTemplateCounts(badLevel), /out of range/, 'a level past the levels')
  t.throws(() => encodeTemplateCounts(decodeColumns(encodeBlock(block, block.length, false).columns, block.length)), /need templated columns/, 'format 2 columns hold no templates')
})
