// Counts and searches over the columns of compacted blocks (columns.ts), for the blocks that have them:
//
//   candidate block ─► the footer blocks it covers ─► their columns (decoded async, the next block's read
//   while this one is scanned) ─► ColumnQuery.scan ─► count: matches added from the columns
//                                                  └► undecided lines (count): read from the segment ─► LineMatcher
//                                                  └► search: pickLines (matches and undecided, marked) ─► lines():
//                                                     one read per span ─► journal-search.ts tests them
//
// A block index built while a segment was NDJSON keeps its own block bounds after the segment is
// compacted, so a candidate may cover parts of two footer blocks: each line belongs to exactly one of the
// index's blocks (both cut at newlines), and only the lines inside the candidate are scanned. When any
// footer block it covers has no columns (an older footer, damaged columns) the caller reads the lines.
// Format 3 columns hold message templates: a text without digits is tested on them alone; one with digits
// (`messages`, ColumnQuery.needsMessages) needs the block's vars too, to rebuild the messages.
import { openSegmentIfExists, undecodableColumns, type SegmentFile } from '../journal/segment-file'
import type { StoredBlock } from '../journal/compacted/format'
import { blockBuffers, type BufferPool } from './block-buffers'
import { ColumnsError, covering, decodeColumns, lineAt, type ColumnQuery, type Columns } from './columns'
import type { Candidate } from './journal-search'
import type { LineMatcher, OnLine } from './line-matcher'

/** Lines [from, to) of one footer block's columns, which starts at `base` in the segment. */
export interface ColumnSpan {
  cols: Columns
  base: number
  from: number
  to: number
}

/** One span's picked lines, read: buf[0, got) holds the span's block from offset `first`. */
export interface PickedBytes {
  buf: Buffer
  got: number
  first: number
  /** The pool's buffer this holds (given back with giveBack once the lines are scanned). */
  lent: Buffer | undefined
}

/** Gives the buffers of `bytes` back to `pool`, once. */
export function giveBack (bytes: PickedBytes[], pool: BufferPool): void {
  for (const b of bytes) {
    if (b.lent !== undefined) pool.give(b.lent)
    b.lent = undefined
  }
}

const EMPTY = Buffer.alloc(0)

/** Decoded columns a reader keeps: a candidate and the next often share a footer block. */
const CACHED = 8
/**
 * Candidates whose columns are loaded ahead: a block's columns decompress in about half a millisecond and
 * scan in less, so with one ahead the scan mostly waits; four keep zlib's thread pool (and both cores) busy.
 */
export const READ_AHEAD = 4

/** An open segment and how many reads use it. */
interface Held {
  key: string
  open: Promise<SegmentFile | undefined>
  users: number
  released: boolean
}

async function closeHeld (held: Held): Promise<void> {
  const fh = await held.open.catch(() => undefined)
  await fh?.close()
}

/**
 * Reads the columns of a search's candidates in order, the next one's while the current one is scanned.
 * The segment last opened stays open (consecutive candidates mostly share one) until another is needed or
 * `close()`; the caller closes the reader when its scan ends.
 */
export class ColumnReader {
  private readonly cache = new Map<string, Promise<Columns | undefined>>()
  /** Loads started ahead of need: decompression runs in zlib's thread pool, several blocks at once. */
  private readonly ahead = new Map<Candidate, Promise<ColumnSpan[] | undefined>>()
  private file: Held | undefined
  private readonly closing = new Set<Promise<void>>()

  /**
   * `pool`: where the scratch of exactLines and exactOffsets comes from; `messages`: the scan needs the
   * messages themselves, not their templates (format 3: the vars are read and the messages rebuilt).
   */
  constructor (private readonly pool: BufferPool = blockBuffers, private readonly messages = false) {}

  /** Closes the segment it holds open (after any read in flight). */
  async close (): Promise<void> {
    await Promise.all([...this.ahead.values()].map(async p => await p.catch(() => {})))
    this.ahead.clear()
    this.release()
    await Promise.all([...this.closing])
  }

  /** Segment `segment` of `dir`, open (undefined when it is gone); `done(held)` when finished with it. */
  private acquire (dir: string, segment: string): Held {
    const key = `${dir}\n${segment}`
    if (this.file?.key !== key) {
      this.release()
      this.file = { key, open: openSegmentIfExists(dir, segment), users: 0, released: false }
    }
    this.file.users++
    return this.file
  }

  private done (held: Held): void {
    if (--held.users === 0 && held.released) this.closeLater(held)
  }

  /** Closes `held`; close() waits for it until it settles, then it is dropped (a scan over many segments). */
  private closeLater (held: Held): void {
    const closed = closeHeld(held).finally(() => { this.closing.delete(closed) })
    this.closing.add(closed)
  }

