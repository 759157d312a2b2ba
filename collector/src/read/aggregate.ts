// GET /logs/histogram and GET /logs/values: counts for the same filters as GET /logs.
//
//   histogram, journal: a block that lies inside one bucket adds the per-level counts kept in the block
//                       index (no read), or with app_name the per-app ones (blocks without the apps are not
//                       even candidates); a block across a bucket edge, a block whose apps are unknown, or a
//                       query that needs more than time, level and app is read and its matching lines counted;
//                       a compacted block with columns, for text, time, level and app alone, is counted from
//                       them (column-scan.ts), reading only the lines they leave undecided — in the scan
//                       threads (scan-pool.ts) when SCAN_THREADS > 0: this thread then only adds up their
//                       counts and parses those lines, and the blocks they hand back are read here
//   histogram, MongoDB: one $group by level and bucket where the server computes date arithmetic in a
//                       $group (mongod); where it does not (FerretDB answers NotImplemented), the matching
//                       documents' timestamp and level are streamed and binned here
//   values:             the field's most frequent values among the newest VALUES_SAMPLE matching events
//                       (journal), or a $group over every match (MongoDB)
// With MongoDB the journal's unconfirmed part is added in, as GET /logs merges it; an event being flushed
// at that moment may count twice, never zero times. Both stop with QueryStoppedError when the query's
// budget (budget.ts) ends; the journal count gives the event loop back between blocks.
import type { Collection, Document } from 'mongodb'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { headOf, memoOf, type Block } from './block-index'
import { QueryBudget } from './budget'
import { ColumnReader, READ_AHEAD, countFromColumns } from './column-scan'
import { ColumnQuery } from './columns'
import { BlockReader, beingWritten, candidates, journalEvents, type Candidate } from './journal-search'
import { LineMatcher, type OnLine } from './line-matcher'
import { SORT, matchingEvents, mongoFilter, needsRecheck } from './mongo-query'
import type { ReadQuery } from './query'
import { scanPool, type ScanPool } from './scan-pool'
import type { MongoReadSide, ReadSource } from './sources'
import type { JournalSet } from './sources'

export interface HistogramRange {
  fromMs: number
  toMs: number
  intervalMs: number
  /** Bucket starts (epoch ms). */
  times: number[]
}

export interface Histogram extends HistogramRange {
  levels: Record<string, number[]>
  total: number
  source: ReadSource
}

const SECOND = 1000
const NICE_INTERVALS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000].map(s => s * SECOND)
export const DEFAULT_BUCKETS = 60
export const MAX_BUCKETS = 1000
const DEFAULT_RANGE_MS = 86_400_000

/**
 * The buckets over [from, to): with `buckets` given, that many of equal width from `from`; else about
 * DEFAULT_BUCKETS of a round width (1 s … 30 d), aligned to multiples of it.
 */
export function histogramRange (q: ReadQuery, buckets: number | undefined, now: number): HistogramRange {
  const toMs = q.to === undefined ? now : Date.parse(q.to)
  const fromMs = q.from === undefined ? toMs - DEFAULT_RANGE_MS : Date.parse(q.from)
  const span = Math.max(toMs - fromMs, 1)
  let intervalMs: number
  let first: number
  if (buckets !== undefined) {
    intervalMs = Math.max(Math.ceil(span / buckets), 1)
    first = fromMs
  } else {
    intervalMs = NICE_INTERVALS.find(i => span / i <= DEFAULT_BUCKETS) ?? Math.ceil(span / DEFAULT_BUCKETS)
    first = Math.floor(fromMs / intervalMs) * intervalMs
  }
  const times: number[] = []
  for (let t = first; t < toMs && times.length < MAX_BUCKETS; t += intervalMs) times.push(t)
  return { fromMs, toMs, intervalMs, times }
}

class Counter {
  readonly counts = CANONICAL_LEVELS.map(() => [] as number[])
  total = 0

  constructor (readonly range: HistogramRange) {
    for (const c of this.counts) for (let i = 0; i < range.times.length; i++) c.push(0)
  }

  bucketOf (ms: number): number {
    if (ms < this.range.fromMs || ms >= this.range.toMs) return -1
    const i = Math.floor((ms - this.range.times[0]!) / this.range.intervalMs)
    return i >= 0 && i < this.range.times.length ? i : -1
  }

  add (ms: number, level: number, n = 1): void {
    const b = this.bucketOf(ms)
    if (b === -1 || level < 0) return
    this.counts[level]![b]! += n
    this.total += n
  }

