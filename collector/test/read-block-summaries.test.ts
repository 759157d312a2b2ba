// Per-app block summaries: each block of the journal counts its events by app_name and level, so a search
// for an app skips the blocks that hold none of it, and a histogram by app counts a block inside one bucket
// without reading it. Checked against a parse of every line on generated journals (many apps, more than a
// summary keeps, escaped and non-ASCII names, lines of an older collector, app_name away from the head),
// in NDJSON and compacted segments; by planting events in blocks that must not be read; and over real
// collectors, where a histogram by app must equal the count of the matching events.
import t from 'tap'
import { appendFileSync, mkdtempSync, rmSync, openSync, readFileSync, closeSync, writeSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactSegment, summarise } from '../src/journal/compacted/compact-segment'
import { FormatError, parseFooter } from '../src/journal/compacted/format'
import { crc32 } from 'node:zlib'
import { listSegments } from '../src/journal/writer'
import { histogram, histogramRange, type HistogramRange } from '../src/read/aggregate'
import { AppLevels, AppTally, BLOCK_BYTES, BlockIndex, MAX_BLOCK_APPS, type Block } from '../src/read/block-index'
import { journalEvents } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import { JournalSet } from '../src/read/sources'
import { CANONICAL_LEVELS } from '../src/normalise/levels'
import { ExpiryFilter } from '../src/read/expiry'
import { RetentionPolicy } from '../src/retention/policy'
import { parseRetentionRules } from '../src/retention/rules'
import { poll, startCollector, collectorStatus, freshRequest, type RunningCollector } from '../../test/support'

const T0 = Date.parse('2026-05-01T00:00:00.000Z')
const SEGMENTS = ['maap-20260501T000000Z-000001.ndjson', 'maap-20260501T060000Z-000002.ndjson']
/** Pools of apps, one per phase of a segment: few apps; more than a block summary keeps; awkward names; a subset. */
const POOLS = [
  ['api', 'web', 'db'],
  Array.from({ length: 100 }, (_, k) => `svc-${k}`),
  ['billing', 'café', 'quo"te', 'back\\slash', 'api', 'snow\u2603'],
  ['web', 'db']
]
/** Lines of a segment in each pool's phase, in the 48,000-line journals of most tests: about 2 MB, two NDJSON blocks and more. */
const PHASE = 12_000

/** A small deterministic generator (the data must be the same on every run). */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** One journal line of the kinds a journal holds; line `i` of a segment is in pool ⌊i / phase⌋. */
function line (i: number, seg: number, next: () => number, phase = PHASE): string {
  const pool = POOLS[Math.floor(i / phase) % POOLS.length]!
  const app = pool[Math.floor(next() * pool.length)]!
  const level = CANONICAL_LEVELS[Math.floor(next() * 6)]!
  // Mostly in arrival order, a few seconds out of it now and then.
  const ts = new Date(T0 + seg * 6 * 3_600_000 + i * 20 - (next() < 0.05 ? Math.floor(next() * 5000) : 0)).toISOString()
  const id = `${seg}-${i}`
  const message = JSON.stringify(`request ${i} ${'x'.repeat(Math.floor(next() * 120))}`)
  const kind = next()
  const a = JSON.stringify(app)
  if (kind < 0.02) return `{"_id":"${id}","app_name":${a},"message":${message},"level":"${level}","timestamp":"${ts}"}` // an older collector: no head
  if (kind < 0.04) return `{"timestamp":"${ts}","level":"${level}","message":${message},"app_name":${a},"_id":"${id}"}` // app_name away from the head
  if (kind < 0.05) return `{"timestamp":"${ts}","level":"${level}","message":${message},"_id":"${id}"}` // no app at all
  if (kind < 0.07) return `{"timestamp":"${ts}","level":"${level}","app_name":${a},"message":${message},"ctx":{"app_name":"decoy"},"_id":"${id}"}`
  return `{"timestamp":"${ts}","level":"${level}","app_name":${a},"message":${message},"_id":"${id}"}`
}

