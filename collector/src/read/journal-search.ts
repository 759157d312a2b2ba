// Events of the journal in the answer's order — timestamp descending, then _id descending — read lazily:
//
//   blocks that can match (time window, cursor, confirmed position, app), newest bound first
//     ──► read a block ──► prefilter (match.ts) ──► head, tail and head-field checks (JSON.parse only when
//         they cannot decide) ──► the line's bytes into an arena ──► heap
//     ──► yield the heap's newest while no unread block can hold a newer event
//
// A compacted block with columns, for a query with text, is searched in its columns first: its lines are
// decoded only when a line there can match, and only the lines the columns pick are looked at; those the
// columns show to match are checked only for what the columns do not hold (snapshot, cursor, expiry).
// With scan threads (scan-pool.ts) a thread does that for a candidate — columns, then only the picked lines
// rebuilt — several candidates ahead, so both cores decode while this thread tests and answers; without
// them, or for a candidate a thread could not read, it is done here (column-scan.ts, zlib's thread pool). A hit carries its line's bytes and its key (timestamp, _id) read in place;
// the event is parsed only if a reader asks for it (an export writes the bytes as they are).
// Arrival order and timestamp order mostly agree, so a recent page reads one or two blocks of the newest
// segment and a full export holds about one block in memory; what clients timestamp out of order only
// makes more blocks overlap. A caller that stops iterating stops the reading; so does the query's budget
// (budget.ts), checked before each block after the first, which is also where a long scan gives the event
// loop back to ingest and the tails.
import { openSegmentIfExists } from '../journal/segment-file'
import type { JournalPosition } from '../journal/writer'
import { memoOf, type Block } from './block-index'
import { blockBuffers, type BufferPool } from './block-buffers'
import type { QueryBudget } from './budget'
import { scanPool, type PickSession, type PickedLines, type ScanPool, type ScanQuery } from './scan-pool'
import { ColumnReader, READ_AHEAD, UNDECIDED, giveBack, pickLines, type ColumnSpan, type PickedBytes } from './column-scan'
import { ColumnQuery, boundMs } from './columns'
import { comesBefore, type Cursor } from './cursor'
import type { ExpiryFilter } from './expiry'
import { Heap } from './heap'
import { LineMatcher, type OnLine } from './line-matcher'
import { ID_LENGTH } from './line-tail'
import { TS_LENGTH, TS_START } from '../journal/line-head'
import type { StoredEvent } from './match'
import type { ReadQuery } from './query'
import type { JournalSource } from './sources'

const NL = 10

export interface Hit {
  timestamp: string
  id: string
  event: StoredEvent
  /** The journal line: the event's JSON as it is answered. */
  line: string
}

/**
 * A journal hit: its line's bytes are bytes[start, end); the text and the event are made when asked for.
 * Its key is given as text, or left in place (`idAt`, the _id's offset in `bytes`; the timestamp in the
 * line's head) with `ms`, its time, when known: then ordering it (lineHitBefore) makes no string.
 */
export class LineHit implements Hit {
  private text: string | undefined
  /**
   * `ms` in two small integers (high: ms / 2^20, -1 when unknown; low: the rest): a double field would be a
   * number boxed apart, one more object per hit for the GC.
   */
  readonly high: number
  readonly low: number

  constructor (private ts: string | undefined, private key: string | undefined, readonly bytes: Buffer, readonly start: number, readonly end: number,
    private parsed: StoredEvent | undefined, ms = NaN, readonly idAt = -1) {
    this.high = ms >= 0 ? Math.floor(ms / MS_SPLIT) : -1
    this.low = ms >= 0 ? ms - this.high * MS_SPLIT : 0
  }

  /** The time given for the hit (epoch ms), NaN when none was. */
  get ms (): number {
    return this.high < 0 ? NaN : this.high * MS_SPLIT + this.low
  }

  get timestamp (): string {
    return (this.ts ??= this.bytes.latin1Slice(this.start + TS_START, this.start + TS_START + TS_LENGTH))
  }

  get id (): string {
    return (this.key ??= this.bytes.latin1Slice(this.idAt, this.idAt + ID_LENGTH))
  }

  get line (): string {
    return (this.text ??= this.bytes.toString('utf8', this.start, this.end))
  }

  get event (): StoredEvent {
    if (this.parsed === undefined) {
      try {
        this.parsed = JSON.parse(this.line) as StoredEvent
      } catch {
        // Head and tail were whole but the middle is not JSON (never written by the collector; a file edited
        // by hand): the reader gets what the line did tell, not an error that would fail its whole answer.
        this.parsed = { timestamp: this.timestamp, _id: this.id }
      }
    }
    return this.parsed
  }
}

