// Time bounds of the journal, by block: each segment is cut into blocks of about BLOCK_BYTES of whole
// lines, and each block records the oldest and newest `timestamp` it holds. Searches read only the blocks
// that can hold what they want, newest first, and stop when no unread block can hold anything newer
// than what they still have to answer. A block is indexed once (a segment only grows at its end, and only
// its last block is extended); the timestamps come from each line's fixed head (journal/line-head.ts),
// so indexing costs a few byte comparisons per line, not a parse. Each block also counts its events by
// app_name and level (AppTally below: the app read in place right after the head), so a search for an app
// skips the blocks that hold none of it, and a histogram by app counts a block without reading it.
//
//   line ─► head (time, level) ─► app_name right after the head, in place ─► tally[app][level]++
//        └► no head (an older collector): parsed once for all three
import { openSegmentIfExists, type SegmentFile } from '../journal/segment-file'
import type { FooterBlock } from '../journal/compacted/format'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { LEVEL_START, TS_LENGTH, TS_START, compareTimestamps, hasHead } from '../journal/line-head'
import { blockBuffers } from './block-buffers'
import { appOf } from './expiry'
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
  /**
   * Events per app_name and level (CANONICAL_LEVELS order), or undefined when unknown (more than
   * MAX_BLOCK_APPS apps, or a compacted segment written before the footer had them): then no search skips
   * the block by app and no count is taken from it by app.
   */
  apps: AppLevels | undefined
  /**
   * What scans learnt of the block's bytes (match.ts), made by the first scan of the whole block (most
   * blocks are never scanned whole, and an empty Map per block is ~10 % of the index); forgotten when the
   * block grows.
   */
  sequences?: SequenceMemo
}

/** The memo of a block read whole (`length` bytes of it), else none: a partial read proves no absence. */
export function memoOf (block: Block, length: number): SequenceMemo | undefined {
  return length === block.end - block.start ? (block.sequences ??= new Map()) : undefined
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
  /** The app_name of a line that had to be parsed (no head), when it is a string. */
  app?: string | undefined
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
    const e = JSON.parse(buf.toString('utf8', start, end)) as { timestamp?: unknown, level?: unknown, app_name?: unknown }
    if (typeof e.timestamp !== 'string') return undefined
    const level = CANONICAL_LEVELS.indexOf(e.level as never)
    return { ts: e.timestamp, level: level === -1 ? 2 : level, app: typeof e.app_name === 'string' ? e.app_name : undefined }
  } catch {
    return undefined
  }
}

const LEVEL_COUNT = CANONICAL_LEVELS.length

/** Name lists shared by blocks that hold the same apps, up to MAX_NAME_LISTS of them, by the names joined. */
const NAME_LISTS = new Map<string, readonly string[]>()
const MAX_NAME_LISTS = 4096

/**
 * Per-app event counts by level (CANONICAL_LEVELS order) of one block. The index keeps one for every block
 * of the journal (issue #24: its heap grew with the data stored), so it is packed: the names a list shared
 * by every block with the same apps, the counts one string of UTF-16 code units (`packCounts`). A Map of
 * arrays per block cost ~5 times as much as a flat array, and the flat array (8 bytes a count) ~3 times as
 * much as the string (1 or 2 bytes a count).
 */
export class AppLevels {
  private constructor (private readonly names: readonly string[], private readonly counts: PackedCounts) {}

  /** The counts of `entries` (app, its counts by level), kept in the order of the apps' names. */
  static of (entries: Iterable<readonly [string, readonly number[]]>): AppLevels {
    // Sorted, so blocks that hold the same apps share one list whatever order their lines came in.
    const sorted = [...entries].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    const names = sorted.map(([app]) => app)
    const counts = new Array<number>(names.length * LEVEL_COUNT)
    sorted.forEach(([, levels], i) => { for (let l = 0; l < LEVEL_COUNT; l++) counts[i * LEVEL_COUNT + l] = levels[l] ?? 0 })
    const packed = packCounts(counts)
    const key = names.join('\n')
    let shared = NAME_LISTS.get(key)
    // A name may hold the separator itself (["a\nb"] and ["a", "b"] join alike): shared only when the same.
    if (shared !== undefined && !sameNames(shared, names)) return new AppLevels(names, packed)
    if (shared === undefined) {
      // A bound, not a cache to keep warm: past it, a block's list is its own (nothing is lost but sharing).
      if (NAME_LISTS.size >= MAX_NAME_LISTS) NAME_LISTS.clear()
      shared = names
      NAME_LISTS.set(key, shared)
    }
    return new AppLevels(shared, packed)
  }

  get size (): number {
    return this.names.length
  }

  has (app: string): boolean {
    return this.names.includes(app)
  }