/** A directory of its own, removed when the test ends (the generated journals of 48,000 lines a segment are some 17 MB each). */
function tempDir (t: tap.Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

interface Journal { dir: string, lines: string[], journals: JournalSet, active: { segment: string, offset: number } }

/**
 * The generated lines of `n` a segment, and each segment's text: made once a file, every test writes its own
 * copy. Each segment goes through every pool once, whatever its size (a phase is a quarter of it).
 */
const generated = new Map<number, { lines: string[], texts: string[] }>()

function generate (n: number): { lines: string[], texts: string[] } {
  let g = generated.get(n)
  if (g === undefined) {
    const next = rng(24)
    g = { lines: [], texts: [] }
    for (let seg = 0; seg < SEGMENTS.length; seg++) {
      const mine = Array.from({ length: n }, (_, i) => line(i, seg, next, n / POOLS.length))
      g.lines.push(...mine)
      g.texts.push(mine.join('\n') + '\n')
    }
    generated.set(n, g)
  }
  return g
}

/** A journal directory of two segments, the second one still active (read up to its end). */
function journal (t: tap.Test, n: number): Journal {
  const dir = tempDir(t, 'maap-appsum-')
  const { lines, texts } = generate(n)
  for (let seg = 0; seg < SEGMENTS.length; seg++) writeFileSync(join(dir, SEGMENTS[seg]!), texts[seg]!)
  const active = { segment: SEGMENTS.at(-1)!, offset: statSync(join(dir, SEGMENTS.at(-1)!)).size }
  const journals = new JournalSet({ dir, segments: () => SEGMENTS, end: () => active, confirmed: () => undefined }, undefined, false)
  return { dir, lines, journals, active }
}

type Parsed = Record<string, any>

const parsed = new WeakMap<string[], Parsed[]>()
/** Each parsed event's Date.parse(timestamp), taken once: expected() runs over every event for each of some 150 histograms. */
const times = new WeakMap<Parsed[], Float64Array>()

/** The events a read counts, by a parse of every line: a string timestamp and _id (parsed once for the shared lines; read only). */
function parsedEvents (lines: string[]): Parsed[] {
  let events = parsed.get(lines)
  if (events === undefined) {
    events = lines.map(l => JSON.parse(l) as Parsed).filter(e => typeof e.timestamp === 'string' && typeof e._id === 'string')
    times.set(events, Float64Array.from(events, e => Date.parse(e.timestamp)))
    parsed.set(lines, events)
  }
  return events
}

/** What a histogram must answer, from the parsed events. */
function expected (events: Parsed[], h: HistogramRange, apps: string[] | undefined, levels: readonly string[] | undefined,
  kept: (e: Parsed) => boolean = () => true): { levels: Record<string, number[]>, total: number } {
  const out: Record<string, number[]> = Object.fromEntries(CANONICAL_LEVELS.map(l => [l, h.times.map(() => 0)]))
  let total = 0
  const eventMs = times.get(events)! // events come from parsedEvents()
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    const ms = eventMs[i]!
    if (ms < h.fromMs || ms >= h.toMs || !kept(e)) continue
    if (apps !== undefined && !apps.includes(e.app_name)) continue
    if (levels !== undefined && !levels.includes(e.level)) continue
    const b = Math.floor((ms - h.times[0]!) / h.intervalMs)
    if (b < 0 || b >= h.times.length) continue
    out[e.level]![b]!++
    total++
  }
  return { levels: out, total }
}

/** A block's per-app counts by a parse of its lines, or undefined when it holds more apps than a summary keeps. */
function appsByParse (bytes: Buffer): AppLevels | undefined {
  const out = new Map<string, number[]>()
  for (const l of bytes.toString('utf8').split('\n')) {
    if (l === '') continue
    const e = JSON.parse(l) as Parsed
    if (typeof e.timestamp !== 'string' || typeof e.app_name !== 'string') continue
    const levels = out.get(e.app_name) ?? [0, 0, 0, 0, 0, 0]
    levels[CANONICAL_LEVELS.indexOf(e.level)]!++
    out.set(e.app_name, levels)
  }
  return out.size > MAX_BLOCK_APPS ? undefined : AppLevels.of(out)
}

const sorted = (m: AppLevels | undefined): unknown => m === undefined ? undefined : [...m].sort((a, b) => a[0] < b[0] ? -1 : 1)

async function allBlocks (j: Journal): Promise<Block[]> {
  const [source] = await j.journals.sources()
  const out: Block[] = []
  for (const s of SEGMENTS) out.push(...await source!.index.blocks(s, await source!.readableEnd(s)))
  return out
}

