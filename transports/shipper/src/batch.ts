// A batch: the unit that is sent, retried, split, spilled and flushed. `done` resolves once the batch
// is settled — delivered, rejected for good, spooled or dropped — which is what flush() waits for.

export interface Batch {
  readonly lines: string[]
  readonly bytes: number
  /** Set when the batch was read back from the spool: the file is removed once the batch is delivered. */
  readonly spoolFile: string | undefined
  /** Order of sealing within this run; halves of a split batch keep their parent's. */
  readonly seq: number
  readonly done: Promise<void>
  readonly resolve: () => void
}

export function makeBatch (lines: string[], bytes: number, seq: number, spoolFile?: string): Batch {
  let resolve!: () => void
  const done = new Promise<void>(r => { resolve = r })
  return { lines, bytes, seq, spoolFile, done, resolve }
}

/** Byte size of a batch's lines as NDJSON (each line plus its newline). */
export function ndjsonBytes (lines: readonly string[]): number {
  let bytes = 0
  for (const line of lines) bytes += Buffer.byteLength(line) + 1
  return bytes
}