  /** Lets go of the open segment: closed now, or by the last read still using it. */
  private release (): void {
    const held = this.file
    if (held === undefined) return
    this.file = undefined
    held.released = true
    if (held.users === 0) this.closeLater(held)
  }

  /**
   * The spans of `c`, or undefined when its lines must be read; starts loading the `next` few (up to
   * READ_AHEAD of them) meanwhile.
   */
  async read (c: Candidate, next: readonly Candidate[]): Promise<ColumnSpan[] | undefined> {
    const mine = this.ahead.get(c) ?? this.load(c)
    this.ahead.delete(c)
    for (const n of next.slice(0, READ_AHEAD)) {
      if (this.ahead.has(n)) continue
      const spans = this.load(n)
      spans.catch(() => {}) // surfaced when it is awaited
      this.ahead.set(n, spans)
    }
    return await mine
  }

  /**
   * The bytes of the lines `picked` (per span, as pickLines gives them) of `c`, from the segment this
   * reader holds open: per span, one read from its first picked line to the end of its last (one block
   * decoded), `first` being where that read starts in the span's block. `got` is short when the file is.
   */
  async lines (c: Candidate, spans: readonly ColumnSpan[], picked: ReadonlyArray<readonly number[]>, pool: BufferPool): Promise<PickedBytes[]> {
    const out: PickedBytes[] = []
    if (picked.every(p => p.length === 0)) return out
    const held = this.acquire(c.source.index.dir, c.block.segment)
    try {
      const fh = await held.open
      for (let s = 0; s < spans.length; s++) {
        const lines = picked[s]!
        const { cols, base } = spans[s]!
        if (lines.length === 0 || fh === undefined) {
          out.push({ buf: EMPTY, got: 0, first: 0, lent: undefined })
          continue
        }
        const first = cols.starts[lines[0]! >> 1]!
        // Lent by the pool: an export reads a block's worth of lines per candidate, which fresh buffers
        // would make hundreds of megabytes of garbage.
        const lent = pool.take()
        const bytes: PickedBytes = { buf: lent, got: 0, first, lent }
        out.push(bytes)
        const scratch = { buf: lent }
        bytes.got = await readRange(fh, base + first, cols.starts[(lines.at(-1)! >> 1) + 1]! - first, scratch)
        bytes.buf = scratch.buf
      }
      return out
    } catch (err) {
      giveBack(out, pool)
      throw err
    } finally {
      this.done(held)
    }
  }

  /**
   * Runs the exact path (`matcher`) on lines `picked` (per span, ascending indices) of candidate `c`: the
   * bytes from a span's first picked line to its last are read at once (one block decoded, one read), then
   * each picked line is scanned alone. `onLine` gets the line's own buffer.
   */
  async exactLines (c: Candidate, spans: readonly ColumnSpan[], picked: ReadonlyArray<readonly number[]>, matcher: LineMatcher,
    onLine: (buf: Buffer) => OnLine): Promise<void> {
    if (picked.every(p => p.length === 0)) return
    await this.reading(c, async (fh, scratch) => {
      for (let s = 0; s < spans.length; s++) {
        const lines = picked[s]!
        if (lines.length === 0) continue
        const { cols, base } = spans[s]!
        const first = cols.starts[lines[0]!]!
        const got = await readRange(fh, base + first, cols.starts[lines.at(-1)! + 1]! - first, scratch)
        for (const i of lines) {
          const from = cols.starts[i]! - first
          const to = Math.min(cols.starts[i + 1]! - first, got)
          if (to <= from) break // the file is shorter than its columns said (it cannot be, but nothing is read past it)
          const line = scratch.buf.subarray(from, to)
          matcher.scan(line, line.length, 0, onLine(line))
        }
      }
    })
  }

  /**
   * Runs the exact path on lines of candidate `c` given by their offsets in the segment (`lines`: start, end,
   * start, end…, ascending): the undecided lines a scan thread (scan-pool.ts) sent back. Read at once from
   * the first to the last, as exactLines does.
   */
  async exactOffsets (c: Candidate, lines: readonly number[], matcher: LineMatcher, onLine: (buf: Buffer) => OnLine): Promise<void> {
    if (lines.length === 0) return
    await this.reading(c, async (fh, scratch) => {
      const first = lines[0]!
      const got = await readRange(fh, first, lines.at(-1)! - first, scratch)
      for (let i = 0; i < lines.length; i += 2) {
        const from = lines[i]! - first
        const to = Math.min(lines[i + 1]! - first, got)
        if (to <= from) break // the file is shorter than its columns said
        const line = scratch.buf.subarray(from, to)
        matcher.scan(line, line.length, 0, onLine(line))
      }
    })
  }