/**
 * Bytes of a search's hits, copied out of the buffers blocks are read into (those are reused): chunks from
 * FIRST_CHUNK (a page's hundred lines) doubling up to ARENA_BYTES (an export's stream).
 */
const FIRST_CHUNK = 16 * 1024
const ARENA_BYTES = 256 * 1024

class LineArena {
  private chunk = Buffer.allocUnsafe(0)
  private used = 0
  /** Where `put` copied the last line to in the chunk it returned. */
  at = 0

  /** Copies buf[start, end) and answers the buffer holding it (from `at`). */
  put (buf: Buffer, start: number, end: number): Buffer {
    const n = end - start
    if (this.used + n > this.chunk.length) {
      // A chunk stays alive while a hit in it does: a new one for what follows.
      this.chunk = Buffer.allocUnsafe(Math.max(Math.min(Math.max(2 * this.chunk.length, FIRST_CHUNK), ARENA_BYTES), n))
      this.used = 0
    }
    this.at = this.used
    this.used += buf.copy(this.chunk, this.used, start, end)
    return this.chunk
  }
}

export function hitBefore (a: Hit, b: Hit): boolean {
  return comesBefore(a.timestamp, a.id, b.timestamp, b.id)
}

/**
 * hitBefore for two journal hits, by their times when both are known (a time the columns give is a
 * canonical ISO timestamp's: its order is the text's, and equal times are equal texts), then their _ids'
 * bytes in place; as text otherwise.
 */
export function lineHitBefore (a: LineHit, b: LineHit): boolean {
  if (a.high >= 0 && b.high >= 0) {
    if (a.high !== b.high) return a.high > b.high
    if (a.low !== b.low) return a.low > b.low
    if (a.idAt !== -1 && b.idAt !== -1) return a.bytes.compare(b.bytes, b.idAt, b.idAt + ID_LENGTH, a.idAt, a.idAt + ID_LENGTH) > 0
  }
  return comesBefore(a.timestamp, a.id, b.timestamp, b.id)
}

/** Whether `hit` is newer than `bound` (an ISO time; `boundMs` its time when canonical, else NaN). */
function newerThan (hit: LineHit, bound: string, boundMs: number): boolean {
  return hit.high >= 0 && boundMs === boundMs ? hit.high * MS_SPLIT + hit.low > boundMs : hit.timestamp > bound
}

const MS_SPLIT = 2 ** 20

export interface Candidate {
  source: JournalSource
  block: Block
  /** Lines before this offset in the block's segment are confirmed in MongoDB and answered from there. */
  minOffset: number
}

/** Whether `c` is in the segment being written: NDJSON always, so never for the scan threads to pick or count. */
export function beingWritten (c: Candidate): boolean {
  return c.block.segment === c.source.writing?.()
}

export interface JournalReadOptions {
  /** Only events received up to this moment (ISO). */
  snapshot: string | undefined
  /** Read only what MongoDB has not confirmed yet (the part merged into a MongoDB answer). */
  unconfirmedOnly: boolean
  /** RETENTION_RULES: expired lines are skipped (and blocks holding nothing else are not read). */
  expiry?: ExpiryFilter | undefined
  /** The query's time and client (budget.ts): the scan stops with QueryStoppedError when it ends. */
  budget?: QueryBudget | undefined
}

function blockCanMatch (b: Block, q: ReadQuery, after: Cursor | undefined): boolean {
  if (q.from !== undefined && b.maxTs < q.from) return false
  if (q.to !== undefined && b.minTs >= q.to) return false
  if (after !== undefined && b.minTs > after.timestamp) return false
  return true
}

/**
 * The blocks that can hold matches (time window, cursor, confirmed position, app), newest upper bound
 * first. A block whose per-app counts are known and name none of the query's apps is not read; one whose
 * apps are unknown (too many, or an older compacted footer) always can match.
 */
export async function candidates (sources: readonly JournalSource[], q: ReadQuery, unconfirmedOnly: boolean, expiry?: ExpiryFilter): Promise<Candidate[]> {
  const out: Candidate[] = []
  const apps = q.apps
  for (const source of sources) {
    const from: JournalPosition | undefined = unconfirmedOnly ? await source.confirmed() : undefined
    for (const segment of await source.segments()) {
      if (from !== undefined && segment < from.segment) continue
      const minOffset = from !== undefined && segment === from.segment ? from.offset : 0
      for (const block of await source.index.blocks(segment, await source.readableEnd(segment))) {
        if (block.end <= minOffset || !blockCanMatch(block, q, q.after) || expiry?.allExpired(block.maxTs) === true) continue
        if (apps !== undefined && block.apps !== undefined && !apps.some(a => block.apps!.has(a))) continue
        out.push({ source, block, minOffset })
      }
    }
  }
  // Newest upper bound first: the order in which blocks are needed.
  return out.sort((a, b) => a.block.maxTs < b.block.maxTs ? 1 : a.block.maxTs > b.block.maxTs ? -1 : 0)
}