  /** The block's events of `app` by level, or undefined when it holds none. */
  levelsOf (app: string): number[] | undefined {
    const i = this.names.indexOf(app)
    return i === -1 ? undefined : this.levelsAt(i)
  }

  keys (): IterableIterator<string> {
    return this.names.values()
  }

  * [Symbol.iterator] (): IterableIterator<[string, number[]]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i]!, this.levelsAt(i)]
  }

  private levelsAt (i: number): number[] {
    const out = new Array<number>(LEVEL_COUNT)
    for (let l = 0; l < LEVEL_COUNT; l++) out[l] = countAt(this.counts, i * LEVEL_COUNT + l)
    return out
  }
}

/**
 * Counts as a string, one UTF-16 code unit each, when every one fits in 16 bits (a block of ~1 MiB holds a
 * few thousand lines); V8 keeps a string whose units are all below 256 at a byte each. Else, the array.
 */
type PackedCounts = string | readonly number[]

function packCounts (counts: readonly number[]): PackedCounts {
  return counts.every(n => n <= 0xffff) ? String.fromCharCode(...counts) : counts
}

function countAt (counts: PackedCounts, i: number): number {
  return typeof counts === 'string' ? counts.charCodeAt(i) : counts[i]!
}

function sameNames (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i])
}

/** A block keeps its per-app counts while its apps are few (a summary, not a copy of the data). */
export const MAX_BLOCK_APPS = 64

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const APP_KEY = Buffer.from('"app_name":"', 'latin1')

interface AppEntry {
  name: string
  bytes: Buffer
  hash: number
  levels: number[]
}

/** Slots of the tally's table: a power of two, over twice MAX_BLOCK_APPS, so probes stay short. */
const SLOTS = 256

/** FNV-1a over buf[from, to), kept in 30 bits (a small integer to V8: no number is allocated per line). */
function hashOf (buf: Buffer, from: number, to: number): number {
  let h = 0x811c9dc5
  for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i]!, 0x01000193)
  return h & 0x3fffffff
}

function sameBytes (a: Buffer, buf: Buffer, from: number, to: number): boolean {
  if (a.length !== to - from) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[from + i]) return false
  return true
}

/**
 * Counts the lines of a block by app_name and level. The collector writes app_name right after the head
 * (normalise.ts), so for nearly every line the app is the bytes between `,"app_name":"` and the next quote,
 * found by hash in a small open-addressed table and compared in place (no string, no object per line).
 * Without a backslash those bytes are the name's UTF-8 exactly (the journal is written by JSON.stringify),
 * non-ASCII names included. A line that goes on any other way, or whose app holds an escape, is read as
 * expiry.ts reads it (in place when it can, else parsed): the exact top-level app_name, which is what a
 * search compares.
 */
export class AppTally {
  private readonly slots: Array<AppEntry | undefined> = new Array(SLOTS).fill(undefined)
  private readonly entries: AppEntry[] = []
  /** More than MAX_BLOCK_APPS apps: the block's apps are unknown. */
  private overflow = false

  /** The line at buf[start, end), which has the head, with its level's index. */
  addHeadLine (buf: Buffer, start: number, end: number, level: number): void {
    if (this.overflow) return
    // The level ends at the first quote after its start (level names are plain letters, at most 8 of them).
    let at = start + LEVEL_START
    const levelEnd = Math.min(at + 9, end)
    while (at < levelEnd && buf[at] !== QUOTE) at++
    at++
    if (at < end && buf[at] === COMMA && sameBytes(APP_KEY, buf, at + 1, Math.min(at + 1 + APP_KEY.length, end))) {
      const from = at + 1 + APP_KEY.length
      for (at = from; at < end; at++) {
        const b = buf[at]!
        if (b === QUOTE) {
          this.addBytes(buf, from, at, level)
          return
        }
        if (b === BACKSLASH) break
      }
    }
    const app = appOf(buf, start, end)
    if (app !== undefined) this.addName(app, level)
  }

  /** An app known by name (a parsed line). */
  addName (app: string, level: number): void {
    if (this.overflow) return
    const bytes = Buffer.from(app, 'utf8')
    this.addBytes(bytes, 0, bytes.length, level)
  }

  private addBytes (buf: Buffer, from: number, to: number, level: number): void {
    const hash = hashOf(buf, from, to)
    let slot = hash & (SLOTS - 1)
    for (;;) {
      const e = this.slots[slot]
      if (e === undefined) break
      if (e.hash === hash && sameBytes(e.bytes, buf, from, to)) {
        e.levels[level]!++
        return
      }
      slot = (slot + 1) & (SLOTS - 1)
    }
    if (this.entries.length === MAX_BLOCK_APPS) {
      this.overflow = true
      return
    }
    const levels = [0, 0, 0, 0, 0, 0]
    levels[level]!++
    const entry = { name: buf.toString('utf8', from, to), bytes: Buffer.from(buf.subarray(from, to)), hash, levels }
    this.slots[slot] = entry
    this.entries.push(entry)
  }

