// The sizes of a journal's closed segments: a segment no longer grows once a newer one is open.
// Original bytes, whichever form the segment is in (a compacted one's footer says).
import { FreshRun } from '../read/fresh-run'
import { segmentSize } from './segment-file'

/**
 * Sizes of segments that no longer grow (every segment but the newest), asked of the file system once:
 * searches, tails and metrics scrapes ask for them often.
 */
export class ClosedSizes {
  private readonly sizes = new Map<string, number>()
  /**
   * The size of the segment still growing, asked of the file system by every live tail at each wake-up
   * (a sibling's newest segment): shared by the callers that ask at once, never older than the ask.
   */
  private growing: { segment: string, size: FreshRun<number> } | undefined

  constructor (private readonly dir: string) {}

  async of (segment: string, closed: boolean): Promise<number> {
    const known = this.sizes.get(segment)
    if (known !== undefined) return known
    if (!closed) {
      if (this.growing?.segment !== segment) this.growing = { segment, size: new FreshRun(async () => await segmentSize(this.dir, segment)) }
      return await this.growing.size.get()
    }
    const size = await segmentSize(this.dir, segment)
    this.sizes.set(segment, size)
    return size
  }

  retain (names: readonly string[]): void {
    if (this.sizes.size <= names.length) return
    const keep = new Set(names)
    for (const name of this.sizes.keys()) if (!keep.has(name)) this.sizes.delete(name)
  }
}

