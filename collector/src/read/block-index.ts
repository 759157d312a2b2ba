// Time bounds of the journal, by block: each segment is cut into blocks of about BLOCK_BYTES of whole
// lines, and each block records the oldest and newest `timestamp` it holds. Searches read only the blocks
// that can hold what they want, newest first, and stop when no unread block can hold anything newer
// than what they still have to answer. A block is indexed once (a segment only grows at its end, and only
// its last block is extended); the timestamps come from each line's fixed head (journal/line-head.ts),
// so indexing costs a few byte comparisons per line, not a parse.
import { openSegmentIfExists, type SegmentFile } from '../journal/segment-file'
import type { FooterBlock } from '../journal/compacted/format'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { LEVEL_START, TS_LENGTH, TS_START, compareTimestamps, hasHead } from '../journal/line-head'
import type { SequenceMemo } from './match'

export const BLOCK_BYTES = 1024 * 1024
const NL = 10

export interface Block {
  segment: string
  start: number
  end: number
  /** ISO timestamps: the oldest and newest event in the block. */
  minTs: string
  maxTs: string
  /** Events per level, in CANONICAL_LEVELS order: a histogram counts a block inside one bucket without reading it. */
  levels: number[]
  /** What scans learnt of the block's bytes (match.ts); forgotten when the block grows. */
  sequences: SequenceMemo
}

/** The memo of a block read whole (`length` bytes of it), else none: a partial read proves no absence. */
export function memoOf (block: Block, length: number): SequenceMemo | undefined {
  return length === block.end - block.start ? block.sequences : undefined
}

/** The blocks of one segment file, indexed up to `indexedTo`. */
class SegmentBlocks {
  readonly blocks: Block[] = []
  indexedTo = 0
  /** One extension at a time: concurrent searches wait for the same read. */
  pending: Promise<void> | undefined
}

interface LineHead {
  ts: string
  level: number
}

/** The canonical levels have distinct first letters: TRACE DEBUG INFO WARNING ERROR CRITICAL. */
const LEVEL_BY_FIRST_BYTE = new Map(CANONICAL_LEVELS.map((l, i) => [l.charCodeAt(0), i]))

/** Time and level of the line at buf[start, end), or undefined when it has neither. */
export function headOf (buf: Buffer, start: number, end: number): LineHead | undefined {
  if (hasHead(buf, start, end)) {
    return { ts: buf.toString('latin1', start + TS_START, start + TS_START + TS_LENGTH), level: LEVEL_BY_FIRST_BYTE.get(buf[start + LEVEL_START]!) ?? 2 }
  }
  // A line an older collector wrote, without the head.
  try {
    const e = JSON.parse(buf.toString('utf8', start, end)) as { timestamp?: unknown, level?: unknown }
    if (typeof e.timestamp !== 'string') return undefined
    const level = CANONICAL_LEVELS.indexOf(e.level as never)
    return { ts: e.timestamp, level: level === -1 ? 2 : level }
  } catch {
    return undefined
  }
}

export class BlockIndex {
  private readonly segments = new Map<string, SegmentBlocks>()

  constructor (readonly dir: string) {}

  /**
   * The blocks of `segment` covering its whole lines up to `readableEnd` (bytes), indexing what is new.
   * A missing file (deleted by retention) has no blocks.
   */
  async blocks (segment: string, readableEnd: number): Promise<readonly Block[]> {
    let entry = this.segments.get(segment)
    if (entry === undefined) {
      entry = new SegmentBlocks()
      this.segments.set(segment, entry)
    }
    while (entry.indexedTo < readableEnd) {
      if (entry.pending === undefined) {
        const e = entry
        e.pending = this.extend(segment, e, readableEnd).finally(() => { e.pending = undefined })
      }
      const before = entry.indexedTo
      await entry.pending
      if (entry.indexedTo === before) break // nothing more to read (a shorter file, or a partial line)
    }
    return entry.blocks
  }

  /** Forgets segments that are gone (retention deleted them). */
  retain (alive: Iterable<string>): void {
    const keep = new Set(alive)
    for (const name of this.segments.keys()) if (!keep.has(name)) this.segments.delete(name)
  }