/** A block's bytes into `into` (grown as needed); fewer when the file shrank, none when retention deleted it. */
export interface BlockBytes { buf: Buffer, length: number }

async function readBlock (c: Candidate, into: Buffer): Promise<BlockBytes> {
  const { block } = c
  const size = block.end - block.start
  const buf = into.length >= size ? into : Buffer.allocUnsafe(size)
  const fh = await openSegmentIfExists(c.source.index.dir, block.segment)
  if (fh === undefined) return { buf, length: 0 }
  let length = 0
  try {
    while (length < size) {
      const bytesRead = await fh.read(buf, length, size - length, block.start + length)
      if (bytesRead === 0) break
      length += bytesRead
    }
  } finally {
    await fh.close()
  }
  return { buf, length }
}

/**
 * Reads the blocks of a search in the order given, the next one while the current one is scanned, into
 * two buffers used in turn: a scan over gigabytes allocates no buffer per block, and waits on the disk
 * only when the scan is faster than the read. The buffers come from the process's pool (block-buffers.ts)
 * when the first block is read, and go back to it when the reader is disposed (`using`): a query that
 * ends, however it ends, returns them.
 *
 * A read ahead may be abandoned (the block it fetched is answered from its columns instead): it goes on
 * writing into its buffer until it settles, so that buffer is reused — by this reader or, once given back,
 * by another query — only after it has.
 */
export class BlockReader implements Disposable {
  private readonly buffers: Array<Buffer | undefined> = [undefined, undefined]
  /** The read writing into each buffer, until it settles. */
  private readonly filling: Array<Promise<unknown> | undefined> = [undefined, undefined]
  private turn = 0
  private ahead: { c: Candidate, read: Promise<BlockBytes> } | undefined

  constructor (private readonly pool: BufferPool = blockBuffers, private readonly readInto: typeof readBlock = readBlock) {}

  /** The bytes of `c`, valid until the call after next; starts reading `next` meanwhile. */
  async read (c: Candidate, next: Candidate | undefined): Promise<BlockBytes> {
    const mine = this.ahead?.c === c ? this.ahead.read : (await this.start(c)).read
    this.ahead = undefined
    if (next !== undefined) {
      const { read } = await this.start(next)
      read.catch(() => {}) // surfaced when it is awaited
      this.ahead = { c: next, read }
    }
    return await mine
  }

  /** Gives the buffers back, each once the read writing into it (an abandoned read ahead) is done. */
  [Symbol.dispose] (): void {
    const held = this.buffers.filter(buf => buf !== undefined)
    const pending = this.filling.filter(read => read !== undefined)
    this.buffers.fill(undefined)
    this.filling.fill(undefined)
    this.ahead = undefined
    const giveBack = (): void => { for (const buf of held) this.pool.give(buf) }
    if (pending.length === 0) giveBack()
    else void Promise.allSettled(pending).then(giveBack)
  }

  /** Starts reading `c` into the next buffer in turn, once no earlier read still writes into it. */
  private async start (c: Candidate): Promise<{ read: Promise<BlockBytes> }> {
    this.turn ^= 1
    const slot = this.turn
    const busy = this.filling[slot]
    if (busy !== undefined) await busy.then(() => {}, () => {})
    const read = this.readInto(c, (this.buffers[slot] ??= this.pool.take()))
    this.filling[slot] = read
    const settled = (): void => { if (this.filling[slot] === read) this.filling[slot] = undefined }
    read.then(settled, settled)
    return { read }
  }
}

/** Candidates whose picked lines are read ahead of need (after their columns; see READ_AHEAD). */
const LINES_AHEAD = 2
/**
 * Candidates picked ahead in the scan threads: enough that both threads always have the next block while
 * the main thread tests and answers this one's lines (a block takes a thread ~2 ms; its hits here less).
 */
const THREAD_AHEAD = 6

/** A candidate's columns, the lines they pick and those lines' bytes; or the lines a scan thread picked. */
type Picked = { spans: ColumnSpan[], picked: number[][], bytes: PickedBytes[], threaded?: undefined } | { threaded: PickedLines }