  /** Adds a scan thread's counts (level × buckets + bucket, the buckets of this range). */
  merge (counts: Float64Array): void {
    const buckets = this.range.times.length
    for (let level = 0; level < this.counts.length; level++) {
      const mine = this.counts[level]!
      for (let b = 0; b < buckets; b++) {
        const n = counts[level * buckets + b]!
        mine[b]! += n
        this.total += n
      }
    }
  }

  result (source: ReadSource): Histogram {
    const levels: Record<string, number[]> = {}
    CANONICAL_LEVELS.forEach((l, i) => { levels[l] = this.counts[i]! })
    return { ...this.range, levels, total: this.total, source }
  }
}

/** Only time, level and app decide: block summaries (levels, per-app levels when apps are asked) can stand for the lines. */
function summariesDecide (q: ReadQuery): boolean {
  return q.text === undefined && q.fields.length === 0 && q.expr === undefined
}

/** Adds a summed block's events of the `allowed` levels (of `apps` only, when given) at `ms`. */
function addSummary (counter: Counter, block: Block, apps: readonly string[] | undefined, allowed: ReadonlySet<number>, ms: number): void {
  const add = (levels: readonly number[]): void => levels.forEach((n, level) => { if (allowed.has(level) && n > 0) counter.add(ms, level, n) })
  if (apps === undefined) {
    add(block.levels)
    return
  }
  for (const app of apps) {
    const levels = block.apps!.levelsOf(app)
    if (levels !== undefined) add(levels)
  }
}

async function countJournal (journals: JournalSet, q: ReadQuery, counter: Counter, unconfirmedOnly: boolean, budget: QueryBudget): Promise<void> {
  const windowed: ReadQuery = {
    ...q,
    after: undefined,
    from: new Date(counter.range.fromMs).toISOString(),
    to: new Date(counter.range.toMs).toISOString()
  }
  const expiry = journals.expiry
  expiry?.refresh()
  const matcher = new LineMatcher(windowed, undefined, false, expiry)
  const summaries = summariesDecide(q)
  // Each app once: `app_name=a,a` must not count a block's events twice.
  const apps = q.apps === undefined ? undefined : [...new Set(q.apps)]
  const allowed = new Set((q.levels ?? CANONICAL_LEVELS).map(l => CANONICAL_LEVELS.indexOf(l)))
  const blocks = await candidates(await journals.sources(), windowed, unconfirmedOnly, expiry)
  const summed = (c: typeof blocks[number]): boolean => {
    if (!summaries || (apps !== undefined && c.block.apps === undefined)) return false
    const lo = counter.bucketOf(Date.parse(c.block.minTs))
    // A block that may hold expired events is read: its summaries count them.
    return c.minOffset <= c.block.start && (expiry?.noneExpired(c.block.minTs) ?? true) && lo !== -1 && lo === counter.bucketOf(Date.parse(c.block.maxTs))
  }
  const toRead: typeof blocks = []
  for (const c of blocks) {
    if (!summed(c)) toRead.push(c)
    else addSummary(counter, c.block, apps, allowed, Date.parse(c.block.minTs))
  }
  using reader = new BlockReader()
  // Columns take a query of text, time, level and app alone; a block that may hold expired events is read
  // whole, where the line matcher applies RETENTION_RULES to each line.
  const cq = ColumnQuery.of(windowed)
  const columns = cq?.decides() === true ? new ColumnReader(undefined, cq.needsMessages()) : undefined
  const byColumns = (c: typeof blocks[number]): boolean => expiry?.noneExpired(c.block.minTs) ?? true
  const countLine = (buf: Buffer): OnLine => (start, end, event) => {
    if (event !== undefined) {
      counter.add(Date.parse(event.timestamp as string), CANONICAL_LEVELS.indexOf(event.level as never))
      return
    }
    const head = headOf(buf, start, end)
    if (head !== undefined) counter.add(Date.parse(head.ts), head.level)
  }
  const add = (ms: number, level: number): void => counter.add(ms, level)
  const pool = columns === undefined ? undefined : scanPool()
  let columnsSeen = false
  /** Reads block `c` (and `following` ahead) and counts its matching lines, the line way. */
  const scanLines = async (c: Candidate, following: Candidate | undefined): Promise<void> => {
    const { buf, length } = await reader.read(c, following)
    matcher.scan(buf, length, c.minOffset - c.block.start, countLine(buf), memoOf(c.block, length))
  }
  try {
    // Inside the try: the lines the threads leave undecided are read through `columns`, closed below.
    let lines = toRead
    if (pool !== undefined) {
      const threaded = countInThreads(pool, columns!, toRead.filter(c => byColumns(c) && !beingWritten(c)), windowed, counter, matcher, countLine, budget)
      try {
        // The segment being written (NDJSON) meanwhile, its lines as they are (not through `columns`,
        // which the threads' undecided lines are read with).
        for (const c of toRead) {
          if (!byColumns(c) || !beingWritten(c)) continue
          const turn = budget.pace()
          if (turn !== undefined) await turn
          await scanLines(c, undefined)
        }
      } catch (err) {
        // The threads' count ends with the same budget (or is no longer wanted): waited for, not left running.
        await threaded.catch(() => {})
        throw err
      }
      lines = await threaded
      for (const c of toRead) if (!byColumns(c)) lines.push(c)
    }
    for (let i = 0; i < lines.length; i++) {
      const turn = budget.pace()
      if (turn !== undefined) await turn
      const c = lines[i]!
      if (columns !== undefined && byColumns(c)) {
        const spans = await columns.read(c, lines.slice(i + 1, i + 1 + READ_AHEAD).filter(byColumns))
        if (spans !== undefined) {
          columnsSeen = true
          await countFromColumns(columns, c, spans, cq!, matcher, add, countLine)
          continue
        }
      }
      // Once blocks have columns, the next block's lines are not read ahead: it will most likely not need them.
      await scanLines(c, columnsSeen ? undefined : lines[i + 1])
    }
  } finally {
    await columns?.close()
  }
}

