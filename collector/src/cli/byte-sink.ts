// Bytes to stdout, gathered into large writes: lines are copied in as they are (never decoded or
// re-encoded), a full buffer is written and a new one started (the one written may still be queued, so it is
// never reused), and a slow reader holds the export back through stdout's backpressure. A reader that went
// away (`| head`: EPIPE) ends the export quietly; any other write error ends it with that error.
import type { Writable } from 'node:stream'
import { drainedOrClosed } from '../streams'

const OUT_BYTES = 256 * 1024

export class ByteSink {
  /** Set once the reader went away (EPIPE): stop, exit 0. */
  closed = false
  /** A write that failed otherwise (ENOSPC on a redirected stdout): stop, exit 1. */
  failure: NodeJS.ErrnoException | undefined
  private buf = Buffer.allocUnsafe(OUT_BYTES)
  private length = 0
  /** Buffers filled, waiting for flush(). */
  private readonly full: Buffer[] = []

  constructor (private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true
      else this.failure ??= err
    })
  }

  /** Whether writing should stop. */
  get stopped (): boolean {
    return this.closed || this.failure !== undefined
  }

  /** Copies in the line src[start, end] (`end` is its newline); true when a buffer is full and flush() is due. */
  put (src: Buffer, start: number, end: number): boolean {
    const n = end + 1 - start
    if (n > this.buf.length - this.length) {
      if (this.length > 0) this.full.push(this.buf.subarray(0, this.length))
      this.buf = Buffer.allocUnsafe(Math.max(OUT_BYTES, n)) // a line longer than a buffer gets one of its own
      this.length = 0
    }
    src.copy(this.buf, this.length, start, end + 1)
    this.length += n
    return this.full.length > 0
  }

  /** Writes everything gathered; waits while stdout's buffer is full. */
  async flush (): Promise<void> {
    if (this.length > 0) this.full.push(this.buf.subarray(0, this.length))
    this.buf = Buffer.allocUnsafe(OUT_BYTES)
    this.length = 0
    for (const chunk of this.full.splice(0)) {
      if (this.stopped) return
      if (this.out.write(chunk)) continue
      try {
        await drainedOrClosed(this.out)
      } catch (err) {
        // The stream's 'error' while waiting (events.once rejects with it): the listener above has it.
        this.failure ??= (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : err as NodeJS.ErrnoException
      }
    }
  }
}