/** The journal's matching events, newest first. */
export async function * journalEvents (sources: readonly JournalSource[], q: ReadQuery, opts: JournalReadOptions):
AsyncGenerator<Hit, void, undefined> {
  for await (const batch of journalBatches(sources, q, opts)) yield * batch
}

/** Hits yielded at once, at most: an export writes them while the next are read. */
const BATCH_HITS = 4096

/**
 * The journal's matching events, newest first, in batches: the hits that are known to come next each time
 * blocks have been read (an export takes them without a promise per event).
 */
export async function * journalBatches (sources: readonly JournalSource[], q: ReadQuery, opts: JournalReadOptions):
AsyncGenerator<Hit[], void, undefined> {
  const cq = ColumnQuery.of(q)
  const pool = cq === undefined ? undefined : scanPool()
  // The columns narrow a search by its text. By app and level alone they do not pay here: nearly every
  // block holds some of an app's errors, so its lines are decoded anyway, and the columns on top. In a
  // scan thread they do: the columns are what a cut block's lines need anyway, and only the lines they
  // pick are rebuilt (none of the block is spliced or crc'd whole), several candidates at once.
  const columns = cq?.hasText() === true || pool !== undefined ? new ColumnReader(blockBuffers, cq?.needsMessages() ?? false) : undefined
  // The scan threads pick the candidates' lines (columns, then only the lines they pick rebuilt), when there are threads.
  const threads: Threads | undefined = columns === undefined || pool === undefined
    ? undefined
    : { pool, query: { text: q.text, from: q.from, to: q.to, levels: q.levels, apps: q.apps }, session: undefined, here: new Set<string>(), closed: false }
  const ahead = new Map<Candidate, Promise<Picked | undefined>>()
  try {
    yield * scanEvents(sources, q, opts, cq, columns, ahead, threads)
  } finally {
    if (threads !== undefined) {
      threads.closed = true
      threads.session?.close()
    }
    // Reads ahead still in flight finish before their segment is let go (also when the caller stops early).
    await Promise.all([...ahead.values()].map(async p => {
      const picked = await p.catch(() => undefined)
      if (picked?.threaded === undefined) giveBack(picked?.bytes ?? [], blockBuffers)
    }))
    await columns?.close()
  }
}

/**
 * A search's scan threads, and the segments they could not pick from (NDJSON, mostly: the newest segment,
 * still being written, is searched first): the rest of such a segment is read here without asking them.
 */
interface Threads {
  pool: ScanPool
  query: ScanQuery
  /** Opened at the first candidate a thread can pick: a search of the segment being written alone starts none. */
  session: PickSession | undefined
  here: Set<string>
  /** The search is over: a pick answered undefined now was dropped, not handed back (nothing to read). */
  closed: boolean
}

async function pick (columns: ColumnReader, cq: ColumnQuery, c: Candidate, next: readonly Candidate[], threads: Threads | undefined): Promise<Picked | undefined> {
  if (threads?.closed === true) return undefined
  const key = `${c.source.index.dir}\n${c.block.segment}`
  // The segment being written is NDJSON: read here without asking the threads.
  if (threads !== undefined && !threads.here.has(key) && !beingWritten(c)) {
    threads.session ??= threads.pool.session(threads.query)
    const threaded = await threads.session.pick({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset })
    if (threaded !== undefined) return { threaded }
    if (threads.closed) return undefined
    // Not picked there (NDJSON, damage, gone): read here, the way that reports what is wrong.
    threads.here.add(key)
  }
  const spans = await columns.read(c, next)
  if (spans === undefined) return undefined
  const picked = pickLines(c, spans, cq)
  return { spans, picked, bytes: await columns.lines(c, spans, picked, blockBuffers) }
}