/**
 * Counts `blocks` (compacted, a count's query the columns decide) in the scan threads; the main thread
 * only adds their counts and parses the few lines they leave undecided. Resolves with the blocks the
 * threads handed back (no columns there, or a thread that died), for the caller to read in-thread.
 */
async function countInThreads (pool: ScanPool, columns: ColumnReader, blocks: Candidate[], q: ReadQuery, counter: Counter, matcher: LineMatcher,
  countLine: (buf: Buffer) => OnLine, budget: QueryBudget): Promise<Candidate[]> {
  budget.check()
  const { range } = counter
  const items = blocks.map(c => ({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset }))
  const r = await pool.count(items, { text: q.text, from: q.from, to: q.to, levels: q.levels, apps: q.apps },
    { fromMs: range.fromMs, toMs: range.toMs, first: range.times[0] ?? range.fromMs, intervalMs: range.intervalMs, buckets: range.times.length }, budget.signal)
  counter.merge(r.counts)
  // The undecided lines, per block (a block's lines come from one job, in order).
  const undecided = new Map<number, number[]>()
  for (let i = 0; i < r.undecided.length; i += 3) {
    const k = r.undecided[i]!
    let mine = undecided.get(k)
    if (mine === undefined) undecided.set(k, mine = [])
    mine.push(r.undecided[i + 1]!, r.undecided[i + 2]!)
  }
  for (const [k, offsets] of undecided) {
    const turn = budget.pace()
    if (turn !== undefined) await turn
    await columns.exactOffsets(blocks[k]!, offsets, matcher, countLine)
  }
  return r.fallback.map(k => blocks[k]!)
}

/** Whether a server refused the bucket pipeline as an operator it lacks (FerretDB: 238 NotImplemented),
 * so the histogram bins documents here instead; `maap-collector doctor` asks the same question. */
export function isNotImplemented (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 238 || code === 115 || code === 168 || code === 31325
}

export interface BucketGroup { _id: { level: string, b: number }, n: number }

/** Counts per level and bucket (b: the bucket's index from `first`), computed by the server. */
export function bucketPipeline (match: Document, first: number, intervalMs: number): Document[] {
  return [
    { $match: match },
    { $group: { _id: { level: '$level', b: { $floor: { $divide: [{ $subtract: ['$timestamp', new Date(first)] }, intervalMs] } } }, n: { $sum: 1 } } }
  ]
}

async function countMongo (collection: Collection<Document>, q: ReadQuery, counter: Counter, budget: QueryBudget): Promise<void> {
  const { fromMs, toMs, intervalMs } = counter.range
  const maxTimeMS = mongoTime(budget)
  const first = counter.range.times[0] ?? fromMs
  const windowed = { ...q, after: undefined, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() }
  const match = mongoFilter(windowed, undefined)
  if (needsRecheck(q)) {
    // The filter holds for more than the query: each document is checked here before it is counted.
    const cursor = collection.find(match, { batchSize: 10_000, maxTimeMS })
    for await (const e of matchingEvents(cursor, windowed)) counter.add(Date.parse(e.timestamp as string), CANONICAL_LEVELS.indexOf(e.level as never))
    return
  }
  try {
    const groups = await collection.aggregate<BucketGroup>(bucketPipeline(match, first, intervalMs), { maxTimeMS }).toArray()
    for (const g of groups) counter.add(first + g._id.b * intervalMs, CANONICAL_LEVELS.indexOf(g._id.level as never), g.n)
    return
  } catch (err) {
    if (!isNotImplemented(err)) throw err
  }
  const cursor = collection.find(match, { projection: { _id: 0, timestamp: 1, level: 1 }, batchSize: 10_000, maxTimeMS })
  for await (const d of cursor) counter.add((d.timestamp as Date).getTime(), CANONICAL_LEVELS.indexOf(d.level as never))
}

