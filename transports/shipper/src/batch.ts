// A batch: the unit that is sent, retried, split, spilled and flushed. `done` resolves once the batch
// is settled — delivered, rejected for good, spooled or dropped — which is what flush() waits for.
//
// Records are encoded into the batch's body as they are written, not kept as strings until the send:
// a queued record then costs its bytes outside the JS heap instead of a string that
// outlives two scavenges, gets promoted and waits for a full GC — that promoted garbage, not the data,
// was most of maap-ship's peak RSS.

export interface Batch {
  /** The records as NDJSON, each followed by a newline: what is POSTed and what a spool file holds. */
  readonly body: Buffer
  readonly count: number
  /** Set when the batch was read back from the spool: the file is removed once the batch is delivered. */
  readonly spoolFile: string | undefined
  /** Order of sealing within this run; halves of a split batch keep their parent's. */
  readonly seq: number
  /** Sent as Idempotency-Key with every attempt (batch-key.ts); undefined for a spool file of an older version. */
  readonly key: string | undefined
  readonly done: Promise<void>
  readonly resolve: () => void
  /** The whole buffer `body` was cut from, when it may be reused for a later batch. */
  readonly store: Buffer | undefined
  /**
   * Records an earlier run wrote (a spool file it left): delivered or lost, they are not this shipper's
   * records, so flush() does not count them (delivery.ts).
   */
  readonly foreign: boolean
}

export function makeBatch (body: Buffer, count: number, seq: number, key: string | undefined, spoolFile?: string, store?: Buffer, foreign = false): Batch {
  let resolve!: () => void
  const done = new Promise<void>(r => { resolve = r })
  return { body, count, seq, key, spoolFile, done, resolve, store, foreign }
}

/** A batch of lines that are strings already (a spool file read back; `foreign` when an earlier run wrote it). */
export function batchOfLines (lines: readonly string[], seq: number, key: string | undefined, spoolFile: string, foreign: boolean): Batch {
  return makeBatch(Buffer.from(lines.join('\n') + '\n'), lines.length, seq, key, spoolFile, undefined, foreign)
}

/** Cuts a batch's body in two at the line boundary nearest its middle record: [body, count] pairs. */
export function halves (batch: Batch): Array<[Buffer, number]> {
  const first = Math.ceil(batch.count / 2)
  let end = 0
  for (let i = 0; i < first; i++) end = batch.body.indexOf(10, end) + 1
  return [[batch.body.subarray(0, end), first], [batch.body.subarray(end), batch.count - first]]
}

/**
 * The open batch. Its buffer has room for `batchBytes` (a single larger record gets one of its own
 * size); pages are only touched as records are written, so a quiet shipper's open batch stays small.
 * Buffers of delivered batches come back through recycle() and are reused, so a busy shipper does not
 * leave a trail of large buffers for the garbage collector to find.
 */
export class OpenBatch {
  readonly #capacity: number
  readonly #free: Buffer[] = []
  readonly #maxFree: number
  #buf: Buffer | undefined
  #used = 0
  #count = 0

  constructor (capacity: number, maxFree: number) {
    this.#capacity = capacity
    this.#maxFree = maxFree
  }

  get count (): number { return this.#count }
  get bytes (): number { return this.#used }

  /** Appends one line and its newline; `bytes` is its UTF-8 length plus one. */
  add (line: string, bytes: number): void {
    if (this.#buf === undefined) {
      this.#buf = bytes <= this.#capacity
        ? this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#capacity)
        : Buffer.allocUnsafeSlow(bytes)
    }
    this.#used += this.#buf.write(line, this.#used)
    this.#buf[this.#used++] = 10
    this.#count++
  }

  seal (seq: number, key: string): Batch {
    const buf = this.#buf!
    const batch = makeBatch(buf.subarray(0, this.#used), this.#count, seq, key, undefined, buf.length === this.#capacity ? buf : undefined)
    this.#buf = undefined
    this.#used = 0
    this.#count = 0
    return batch
  }

  /** Takes back the buffer of a batch nothing refers to any more (the collector has read all of it). */
  recycle (batch: Batch): void {
    if (batch.store !== undefined && this.#free.length < this.#maxFree) this.#free.push(batch.store)
  }
}