  /** The counts, or undefined when the lines held more than MAX_BLOCK_APPS apps. */
  result (): AppLevels | undefined {
    if (this.overflow) return undefined
    const out = new Map<string, number[]>()
    // Two byte strings decode to one name only when the bytes are not valid UTF-8 (U+FFFD): merged, never lost.
    for (const e of this.entries) {
      const have = out.get(e.name)
      if (have === undefined) out.set(e.name, e.levels)
      else for (let i = 0; i < have.length; i++) have[i]! += e.levels[i]!
    }
    return AppLevels.of(out)
  }
}

/** `more` added to `into` (a block widened by new lines); undefined when either is unknown or the apps become too many. */
export function mergeAppLevels (into: AppLevels | undefined, more: AppLevels | undefined): AppLevels | undefined {
  if (into === undefined || more === undefined) return undefined
  const out = new Map(into)
  for (const [app, levels] of more) {
    const have = out.get(app)
    out.set(app, have === undefined ? levels : have.map((n, i) => n + levels[i]!))
  }
  return out.size > MAX_BLOCK_APPS ? undefined : AppLevels.of(out)
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
    let buf: Buffer | undefined
    try {
      const footer = fh.blocks() === undefined || entry.indexedTo > 0 ? undefined : await fh.summaries()
      if (footer !== undefined) {
        // Compacted: its footer is the index, read without decompressing a block.
        this.addFooter(segment, entry, footer, readableEnd)
        if (entry.indexedTo > 0) return
      }
      // A pooled buffer: this runs for each query that finds its segment grew (issue #24).
      buf = blockBuffers.take()
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
      if (buf !== undefined) blockBuffers.give(buf)
      await fh.close()
    }
  }

  /** Takes a compacted segment's blocks (up to `readableEnd`) as they are. */
  private addFooter (segment: string, entry: SegmentBlocks, blocks: readonly FooterBlock[], readableEnd: number): void {
    for (const b of blocks) {
      if (b.end > readableEnd) break
      entry.indexedTo = b.end
      if (b.minTs === null || b.maxTs === null) continue // no line with a time: nothing a search could want
      entry.blocks.push({ segment, start: b.start, end: b.end, minTs: b.minTs, maxTs: b.maxTs, levels: b.levels, apps: footerApps(b) })
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
    const apps = new AppTally()
    for (let start = 0; start <= lastNewline;) {
      const nl = buf.indexOf(NL, start)
      if (hasHead(buf, start, nl)) {
        if (minAt === -1 || compareTimestamps(buf, start, minAt) < 0) minAt = start
        if (maxAt === -1 || compareTimestamps(buf, start, maxAt) > 0) maxAt = start
        const level = LEVEL_BY_FIRST_BYTE.get(buf[start + LEVEL_START]!) ?? 2
        levels[level]!++
        apps.addHeadLine(buf, start, nl, level)
      } else {
        const head = headOf(buf, start, nl)
        if (head !== undefined) {
          if (min === undefined || head.ts < min) min = head.ts
          if (max === undefined || head.ts > max) max = head.ts
          levels[head.level]!++
          if (head.app !== undefined) apps.addName(head.app, head.level)
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
    if (tail !== undefined && tail.end === base && end - tail.start <= BLOCK_BYTES) {
      // The segment grew since it was last indexed and the last block has room for it: widen that block
      // (so blocks indexed from scratch stay ~BLOCK_BYTES, and one read at a time adds to the last).
      tail.end = end
      if (min < tail.minTs) tail.minTs = min
      if (max > tail.maxTs) tail.maxTs = max
      for (let i = 0; i < levels.length; i++) tail.levels[i]! += levels[i]!
      tail.apps = mergeAppLevels(tail.apps, apps.result())
      if (tail.sequences !== undefined) for (const [seq, found] of tail.sequences) if (!found) tail.sequences.delete(seq) // the new lines may hold it
      return
    }
    entry.blocks.push({ segment, start: base, end, minTs: min, maxTs: max, levels, apps: apps.result() })
  }
}

/** A compacted block's per-app counts; unknown in a footer written before it carried them (or past MAX_BLOCK_APPS). */
function footerApps (b: FooterBlock): AppLevels | undefined {
  if (b.appLevels === undefined || b.appLevels === null) return undefined
  const levels = b.appLevels
  return AppLevels.of(b.apps.map((app, i) => [app, levels[i]!] as const))
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