/** MongoDB's own limit for one call: 30 s, or what is left of the budget when that is less. */
function mongoTime (budget: QueryBudget): number {
  return Math.max(Math.min(30_000, Math.ceil(budget.remainingMs())), 1)
}

export async function histogram (journals: JournalSet, mongo: MongoReadSide | undefined, q: ReadQuery, range: HistogramRange,
  budget = new QueryBudget()): Promise<Histogram> {
  if (mongo !== undefined && mongo.connected()) {
    try {
      const counter = new Counter(range)
      await countJournal(journals, q, counter, true, budget)
      await countMongo(mongo.collection, q, counter, budget)
      return counter.result('mongodb')
    } catch (err) {
      const stop = budget.stopOf(err)
      if (stop !== undefined) throw stop
      // MongoDB failed: answer from the journal, as search does.
    }
  }
  const counter = new Counter(range)
  await countJournal(journals, q, counter, false, budget)
  return counter.result('journal')
}

export interface Values {
  field: string
  values: Array<{ value: unknown, count: number }>
  sampled: boolean
  source: ReadSource
}

/** Events the journal reads at most for /logs/values (the newest); `sampled` says when there were more. */
export const VALUES_SAMPLE = 100_000

function countValue (counts: Map<string, { value: unknown, count: number }>, v: unknown): void {
  if (Array.isArray(v)) {
    for (const item of v) countValue(counts, item)
    return
  }
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return
  const key = typeof v + ':' + String(v)
  const entry = counts.get(key)
  if (entry === undefined) counts.set(key, { value: v, count: 1 })
  else entry.count++
}

function valueAt (event: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = event
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined
    v = (v as Record<string, unknown>)[key]
  }
  return v
}

export async function values (journals: JournalSet, mongo: MongoReadSide | undefined, q: ReadQuery, path: readonly string[], limit: number,
  budget = new QueryBudget()): Promise<Values> {
  const field = path.join('.')
  const counts = new Map<string, { value: unknown, count: number }>()
  let sampled = false
  let source: ReadSource = 'journal'
  const fromJournal = async (unconfirmedOnly: boolean): Promise<void> => {
    let n = 0
    const hits = journalEvents(await journals.sources(), { ...q, after: undefined }, { snapshot: undefined, unconfirmedOnly, expiry: journals.expiry, budget })
    try {
      for await (const hit of hits) {
        if (++n > VALUES_SAMPLE) {
          sampled = true
          break
        }
        countValue(counts, valueAt(hit.event, path))
      }
    } finally {
      await hits.return(undefined)
    }
  }
  let done = false
  if (mongo !== undefined && mongo.connected()) {
    try {
      await fromJournal(true)
      const match = mongoFilter({ ...q, after: undefined }, undefined)
      if (needsRecheck(q)) {
        // The filter holds for more than the query: the newest matches, checked here, as the journal counts them.
        let n = 0
        const cursor = mongo.collection.find(match, { sort: SORT, batchSize: 10_000, maxTimeMS: mongoTime(budget) })
        try {
          for await (const e of matchingEvents(cursor, q)) {
            if (++n > VALUES_SAMPLE) {
              sampled = true
              break
            }
            countValue(counts, valueAt(e, path))
          }
        } finally {
          await cursor.close()
        }
        source = 'mongodb'
        done = true
      }
      const groups = done ? [] : await mongo.collection.aggregate<{ _id: unknown, n: number }>([
        { $match: match },
        { $group: { _id: '$' + field, n: { $sum: 1 } } },
        { $sort: { n: -1 } },
        { $limit: limit * 4 }
      ], { maxTimeMS: mongoTime(budget) }).toArray()
      for (const g of groups) {
        const v = g._id
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue
        const key = typeof v + ':' + String(v)
        const entry = counts.get(key)
        if (entry === undefined) counts.set(key, { value: v, count: g.n })
        else entry.count += g.n
      }
      source = 'mongodb'
      done = true
    } catch (err) {
      const stop = budget.stopOf(err)
      if (stop !== undefined) throw stop
      counts.clear()
      sampled = false
    }
  }
  if (!done) await fromJournal(false)
  const top = [...counts.values()].sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value))).slice(0, limit)
  return { field, values: top, sampled, source }
}
