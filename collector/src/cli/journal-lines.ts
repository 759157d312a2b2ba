// The matching lines of one journal, in the order they were written, a chunk at a time: what
// `maap-logs export` prints of one directory.
//
//   segments, oldest first ─► openSegment (NDJSON, or `.z` decoded a block at a time) ─► ~1 MiB of whole lines
//     ─► LineMatcher (the search's own test: prefilter, head, parse only when needed) ─► [start, end) of each match
//
// A compacted segment is read a block at a time, and a block whose footer summary (time bounds, events per
// level) shows it holds no match for the query's time window or levels is not read at all: `--from 1h` over
// a large LOG_DIR decompresses the last hour's blocks, not every block.
//
// Memory is one chunk (more only for a line longer than it). Read-only, and safe beside a running collector:
// the segments are listed once at the start and each is read up to its size when opened, so events written
// later are not waited for; one compacted meanwhile is read in whichever form is there (openSegment), one
// deleted meanwhile (retention) is skipped. The journal's last listed segment may be the one being written:
// it is read up to its last newline, and a line after it (still being written, or cut by a crash before its
// write completed: either way never acknowledged, as the writer acks only after it) is left quietly. An earlier segment was closed before the next
// was opened, so an unfinished line there was cut by a crash: it is skipped with a warning (the collector
// itself sets such a tail aside at its next start).
//
// A collector starting with WORKER_COUNT > 1 moves LOG_DIR's own journal into worker-1 (journal/worker-dirs.ts):
// a listed segment gone from where it was listed and found where such a move puts it stops the export
// (JournalDirError), as retention's deletions do not: continuing would leave its events out silently.
import { access } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { FooterBlock } from '../journal/compacted/format'
import { openSegmentIfExists, type SegmentFile } from '../journal/segment-file'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { LineMatcher } from '../read/line-matcher'
import type { ReadQuery } from '../read/query'
import { COMPACTED_SUFFIX } from '../journal/compacted/format'
import { movingError, type Journal } from './export-journals'

export const CHUNK_BYTES = 1024 * 1024
const NL = 10

/** A file that could not be read as a whole: named on stderr, counted in the exit status. */
export type Warn = (text: string) => void

export class JournalLines {
  /** The current chunk: matched lines are buf[starts[i], ends[i]), each followed by '\n'. */
  buf: Buffer
  readonly starts: number[] = []
  readonly ends: number[] = []
  /** The next matched line to take. */
  at = 0

  private readonly matcher: LineMatcher
  private readonly record = (start: number, end: number): void => {
    this.starts.push(start)
    this.ends.push(end)
  }

  private next = 0
  private file: SegmentFile | undefined
  private segment = ''
  /** The segment offset of buf[have], and the end read up to. */
  private pos = 0
  private size = 0
  /** Whether the segment open is the journal's last listed one (possibly the one being written). */
  private last = false
  /** A compacted segment's blocks when the query can skip some (else undefined), and the one holding `pos`. */
  private blocks: readonly FooterBlock[] | undefined
  private block = 0
  /** The query's levels by their index in a block summary's counts; undefined for every level. */
  private readonly levelIndexes: number[] | undefined
  private readonly skips: boolean
  /** Bytes in buf: the whole lines of the last chunk up to `scanned`, then the start of a line. */
  private have = 0
  private scanned = 0

  constructor (private readonly journal: Journal, private readonly q: ReadQuery, private readonly warn: Warn, chunkBytes = CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(chunkBytes)
    this.matcher = new LineMatcher(q, undefined, false)
    this.levelIndexes = q.levels?.map(l => CANONICAL_LEVELS.indexOf(l))
    this.skips = q.from !== undefined || q.to !== undefined || q.levels !== undefined
  }

  /** Loads the next chunk that holds a match; false when the journal has no more. */
  async fill (): Promise<boolean> {
    this.starts.length = 0
    this.ends.length = 0
    this.at = 0
    for (;;) {
      // The last chunk's lines have been taken: its unfinished line moves to the front.
      if (this.scanned > 0) {
        this.buf.copy(this.buf, 0, this.scanned, this.have)
        this.have -= this.scanned
        this.scanned = 0
      }
      if (this.file === undefined && !(await this.openNext())) return false
      if (this.blocks !== undefined && this.have === 0) this.skipBlocks()
      if (this.pos >= this.size) {
        await this.finish()
        continue
      }
      if (this.have === this.buf.length) this.grow()
      const n = await this.read()
      if (n === 0) {
        this.size = this.pos // it shrank: a collector starting meanwhile cut a torn tail off it
        continue
      }
      this.pos += n
      this.have += n
      this.scanned = this.buf.lastIndexOf(NL, this.have - 1) + 1
      if (this.scanned === 0) continue // one line longer than the buffer so far
      this.matcher.scan(this.buf, this.scanned, 0, this.record)
      if (this.starts.length > 0) return true
    }
  }