const QUERIES: Array<Record<string, string>> = [
  {},
  { app_name: 'api' },
  { app_name: 'billing' },
  { app_name: 'café' },
  { app_name: 'quo"te' },
  { app_name: 'back\\slash' },
  { app_name: 'snow\u2603' },
  { app_name: 'svc-7' },
  { app_name: 'api,web' },
  { app_name: 'api,api' },
  { app_name: 'nope' },
  { app_name: 'decoy' },
  { app_name: 'billing,svc-3', level: 'warning' },
  { app_name: 'db', level: 'error' }
]

/** Every query over a wide window (blocks inside one bucket: summed), fine buckets (read) and a cut window. */
async function differential (t: tap.Test, j: Journal): Promise<void> {
  const events = parsedEvents(j.lines)
  const now = T0 + 12 * 3_600_000
  const windows: Array<[Record<string, string>, number | undefined]> = [
    [{ from: new Date(T0).toISOString(), to: new Date(now).toISOString() }, undefined],
    [{ from: new Date(T0).toISOString(), to: new Date(now).toISOString() }, 1],
    [{ from: new Date(T0 + 100_000).toISOString(), to: new Date(T0 + 6 * 3_600_000 + 200_000).toISOString() }, 500]
  ]
  for (const params of QUERIES) {
    for (const [window, buckets] of windows) {
      const q = parseReadQuery({ ...params, ...window }, { now })
      const range = histogramRange(q, buckets, now)
      const h = await histogram(j.journals, undefined, q, range)
      const want = expected(events, range, q.apps === undefined ? undefined : [...q.apps], q.levels)
      t.same({ levels: h.levels, total: h.total }, want, `${JSON.stringify(params)} buckets=${buckets ?? 'auto'} (${range.times.length})`)
    }
  }
}

t.test('NDJSON blocks: per-app counts equal a parse of each block; histograms by app equal the parse of every line', async t => {
  const j = journal(t, 48_000)
  const blocks = await allBlocks(j)
  t.ok(blocks.length >= 14, `${blocks.length} blocks`)
  t.ok(blocks.every(b => b.end - b.start <= BLOCK_BYTES), 'indexed from scratch, no block is wider than BLOCK_BYTES')
  const known = blocks.filter(b => b.apps !== undefined)
  t.ok(known.length > 0 && known.length < blocks.length, `${known.length} of ${blocks.length} blocks know their apps; the others hold more than ${MAX_BLOCK_APPS}`)
  // Each segment read once, not once per block (17 MB each).
  const files = new Map(SEGMENTS.map(s => [s, readFileSync(join(j.dir, s))]))
  for (const b of blocks) {
    const bytes = files.get(b.segment)!.subarray(b.start, b.end)
    t.same(sorted(b.apps), sorted(appsByParse(bytes)), `${b.segment} [${b.start}, ${b.end})`)
  }
  await differential(t, j)
})

/**
 * Lines a segment in the compacted test: a quarter of the others'. Its compacted blocks are 64 KiB, not the
 * NDJSON index's 1 MiB, so a smaller journal holds every case (blocks of few apps and of more than a summary
 * keeps, the test asserts both), and its v1 footer makes every histogram decode every block: at 48,000 lines
 * the 84 histograms took three quarters of the file's time.
 */
const COMPACTED_LINES = 12_000