  /**
   * `read(fh, scratch)` with the segment of `c` open (the one this reader holds, not a second handle: its
   * blocks are decoded once) and a scratch buffer lent by the pool, given back however `read` ends. Counts
   * of a common word read undecided lines (quotes, stack traces) in most blocks: a fresh buffer each time
   * was the churn the pool exists to remove. Nothing happens when the segment is gone.
   */
  private async reading (c: Candidate, read: (fh: SegmentFile, scratch: { buf: Buffer }) => Promise<void>): Promise<void> {
    const held = this.acquire(c.source.index.dir, c.block.segment)
    try {
      const fh = await held.open
      if (fh === undefined) return
      const lent = this.pool.take()
      try {
        await read(fh, { buf: lent })
      } finally {
        this.pool.give(lent)
      }
    } finally {
      this.done(held)
    }
  }

  private async load (c: Candidate): Promise<ColumnSpan[] | undefined> {
    const { block } = c
    const held = this.acquire(c.source.index.dir, block.segment)
    try {
      const fh = await held.open
      if (fh === undefined) return undefined
      const footer = fh.blocks()
      const blocks = footer === undefined ? undefined : covering(footer, block.start, block.end)
      if (blocks === undefined || blocks.some(b => b.cols === undefined)) return undefined
      const spans: ColumnSpan[] = []
      for (const b of blocks) {
        const cols = await this.columns(fh, c, b)
        if (cols === undefined) return undefined
        spans.push({ cols, base: b.start, from: lineAt(cols, block.start - b.start), to: lineAt(cols, block.end - b.start) })
      }
      return spans
    } finally {
      this.done(held)
    }
  }

  private async columns (fh: SegmentFile, c: Candidate, b: StoredBlock): Promise<Columns | undefined> {
    const key = `${c.source.index.dir}\n${c.block.segment}\n${b.start}`
    let cols = this.cache.get(key)
    if (cols === undefined) {
      const withVars = this.messages && b.vars !== undefined
      cols = Promise.all([fh.columns(b.start, b.end), withVars ? fh.vars(b.start, b.end) : undefined]).then(([bytes, vars]) => {
        // Damaged vars: the lines are read instead (and read blank: the block is damaged, reported once).
        if (withVars && vars === undefined) return undefined
        try {
          return bytes === undefined ? undefined : decodeColumns(bytes, b.end - b.start, vars)
        } catch (err) {
          if (!(err instanceof ColumnsError)) throw err
          undecodableColumns(c.source.index.dir, c.block.segment, err)
          return undefined
        }
      })
      if (this.cache.size >= CACHED) this.cache.delete(this.cache.keys().next().value!)
      this.cache.set(key, cols)
    }
    return await cols
  }
}

/** Bytes [at, at + length) of the segment into `scratch` (grown as needed); fewer when the file is shorter. */
async function readRange (fh: SegmentFile, at: number, length: number, scratch: { buf: Buffer }): Promise<number> {
  if (scratch.buf.length < length) scratch.buf = Buffer.allocUnsafe(Math.max(length, scratch.buf.length * 2))
  let got = 0
  while (got < length) {
    const n = await fh.read(scratch.buf, got, length - got, at + got)
    if (n === 0) break
    got += n
  }
  return got
}

/**
 * Counts candidate `c` from its spans: `add(ms, level)` for each line the columns show to match, and the
 * exact path (`onLine`, through `reader`) for each they leave undecided. `cq.decides()` must hold (a count's query).
 */
export async function countFromColumns (reader: ColumnReader, c: Candidate, spans: readonly ColumnSpan[], cq: ColumnQuery, matcher: LineMatcher,
  add: (ms: number, level: number) => void, onLine: (buf: Buffer) => OnLine): Promise<void> {
  const undecided: number[][] = []
  for (const span of spans) {
    const { cols, base } = span
    const mine: number[] = []
    cq.scan(cols, span.from, span.to, c.minOffset - base, i => add(cols.ms[i]!, cols.level[i]!), i => mine.push(i))
    undecided.push(mine.sort((a, b) => a - b))
  }
  await reader.exactLines(c, spans, undecided, matcher, onLine)
}

/** A line pickLines gives: its index in the span times two, plus one when the columns left it undecided. */
export const UNDECIDED = 1

/**
 * The lines of candidate `c` a search must look at, per span in ascending order: those its columns show
 * to match the text, window, levels and apps (`i * 2`), and those they cannot decide (`i * 2 + UNDECIDED`).
 */
export function pickLines (c: Candidate, spans: readonly ColumnSpan[], cq: ColumnQuery): number[][] {
  const picked: number[][] = []
  for (const span of spans) {
    const mine: number[] = []
    cq.scan(span.cols, span.from, span.to, c.minOffset - span.base, i => mine.push(i * 2), i => mine.push(i * 2 + UNDECIDED))
    picked.push(mine.sort((a, b) => a - b))
  }
  return picked
}