  /** Closes what is open (an export stopped by a closed stdout). */
  async close (): Promise<void> {
    const file = this.file
    this.file = undefined
    await file?.close()
  }

  private path (): string {
    return join(this.journal.dir, this.segment)
  }

  private async openNext (): Promise<boolean> {
    while (this.next < this.journal.segments.length) {
      this.segment = this.journal.segments[this.next++]!
      let file
      try {
        file = await openSegmentIfExists(this.journal.dir, this.segment, { cacheFooter: false })
      } catch (err) {
        this.warn(`${this.path()}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); skipped`)
        continue
      }
      if (file === undefined) {
        // Moved (a collector adopting LOG_DIR's journal), not deleted by retention: its events would be missing.
        if (await this.moved()) throw movingError(dirname(this.journal.movesTo.at(-1)!), true)
        continue // deleted by retention since it was listed
      }
      this.file = file
      this.size = file.size
      this.pos = 0
      this.have = 0
      this.last = this.next === this.journal.segments.length
      this.blocks = this.skips ? await file.summaries() : undefined
      this.block = 0
      return true
    }
    return false
  }

  /** Moves past the blocks from `pos` on that cannot hold a match (`pos` at a line's start). */
  private skipBlocks (): void {
    const blocks = this.blocks!
    while (this.block < blocks.length && blocks[this.block]!.end <= this.pos) this.block++
    for (let b = blocks[this.block]; b !== undefined && b.start === this.pos && !this.canMatch(b); b = blocks[++this.block]) this.pos = b.end
  }

  private canMatch (b: FooterBlock): boolean {
    const q = this.q
    if (b.minTs !== null && b.maxTs !== null && ((q.from !== undefined && b.maxTs < q.from) || (q.to !== undefined && b.minTs >= q.to))) return false
    return this.levelIndexes === undefined || this.levelIndexes.some(i => (b.levels[i] ?? 1) > 0)
  }

  /** Up to the end of the block holding `pos` for a segment read by block, else the end of the segment. */
  private readEnd (): number {
    const blocks = this.blocks
    if (blocks === undefined) return this.size
    while (this.block < blocks.length && blocks[this.block]!.end <= this.pos) this.block++
    return Math.min(blocks[this.block]?.end ?? this.size, this.size)
  }

  private async read (): Promise<number> {
    try {
      return await this.file!.read(this.buf, this.have, Math.min(this.buf.length - this.have, this.readEnd() - this.pos), this.pos)
    } catch (err) {
      this.warn(`${this.path()}: cannot be read past offset ${this.pos - this.have} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the rest of it skipped`)
      this.have = 0
      return 0
    }
  }

  /** Whether the current segment, gone from its journal, is in a directory a move of that journal puts it in. */
  private async moved (): Promise<boolean> {
    for (const dir of this.journal.movesTo) {
      for (const name of [this.segment, this.segment + COMPACTED_SUFFIX]) {
        if (await access(join(dir, name)).then(() => true, () => false)) return true
      }
    }
    return false
  }

  /**
   * At the end of the segment as opened: a line after the last newline is warned of in a closed segment
   * (cut by a crash) and left quietly in the last listed one (being written, or never acknowledged).
   */
  private async finish (): Promise<void> {
    if (this.have > 0 && !this.last) {
      this.warn(`${this.path()}: its last line is unfinished (${this.have} bytes at offset ${this.pos - this.have}: ` +
        'cut short by a crash); skipped')
    }
    this.have = 0
    await this.close()
  }

  /** Twice the room, for a line longer than the buffer (its start kept). */
  private grow (): void {
    const bigger = Buffer.allocUnsafe(this.buf.length * 2)
    this.buf.copy(bigger, 0, 0, this.have)
    this.buf = bigger
  }
}