  private async extend (segment: string, entry: SegmentBlocks, readableEnd: number): Promise<void> {
    const fh = await openSegmentIfExists(this.dir, segment)
    if (fh === undefined) return
    try {
      const footer = fh.blocks()
      if (footer !== undefined && entry.indexedTo === 0) {
        // Compacted: its footer is the index, read without decompressing a block.
        this.addFooter(segment, entry, footer, readableEnd)
        if (entry.indexedTo > 0) return
      }
      const buf = Buffer.allocUnsafe(BLOCK_BYTES)
      while (entry.indexedTo < readableEnd) {
        const want = Math.min(BLOCK_BYTES, readableEnd - entry.indexedTo)
        const bytesRead = await fh.read(buf, 0, want, entry.indexedTo)
        if (bytesRead === 0) return
        let last = buf.lastIndexOf(NL, bytesRead - 1)
        if (last === -1) {
          // One line longer than a block: index it alone.
          const long = await readLongLine(fh, entry.indexedTo, readableEnd)
          if (long === undefined) return
          this.addLines(segment, entry, long, long.length - 1)
          continue
        }
        this.addLines(segment, entry, buf, last)
      }
    } finally {
      await fh.close()
    }
  }

  /** Takes a compacted segment's blocks (up to `readableEnd`) as they are. */
  private addFooter (segment: string, entry: SegmentBlocks, blocks: readonly FooterBlock[], readableEnd: number): void {
    for (const b of blocks) {
      if (b.end > readableEnd) break
      entry.indexedTo = b.end
      if (b.minTs === null || b.maxTs === null) continue // no line with a time: nothing a search could want
      entry.blocks.push({ segment, start: b.start, end: b.end, minTs: b.minTs, maxTs: b.maxTs, levels: [...b.levels], sequences: new Map() })
    }
  }

  /** Indexes the whole lines of `buf[0, lastNewline]`, which start at entry.indexedTo in the file. */
  private addLines (segment: string, entry: SegmentBlocks, buf: Buffer, lastNewline: number): void {
    const base = entry.indexedTo
    // Lines with the head are compared in place (offsets of the oldest and newest so far); the others,
    // written by an older collector, are parsed.
    let minAt = -1
    let maxAt = -1
    let min: string | undefined
    let max: string | undefined
    const levels = [0, 0, 0, 0, 0, 0]
    for (let start = 0; start <= lastNewline;) {
      const nl = buf.indexOf(NL, start)
      if (hasHead(buf, start, nl)) {
        if (minAt === -1 || compareTimestamps(buf, start, minAt) < 0) minAt = start
        if (maxAt === -1 || compareTimestamps(buf, start, maxAt) > 0) maxAt = start
        levels[LEVEL_BY_FIRST_BYTE.get(buf[start + LEVEL_START]!) ?? 2]!++
      } else {
        const head = headOf(buf, start, nl)
        if (head !== undefined) {
          if (min === undefined || head.ts < min) min = head.ts
          if (max === undefined || head.ts > max) max = head.ts
          levels[head.level]!++
        }
      }
      start = nl + 1
    }
    const tsAt = (at: number): string => buf.toString('latin1', at + TS_START, at + TS_START + TS_LENGTH)
    if (minAt !== -1 && (min === undefined || tsAt(minAt) < min)) min = tsAt(minAt)
    if (maxAt !== -1 && (max === undefined || tsAt(maxAt) > max)) max = tsAt(maxAt)
    const end = base + lastNewline + 1
    entry.indexedTo = end
    if (min === undefined || max === undefined) return
    const tail = entry.blocks.at(-1)
    if (tail !== undefined && tail.end === base && tail.end - tail.start < BLOCK_BYTES) {
      // The segment grew by less than a block since it was last indexed: widen the last block.
      tail.end = end
      if (min < tail.minTs) tail.minTs = min
      if (max > tail.maxTs) tail.maxTs = max
      for (let i = 0; i < levels.length; i++) tail.levels[i]! += levels[i]!
      for (const [seq, found] of tail.sequences) if (!found) tail.sequences.delete(seq) // the new lines may hold it
      return
    }
    entry.blocks.push({ segment, start: base, end, minTs: min, maxTs: max, levels, sequences: new Map() })
  }
}

async function readLongLine (fh: SegmentFile, from: number, limit: number): Promise<Buffer | undefined> {
  let size = BLOCK_BYTES * 2
  for (;;) {
    const want = Math.min(size, limit - from)
    const buf = Buffer.allocUnsafe(want)
    const bytesRead = await fh.read(buf, 0, want, from)
    const nl = buf.indexOf(NL)
    if (nl !== -1 && nl < bytesRead) return buf.subarray(0, nl + 1)
    if (want >= limit - from || bytesRead < want) return undefined
    size *= 2
  }
}