async function * scanEvents (sources: readonly JournalSource[], q: ReadQuery, opts: JournalReadOptions, cq: ColumnQuery | undefined,
  columns: ColumnReader | undefined, ahead: Map<Candidate, Promise<Picked | undefined>>, threads: Threads | undefined): AsyncGenerator<Hit[], void, undefined> {
  opts.expiry?.refresh()
  const blocks = await candidates(sources, q, opts.unconfirmedOnly, opts.expiry)
  const matcher = new LineMatcher(q, opts.snapshot, false, opts.expiry, true)
  const heap = new Heap<LineHit>(lineHitBefore)
  const arena = new LineArena()
  using reader = new BlockReader()
  const budget = opts.budget
  let lineBuf: Buffer = Buffer.alloc(0)
  // Lines a scan thread picked are in a buffer of their own (not one reused): hits point into it, uncopied.
  let own = false
  const push: OnLine = (start, end, event) => {
    const bytes = own ? lineBuf : arena.put(lineBuf, start, end)
    const at = own ? start : arena.at
    const { idAt } = matcher
    heap.push(idAt === -1
      ? new LineHit(matcher.ts, matcher.id, bytes, at, at + end - start, event)
      : new LineHit(undefined, undefined, bytes, at, at + end - start, event, matcher.ms, at + idAt - start))
  }
  let columnsSeen = false
  let next = 0
  for (;;) {
    // Load every block whose newest event could come before the heap's newest.
    while (next < blocks.length && (heap.size === 0 || blocks[next]!.block.maxTs >= heap.peek()!.timestamp)) {
      // The first block is always read: a page cut short by its budget then has something to answer.
      const turn = next > 0 ? budget?.pace() : undefined
      if (turn !== undefined) await turn
      const c = blocks[next++]!
      if (columns !== undefined) {
        const mine = ahead.get(c) ?? pick(columns, cq!, c, blocks.slice(next, next + READ_AHEAD), threads)
        ahead.delete(c)
        for (let k = next; k < Math.min(next + (threads !== undefined ? THREAD_AHEAD : LINES_AHEAD), blocks.length); k++) {
          const n = blocks[k]!
          if (ahead.has(n)) continue
          // Its columns are already loading (READ_AHEAD reaches further): no deeper read ahead from here, which
          // a page that stops early would have decoded for nothing.
          const p = pick(columns, cq!, n, [], threads)
          p.catch(() => {}) // surfaced when it is awaited
          ahead.set(n, p)
        }
        const picked = await mine
        if (picked !== undefined) {
          columnsSeen = true
          opts.expiry?.refresh()
          if (picked.threaded !== undefined) {
            own = true
            try {
              scanThreaded(picked.threaded, matcher, push, buf => { lineBuf = buf })
            } finally {
              own = false
            }
            continue
          }
          try {
            scanPicked(picked, matcher, push, buf => { lineBuf = buf })
          } finally {
            giveBack(picked.bytes, blockBuffers) // the hits hold copies (the arena)
          }
          continue
        }
      }
      // Once blocks have columns, the next block's lines are not read ahead: it will most likely not need them.
      // Nor, with scan threads, a block of another segment: most likely a compacted one, which a thread picks.
      const following = columnsSeen || (threads !== undefined && blocks[next]?.block.segment !== c.block.segment) ? undefined : blocks[next]
      const { buf, length } = await reader.read(c, following)
      lineBuf = buf
      const whole = length === c.block.end - c.block.start
      matcher.scan(buf, length, c.minOffset - c.block.start, push, memoOf(c.block, length), whole ? c.block.apps : undefined)
    }
    // Every hit newer than all unread blocks can hold comes next.
    const batch: Hit[] = []
    const bound = next < blocks.length ? blocks[next]!.block.maxTs : undefined
    const boundAt = boundMs(bound)
    while (heap.size > 0 && batch.length < BATCH_HITS && (bound === undefined || newerThan(heap.peek()!, bound, boundAt))) batch.push(heap.pop()!)
    if (batch.length === 0) return
    yield batch
  }
}

/**
 * The lines a candidate's columns picked, tested: those they show to match only for what the columns do
 * not hold (LineMatcher.admit, which takes the whole test when the query has fields or an expression).
 */
function scanPicked ({ spans, picked, bytes }: Extract<Picked, { spans: ColumnSpan[] }>, matcher: LineMatcher, push: OnLine, use: (buf: Buffer) => void): void {
  for (let s = 0; s < bytes.length; s++) {
    const { buf, got, first } = bytes[s]!
    const starts = spans[s]!.cols.starts
    use(buf)
    for (const v of picked[s]!) {
      const i = v >> 1
      const from = starts[i]! - first
      let to = Math.min(starts[i + 1]! - first, got)
      if (to <= from) break // the file is shorter than its columns said (it cannot be, but nothing is read past it)
      if (buf[to - 1] === NL) to--
      if ((v & UNDECIDED) === 0) matcher.admit(buf, from, to, push)
      else matcher.test(buf, from, to, push)
    }
  }
}

/** The lines a scan thread picked, tested as scanPicked tests its own (in order; each line's newline not passed on). */
function scanThreaded ({ lines, ends, undecided, ms }: PickedLines, matcher: LineMatcher, push: OnLine, use: (buf: Buffer) => void): void {
  use(lines)
  let from = 0
  for (let k = 0; k < ends.length; k++) {
    const end = ends[k]!
    const to = lines[end - 1] === NL ? end - 1 : end
    if (undecided[k] === 0) matcher.admit(lines, from, to, push, ms[k])
    else matcher.test(lines, from, to, push)
    from = end
  }
}
