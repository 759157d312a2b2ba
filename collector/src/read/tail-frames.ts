// The Server-Sent Events frames of one tail chunk, written as bytes straight from the journal's:
//
//   journal bytes [0, whole) ─► LineMatcher.scan ─► each line it takes, into one scratch buffer:
//                                                     id: <head><offset after the line><after>\ndata: <the line's bytes>\n\n
//                                                   ─► copied out at their size (the chunk cache keeps that copy)
//
// Under load a tail reads several chunks a second in each worker, and a string per event (the line decoded,
// then its frame pasted together and encoded again as a whole) was garbage made at ingest's rate (issue #24,
// bench:read-load). Journal lines are UTF-8 the collector wrote itself (JavaScript strings encoded), so their
// bytes are what decoding and encoding them again gave: the frames are byte for byte the same.
import type { LineMatcher } from './line-matcher'

/** About the frames of a whole TAIL_CHUNK_BYTES read of the bench's events (a frame adds ~70 bytes to a line). */
export const SCRATCH_BYTES = 512 * 1024
/** Grown past this (lines longer than a chunk, or ids of many workers), the scratch is not kept. */
export const SCRATCH_KEPT_BYTES = 4 * SCRATCH_BYTES
const NL = 10
const DIGITS = 16 // Number.MAX_SAFE_INTEGER has 16

/** Writes the decimal digits of a non-negative integer at buf[at]; the offset after them. */
function writeDecimal (buf: Buffer, at: number, n: number): number {
  let digits = 1
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++
  for (let i = at + digits - 1, x = n; i >= at; i--, x = Math.floor(x / 10)) buf[i] = 48 + x % 10
  return at + digits
}

export class FrameWriter {
  private scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES)
  private at = 0

  /**
   * The frames of the lines of `chunk[0, length)` that `matcher` takes (synchronously: one scratch serves
   * every tail of the process). A frame's id is `idHead`, then `base` plus the offset after its line, then
   * `after`.
   */
  frames (matcher: LineMatcher, chunk: Buffer, length: number, base: number, idHead: string, after: string): { frames: Buffer, events: number } {
    const head = Buffer.from(idHead)
    const data = Buffer.from(`${after}\ndata: `)
    let events = 0
    this.at = 0
    matcher.scan(chunk, length, 0, (start, end) => {
      this.reserve(head.length + DIGITS + data.length + (end - start) + 2)
      this.at += head.copy(this.scratch, this.at)
      this.at = writeDecimal(this.scratch, this.at, base + end + 1)
      this.at += data.copy(this.scratch, this.at)
      this.at += chunk.copy(this.scratch, this.at, start, end)
      this.scratch[this.at++] = NL
      this.scratch[this.at++] = NL
      events++
    })
    const frames = Buffer.allocUnsafe(this.at)
    this.scratch.copy(frames, 0, 0, this.at)
    // A line longer than a chunk grew the scratch: not kept at that size.
    if (this.scratch.length > SCRATCH_KEPT_BYTES) this.scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES)
    return { frames, events }
  }

  /** The scratch's size now (at most SCRATCH_KEPT_BYTES between chunks). */
  get capacity (): number {
    return this.scratch.length
  }

  private reserve (bytes: number): void {
    if (this.at + bytes <= this.scratch.length) return
    const grown = Buffer.allocUnsafeSlow(Math.max(this.scratch.length * 2, this.at + bytes))
    this.scratch.copy(grown, 0, 0, this.at)
    this.scratch = grown
  }
}
