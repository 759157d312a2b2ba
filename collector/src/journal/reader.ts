// Reads journal lines back from a position, for the MongoDB sink and for replay after a restart.
// It reads only up to the writer's committed end (for the open segment) so it never sees half a group.
// A closed segment is read to its last newline; bytes after it are a tail torn by a crash before that
// write was acknowledged, and are reported, not replayed.
import { openSegment, segmentSize } from './segment-file'
import type { JournalPosition } from './writer'

export interface ReadBatch {
  lines: string[]
  /** Position right after the last line returned: the checkpoint once those lines are stored. */
  next: JournalPosition
  /** Bytes skipped at the end of a closed segment that did not form a whole line. */
  tornBytes: number
}

const NEWLINE = 10
const CHUNK_BYTES = 4 * 1024 * 1024

export class JournalReader {
  constructor (
    private readonly dir: string,
    /** Segment names oldest first (the writer's live list). */
    private readonly segments: () => readonly string[],
    /** The writer's committed end. */
    private readonly end: () => JournalPosition
  ) {}

  /** Reads up to `maxLines` whole lines starting at `from`, crossing into later segments as needed. */
  async read (from: JournalPosition, maxLines: number): Promise<ReadBatch> {
    const lines: string[] = []
    let pos = { ...from }
    let tornBytes = 0
    while (lines.length < maxLines) {
      const end = this.end()
      const isOpen = pos.segment === end.segment
      const limit = isOpen ? end.offset : await this.sizeOf(pos.segment)
      if (pos.offset < limit) {
        const got = await this.readLines(pos, limit, maxLines - lines.length, lines)
        pos = { segment: pos.segment, offset: got.offset }
        if (!got.atLimit) continue
        if (isOpen) break
        tornBytes += limit - pos.offset
      } else if (isOpen) {
        break
      }
      const following = this.nextSegment(pos.segment)
      if (following === undefined) break
      pos = { segment: following, offset: 0 }
    }
    return { lines, next: pos, tornBytes }
  }

  /**
   * Counts the whole lines from `from` to the end: the events waiting for MongoDB after a restart. Only
   * newline bytes are counted — nothing is decoded — since the drain reads these lines again anyway.
   */
  async countFrom (from: JournalPosition): Promise<number> {
    let count = 0
    let pos = from
    for (;;) {
      const end = this.end()
      const isOpen: boolean = pos.segment === end.segment
      count += await this.countNewlines(pos, isOpen ? end.offset : await this.sizeOf(pos.segment))
      const following = isOpen ? undefined : this.nextSegment(pos.segment)
      if (following === undefined) return count
      pos = { segment: following, offset: 0 }
    }
  }

  private async countNewlines (pos: JournalPosition, limit: number): Promise<number> {
    if (pos.offset >= limit) return 0
    const fh = await openSegment(this.dir, pos.segment)
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, limit - pos.offset))
      let count = 0
      for (let offset = pos.offset; offset < limit;) {
        const bytesRead = await fh.read(buf, 0, Math.min(buf.length, limit - offset), offset)
        if (bytesRead === 0) break
        for (let i = buf.indexOf(NEWLINE); i !== -1 && i < bytesRead; i = buf.indexOf(NEWLINE, i + 1)) count++
        offset += bytesRead
      }
      return count
    } finally {
      await fh.close()
    }
  }

  private nextSegment (name: string): string | undefined {
    const all = this.segments()
    for (const s of all) if (s > name) return s
    return undefined
  }

  private async sizeOf (segment: string): Promise<number> {
    return await segmentSize(this.dir, segment)
  }

  /** Appends whole lines to `out`; returns the offset after the last one and whether `limit` was reached. */
  private async readLines (pos: JournalPosition, limit: number, maxLines: number, out: string[]):
  Promise<{ offset: number, atLimit: boolean }> {
    const fh = await openSegment(this.dir, pos.segment)
    try {
      let offset = pos.offset
      let want = Math.min(CHUNK_BYTES, limit - offset)
      for (;;) {
        const buf = Buffer.allocUnsafe(want)
        const bytesRead = await fh.read(buf, 0, want, offset)
        // A short read means the file ends before `limit` (it shrank): treat that as the end too.
        const reachedEnd = offset + bytesRead >= limit || bytesRead < want
        let start = 0
        let taken = 0
        while (taken < maxLines) {
          const nl = buf.indexOf(NEWLINE, start)
          if (nl === -1 || nl >= bytesRead) break
          if (nl > start) out.push(buf.toString('utf8', start, nl))
          start = nl + 1
          taken++
        }
        offset += start
        if (taken > 0 || reachedEnd) return { offset, atLimit: taken < maxLines && reachedEnd }
        // One line longer than the chunk: read a larger piece of it.
        want = Math.min(want * 2, limit - offset)
      }
    } finally {
      await fh.close()
    }
  }
}