/** The kinds of line and app name line() writes that are not in `lines`. */
function kindsMissing (lines: string[]): string[] {
  const apps = new Set(lines.flatMap(l => { const a = (JSON.parse(l) as Parsed).app_name; return typeof a === 'string' ? [a] : [] }))
  const kinds = [
    ['no head (an older collector)', lines.some(l => l.startsWith('{"_id":'))],
    ['app_name away from the head', lines.some(l => /^\{"timestamp":"[^"]*","level":"[^"]*","message":.*,"app_name":/.test(l))],
    ['no app', lines.some(l => !l.includes('"app_name":'))],
    ['a decoy app_name in ctx', lines.some(l => l.includes('"ctx":{"app_name":"decoy"}'))],
    ['every app of every pool (more than a summary keeps; escaped and non-ASCII names)', POOLS.flat().every(a => apps.has(a))]
  ] as const
  return kinds.flatMap(([kind, present]) => present ? [] : [kind])
}

t.test('compacted blocks: the footer carries the same per-app counts, histograms agree, a v1 footer without them reads as unknown', async t => {
  const j = journal(t, COMPACTED_LINES)
  t.same(kindsMissing(j.lines.slice(0, COMPACTED_LINES)), [], 'the segment compacted here holds every kind of line and app name')
  const plain = await allBlocks(j)
  // Compact the closed segment with small blocks; the active one stays NDJSON.
  await compactSegment(j.dir, SEGMENTS[0]!, 64 * 1024)
  t.same(await listSegments(j.dir), SEGMENTS)
  const fresh = { ...j, journals: new JournalSet({ dir: j.dir, segments: () => SEGMENTS, end: () => j.active, confirmed: () => undefined }, undefined, false) }
  const blocks = await allBlocks(fresh)
  const packed = blocks.filter(b => b.segment === SEGMENTS[0])
  t.ok(packed.length > plain.filter(b => b.segment === SEGMENTS[0]).length, 'smaller blocks than the NDJSON index')
  const original = Buffer.from(j.lines.slice(0, COMPACTED_LINES).join('\n') + '\n')
  for (const b of packed) t.same(sorted(b.apps), sorted(appsByParse(original.subarray(b.start, b.end))), `compacted [${b.start}, ${b.end})`)
  const unknown = packed.filter(b => b.apps === undefined).length
  t.ok(unknown > 0 && unknown < packed.length, `known and unknown blocks (${packed.length - unknown} and ${unknown})`)
  await differential(t, fresh)

  // A footer of before `appLevels`: the same file with the field taken out reads, every block's apps unknown.
  const z = join(j.dir, SEGMENTS[0]! + '.z')
  const bytes = readFileSync(z)
  const footLen = bytes.readUInt32LE(bytes.length - 16)
  const foot = JSON.parse(bytes.subarray(bytes.length - 16 - footLen, bytes.length - 16).toString('utf8'))
  for (const b of foot.blocks) delete b.appLevels
  const json = Buffer.from(JSON.stringify(foot))
  const trailer = Buffer.from(bytes.subarray(bytes.length - 16))
  trailer.writeUInt32LE(json.length, 0)
  trailer.writeUInt32LE(crc32(json), 4)
  writeFileSync(z, Buffer.concat([bytes.subarray(0, bytes.length - 16 - footLen), json, trailer]))
  const old = { ...j, journals: new JournalSet({ dir: j.dir, segments: () => SEGMENTS, end: () => j.active, confirmed: () => undefined }, undefined, false) }
  t.ok((await allBlocks(old)).filter(b => b.segment === SEGMENTS[0]).every(b => b.apps === undefined), 'no appLevels: apps unknown')
  await differential(t, old)
})

t.test('a footer whose appLevels do not fit its apps is refused by name', async t => {
  const block = { start: 0, end: 10, at: 8, length: 10, codec: 0, crc: 0, minTs: null, maxTs: null, levels: [0, 0, 0, 0, 0, 0], apps: ['a'] }
  const check = (appLevels: unknown): void => {
    const json = Buffer.from(JSON.stringify({ size: 10, blocks: [{ ...block, appLevels }] }))
    parseFooter('f', json, crc32(json), 8 + 10 + json.length + 16)
  }
  check([[1, 0, 0, 0, 0, 0]])
  check(null)
  check(undefined)
  for (const bad of [[], [[1, 0, 0]], [[1, 0, 0, 0, 0, -1]], [[1, 0, 0, 0, 0, 0.5]], 'x']) {
    t.throws(() => check(bad), FormatError, JSON.stringify(bad))
  }
  t.throws(() => check([[1, 0, 0, 0, 0]]), { message: /block at 0 has malformed appLevels/ }, 'named')
})

t.test('RETENTION_RULES: a block that may hold expired events is read, by app as without', async t => {
  const j = journal(t, 48_000)
  // api events expire after a day; the cut falls inside the first segment (which spans 16 minutes).
  const now = T0 + 86_400_000 + 400_000
  const expiry = new ExpiryFilter(new RetentionPolicy(parseRetentionRules('app=api:1d', 'RETENTION_RULES')!, 30), () => now)
  const journals = new JournalSet({ dir: j.dir, segments: () => SEGMENTS, end: () => j.active, confirmed: () => undefined }, undefined, false, expiry)
  const events = parsedEvents(j.lines)
  const kept = (e: Parsed): boolean => e.app_name !== 'api' || Date.parse(e.timestamp) >= now - 86_400_000
  t.ok(events.some(e => !kept(e)) && events.some(e => e.app_name === 'api' && kept(e)), 'some api events expired, some kept')
  for (const params of [{}, { app_name: 'api' }, { app_name: 'billing' }, { app_name: 'api,web', level: 'warning' }]) {
    for (const buckets of [undefined, 1]) {
      const q = parseReadQuery({ ...params, from: new Date(T0).toISOString(), to: new Date(T0 + 7 * 3_600_000).toISOString() }, { now })
      const range = histogramRange(q, buckets, now)
      const h = await histogram(journals, undefined, q, range)
      t.same({ levels: h.levels, total: h.total }, expected(events, range, q.apps === undefined ? undefined : [...q.apps], q.levels, kept), `${JSON.stringify(params)} buckets=${buckets ?? 'auto'}`)
    }
  }
})

/** Overwrites buf[start, end) of a file with one line of `app` at ERROR, padded to the same length. */
function plant (file: string, start: number, end: number, app: string, ts: string): void {
  const head = `{"timestamp":"${ts}","level":"ERROR","app_name":${JSON.stringify(app)},"message":"planted","_id":"planted-${start}","pad":"`
  const tail = '"}\n'
  const bytes = Buffer.from(head + 'x'.repeat(end - start - head.length - tail.length) + tail)
  const fd = openSync(file, 'r+')
  try {
    writeSync(fd, bytes, 0, bytes.length, start)
  } finally {
    closeSync(fd)
  }
}

t.test('blocks without the app are not read; blocks summed for a histogram are not read either', async t => {
  const j = journal(t, 48_000)
  const events = parsedEvents(j.lines)
  const blocks = await allBlocks(j)
  const without = blocks.filter(b => b.apps !== undefined && !b.apps.has('billing'))
  t.ok(without.length > 0, `${without.length} blocks known to hold no billing event`)
  // Plant a billing event in each: a search that read one of them would answer it.
  for (const b of without) plant(join(j.dir, b.segment), b.start, b.end, 'billing', b.maxTs)
  const q = parseReadQuery({ app_name: 'billing', limit: '1000' })
  const found: string[] = []
  for await (const hit of journalEvents(await j.journals.sources(), q, { snapshot: undefined, unconfirmedOnly: false })) found.push(hit.id)
  const want = events.filter(e => e.app_name === 'billing').map(e => e._id as string)
  t.ok(want.length > 100)
  t.same(found.sort(), want.sort(), 'every billing event, none planted')
  const all: string[] = []
  for await (const hit of journalEvents(await j.journals.sources(), parseReadQuery({ q: 'planted' }), { snapshot: undefined, unconfirmedOnly: false })) all.push(hit.id)
  t.equal(all.length, without.length, 'the planted events are there for a search that reads those blocks')

  // Now every block whose apps are known holds a planted event; one bucket over the whole day sums them all.
  const summed = blocks.filter(b => b.apps !== undefined && b.apps.has('billing'))
  for (const b of summed) plant(join(j.dir, b.segment), b.start, b.end, 'billing', b.maxTs)
  const now = T0 + 24 * 3_600_000
  const hq = parseReadQuery({ app_name: 'billing', from: new Date(T0).toISOString(), to: new Date(now).toISOString() }, { now })
  const range = histogramRange(hq, 1, now)
  const h = await histogram(j.journals, undefined, hq, range)
  t.same({ levels: h.levels, total: h.total }, expected(events, range, ['billing'], undefined), 'counted from the summaries, as before the planting')
})

t.test('widening the last block keeps its per-app counts; more than a summary keeps makes them unknown', async t => {
  const dir = tempDir(t, 'maap-appsum-grow-')
  const name = SEGMENTS[0]!
  const file = join(dir, name)
  writeFileSync(file, '')
  const index = new BlockIndex(dir)
  const next = rng(7)
  const lines: string[] = []
  const add = (n: number, app: (k: number) => string): void => {
    const more = Array.from({ length: n }, (_, k) => {
      const l = line(lines.length + k, 0, next).replace(/"app_name":("(?:[^"\\]|\\.)*")/, `"app_name":${JSON.stringify(app(k))}`)
      return l
    })
    lines.push(...more)
    appendFileSync(file, more.map(l => l + '\n').join(''))
  }
  const check = async (label: string): Promise<readonly Block[]> => {
    const blocks = await index.blocks(name, statSync(file).size)
    const bytes = readFileSync(file)
    for (const b of blocks) t.same(sorted(b.apps), sorted(appsByParse(bytes.subarray(b.start, b.end))), `${label}: [${b.start}, ${b.end})`)
    return blocks
  }
  add(50, () => 'api')
  t.equal((await check('first lines')).length, 1)
  add(50, k => ['web', 'café'][k % 2]!)
  const widened = await check('widened')
  t.equal(widened.length, 1, 'one block, widened')
  t.same([...widened[0]!.apps!.keys()].sort(), ['api', 'café', 'web'])
  add(70, k => `many-${k}`)
  t.equal((await check('past 64 apps')).at(-1)!.apps, undefined, 'more apps than a summary keeps: unknown')
  add(10, () => 'api')
  t.equal((await check('after')).at(-1)!.apps, undefined, 'stays unknown as it grows')
})

t.test('a block\'s per-app counts answer by name whatever order they came in, past the bound on shared name lists too', async t => {
  const a = AppLevels.of([['web', [1, 2, 3, 4, 5, 6]], ['api', [0, 0, 7, 0, 0, 1]]])
  const b = AppLevels.of(new Map([['api', [0, 0, 1, 0, 0, 0]], ['web', [0, 1, 0, 0, 0, 0]]]))
  t.same([...a.keys()], ['api', 'web'], 'by name')
  t.same([...a.keys()], [...b.keys()])
  t.same(a.levelsOf('web'), [1, 2, 3, 4, 5, 6])
  t.same(a.levelsOf('api'), [0, 0, 7, 0, 0, 1])
  t.same(b.levelsOf('api'), [0, 0, 1, 0, 0, 0])
  t.equal(a.levelsOf('nope'), undefined)
  t.ok(a.has('api') && !a.has('nope') && a.size === 2)
  // Names that join alike are not taken for each other.
  const joined = AppLevels.of([['a\nb', [1, 0, 0, 0, 0, 0]]])
  const apart = AppLevels.of([['a', [0, 1, 0, 0, 0, 0]], ['b', [0, 0, 1, 0, 0, 0]]])
  t.same([...joined.keys()], ['a\nb'])
  t.same([...apart.keys()], ['a', 'b'])
  t.same(apart.levelsOf('b'), [0, 0, 1, 0, 0, 0])
  // More distinct app sets than the shared lists keep: each block still answers for its own apps.
  const many = Array.from({ length: 5000 }, (_, i) => AppLevels.of([[`app-${i}`, [i, 0, 0, 0, 0, 0]], ['web', [0, 0, i, 0, 0, 0]]]))
  t.ok(many.every((x, i) => x.levelsOf(`app-${i}`)![0] === i && x.levelsOf('web')![2] === i && x.size === 2), 'every one of 5,000 answers right')
  t.same([...many[4999]!], [['app-4999', [4999, 0, 0, 0, 0, 0]], ['web', [0, 0, 4999, 0, 0, 0]]])
  // Counts are packed 16 bits each when they fit; a block with a count past that keeps them whole.
  for (const big of [0xff, 0x100, 0xffff, 0x10000, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
    const c = AppLevels.of([['api', [big, 0, 1, 0, 0, 0]], ['web', [0xffff, 0, 0, 0, 0, 2]]])
    t.same([...c], [['api', [big, 0, 1, 0, 0, 0]], ['web', [0xffff, 0, 0, 0, 0, 2]]], `a count of ${big}`)
  }
})

t.test('the tally reads app names in place and falls back for the rest', async t => {
  const tally = new AppTally()
  const lines = [
    '{"timestamp":"2026-05-01T00:00:00.000Z","level":"INFO","app_name":"api","message":"m"}',
    '{"timestamp":"2026-05-01T00:00:00.000Z","level":"INFO","app_name":"a\\"b","message":"m"}',
    '{"timestamp":"2026-05-01T00:00:00.000Z","level":"INFO","app_name":"caf\u00e9","message":"m"}',
    '{"timestamp":"2026-05-01T00:00:00.000Z","level":"INFO","message":"m","app_name":"api"}',
    '{"timestamp":"2026-05-01T00:00:00.000Z","level":"INFO","message":"m"}',
    '{"timestamp":"2026-05-01T00:00:00.000Z","level":"INFO","app_name":"api'
  ]
  for (const l of lines) {
    const buf = Buffer.from(l)
    tally.addHeadLine(buf, 0, buf.length, 2)
  }
  // Bytes that are not UTF-8 (no collector writes them): two of them decode to one name, counted together.
  for (const bad of [0xff, 0xfe]) {
    const buf = Buffer.concat([Buffer.from('{"timestamp":"2026-05-01T00:00:00.000Z","level":"ERROR","app_name":"'), Buffer.from([bad]), Buffer.from('","message":"m"}')])
    tally.addHeadLine(buf, 0, buf.length, 4)
  }
  t.same(sorted(tally.result()), [['a"b', [0, 0, 1, 0, 0, 0]], ['api', [0, 0, 2, 0, 0, 0]], ['café', [0, 0, 1, 0, 0, 0]], ['\ufffd', [0, 0, 0, 0, 2, 0]]])
  const s = summarise(Buffer.from(lines.slice(0, 5).join('\n') + '\n'), Buffer.byteLength(lines.slice(0, 5).join('\n') + '\n'))
  t.same(s.apps, ['a"b', 'api', 'café'], 'in the order of their names')
  t.same(s.appLevels, [[0, 0, 1, 0, 0, 0], [0, 0, 2, 0, 0, 0], [0, 0, 1, 0, 0, 0]])
  const many = Buffer.from(Array.from({ length: 70 }, (_, i) => `{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a${i}"}\n`).join(''))
  t.same(summarise(many, many.length).appLevels, null, 'too many apps: no counts')
})

async function json (c: RunningCollector, path: string): Promise<any> {
  const res = await freshRequest(c, 'GET', path)
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return JSON.parse(res.text)
}

t.test('real collectors: a histogram by app equals the count of the matching events, NDJSON and compacted', async t => {
  const APPS = ['api', 'web', 'billing', 'café']
  const base = Date.parse('2026-04-01T00:00:00.000Z')
  const sent: Parsed[] = []
  // Runs of one app: small segments hold one or two apps each, so most blocks lack the asked app.
  for (let run = 0; run < 16; run++) {
    for (let k = 0; k < 60; k++) {
      const n = sent.length
      sent.push({ app_name: APPS[run % APPS.length], level: ['debug', 'info', 'warn', 'error'][n % 4], timestamp: new Date(base + n * 1000).toISOString(), message: `event ${n}`, seq: n })
    }
  }
  const canonical: Record<string, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' }
  const window = `from=${new Date(base).toISOString()}&to=${new Date(base + 3_600_000).toISOString()}`
  const check = async (c: RunningCollector, label: string): Promise<void> => {
    for (const apps of [['api'], ['billing'], ['café'], ['web', 'billing'], ['nope']]) {
      for (const extra of ['&buckets=1', '&buckets=60', '&level=warning']) {
        const h = await json(c, `/logs/histogram?${window}&app_name=${encodeURIComponent(apps.join(','))}${extra}`)
        const want = sent.filter(e => apps.includes(e.app_name) && (extra !== '&level=warning' || ['warn', 'error'].includes(e.level)))
        t.equal(h.total, want.length, `${label}: ${apps.join(',')}${extra}`)
        t.equal(h.levels.ERROR.reduce((a: number, b: number) => a + b, 0), want.filter(e => canonical[e.level] === 'ERROR').length)
      }
    }
  }
  const small = { JOURNAL_SEGMENT_BYTES: '8192' }
  const first = await startCollector(t, { env: { ...small, JOURNAL_COMPACT: 'off' } })
  for (let i = 0; i < sent.length; i += 60) {
    const res = await freshRequest(first, 'POST', '/logs', { body: sent.slice(i, i + 60).map(e => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
    if (res.status !== 200) throw new Error(`ingest: ${res.status} ${res.text}`)
  }
  await check(first, 'NDJSON')
  await first.stop()
  const again = await startCollector(t, { logDir: first.logDir, env: { ...small, JOURNAL_COMPACT: 'on' } })
  const closed = (await listSegments(first.logDir)).length - 1
  await poll(async () => ((await collectorStatus(again)) as any).journal.compaction.segments >= closed, 50)
  await check(again, 'compacted')
})
