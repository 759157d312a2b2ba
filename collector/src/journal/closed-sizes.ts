// The sizes of a journal's closed segments: a segment no longer grows once a newer one is open.
// Original bytes, whichever form the segment is in (a compacted one's footer says).
import { segmentSize } from './segment-file'

/**
 * Sizes of segments that no longer grow (every segment but the newest), asked of the file system once:
 * searches, tails and metrics scrapes ask for them often.
 */
export class ClosedSizes {
  private readonly sizes = new Map<string, number>()
  constructor (private readonly dir: string) {}

  async of (segment: string, closed: boolean): Promise<number> {
    const known = this.sizes.get(segment)
    if (known !== undefined) return known
    const size = await segmentSize(this.dir, segment)
    if (closed) this.sizes.set(segment, size)
    return size
  }

  retain (names: readonly string[]): void {
    if (this.sizes.size <= names.length) return
    const keep = new Set(names)
    for (const name of this.sizes.keys()) if (!keep.has(name)) this.sizes.delete(name)
  }
}

