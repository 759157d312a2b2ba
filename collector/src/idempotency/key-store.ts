// Which keyed batches this journal holds, and what each was answered: a repeat of a key — the shipper's
// retry after an acknowledgement it never got — is answered as the first time, and its events are not
// journaled again. A request whose key is still being journaled waits for that outcome instead.
//
//   POST with Idempotency-Key ─► begin(name) ─┬─ known ───────► the first answer, nothing journaled
//                                             ├─ in flight ───► wait for it, then ask again
//                                             └─ new ─► validate ─► journal ─► committed() ─► answer
//                                                                    (sidecar: key-log.ts, then memory)
//
// Keys are kept for IDEMPOTENCY_WINDOW, at most IDEMPOTENCY_MAX_KEYS of them (the oldest go first, and
// are counted). At start the log is read back, then the journal after the log's last line: batches
// journaled there by a process killed before it logged their keys are known by their derived ids.
import type { JournalPosition } from '../journal/writer'
import { derivedTail, tailOfId } from './derived-ids'
import { KeyLog, type KeyRecord } from './key-log'

export interface KeyStoreOptions {
  windowMs: number
  maxKeys: number
  sync: boolean
  now?: () => number
  onError: (err: Error) => void
}

/** Reads journal lines from a position to the end (the journal's reader), for the read at start. */
export type ReadLinesFrom = (from: JournalPosition) => AsyncIterable<string[]>

export interface KeyStoreStats {
  keys: number
  replayed: number
  /** Keys forgotten before their window ended, for IDEMPOTENCY_MAX_KEYS. */
  evicted: number
  /** Lines of the key log that could not be written. */
  logErrors: number
}

export class KeyStore {
  readonly #opts: KeyStoreOptions
  readonly #now: () => number
  readonly #log: KeyLog
  /** By name, oldest first (a Map keeps insertion order): expiry and eviction take from the front. */
  readonly #known = new Map<string, KeyRecord>()
  readonly #inFlight = new Map<string, Promise<void>>()
  /** Derived-id tails of the events journaled after the log's last line, found at start. */
  #unlogged = new Set<string>()
  /** The journal's end after the last group written: what a line of a batch that wrote nothing covers. */
  #end: JournalPosition | undefined
  #unloggedUntil = 0
  #replayed = 0
  #closed = false
  #evicted = 0
  #logErrors = 0

  constructor (journalDir: string, opts: KeyStoreOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#log = new KeyLog(journalDir, {
      windowMs: opts.windowMs,
      sync: opts.sync,
      now: this.#now,
      onError: err => { this.#logErrors++; opts.onError(err) }
    })
  }

  /**
   * Reads the log back, then the ids of the journal after its last line. Start-up, before any request;
   * `end` is where the journal ends now (lines written before the first group of this run say so).
   */
  async load (readFrom: ReadLinesFrom, oldest: () => JournalPosition, end: JournalPosition): Promise<void> {
    this.#end = end
    const { records, coveredTo, tails, found } = this.#log.load()
    for (const r of records) this.#add(r)
    for (const tail of tails) this.#unlogged.add(tail)
    if (!found) {
      // A journal never written with keys: from here on, the log says how far every start must read back.
      this.#log.mark(end)
      return
    }
    const newlyFound: string[] = []
    for await (const lines of readFrom(coveredTo ?? oldest())) {
      for (const line of lines) {
        const id = idOf(line)
        if (id === undefined) continue
        const tail = tailOfId(id)
        if (!this.#unlogged.has(tail)) newlyFound.push(tail)
        this.#unlogged.add(tail)
      }
    }
    // A retry may come after a later restart too, when newer lines have moved the log past these events.
    if (newlyFound.length > 0) this.#log.keepTails(newlyFound)
    this.#unloggedUntil = this.#now() + this.#opts.windowMs
  }

  /**
   * The first answer to `name`, after waiting for a request with that key still in flight; or, when it
   * is new, a function that ends this request's claim on it (call it when the request is answered, either way).
   */
  async begin (name: string): Promise<KeyRecord | (() => void)> {
    for (;;) {
      const known = this.#known.get(name)
      if (known !== undefined) return known
      const pending = this.#inFlight.get(name)
      if (pending === undefined) break
      await pending
    }
    let end!: () => void
    this.#inFlight.set(name, new Promise<void>(resolve => { end = resolve }))
    return () => {
      this.#inFlight.delete(name)
      end()
    }
  }

  /** A repeat was answered as the first time. */
  countReplay (): void {
    this.#replayed++
  }

  /**
   * Whether the event of index `index` of the batch with this seed was journaled by a process that was
   * killed before it logged the batch's key (asked of a batch's last accepted event).
   */
  journaledUnlogged (seed: readonly [number, number], index: number): boolean {
    if (this.#unlogged.size === 0) return false
    if (this.#now() > this.#unloggedUntil) {
      this.#unlogged = new Set()
      return false
    }
    return this.#unlogged.has(derivedTail(seed, index))
  }

  /** A keyed batch found journaled by a killed process (journaledUnlogged): remembered now, answered as a repeat. */
  rememberFound (record: KeyRecord): void {
    this.remember(record)
    this.#replayed++
  }

  /** The journal's sidecar: a group ending at `end` was written; these are its keyed batches. */
  committed (records: readonly KeyRecord[], end: JournalPosition, bytes: number): void {
    this.#end = end
    this.#log.write(records, end, bytes)
    for (const r of records) this.#add(r)
  }

  /** A keyed batch answered without a journal write: nothing in it was acceptable. */
  remember (record: KeyRecord): void {
    this.#log.write([record], this.#end, 0)
    this.#add(record)
  }

  stats (): KeyStoreStats {
    return { keys: this.#known.size, replayed: this.#replayed, evicted: this.#evicted, logErrors: this.#logErrors }
  }

  /** After the journal is closed: a last watermark (a clean stop leaves nothing to read at the next start). */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#end !== undefined) this.#log.mark(this.#end)
    this.#log.close()
  }

  #add (record: KeyRecord): void {
    this.#known.delete(record.name)
    this.#known.set(record.name, record)
    const since = this.#now() - this.#opts.windowMs
    for (const [name, r] of this.#known) {
      if (r.at >= since && this.#known.size <= this.#opts.maxKeys) break
      if (r.at >= since) this.#evicted++
      this.#known.delete(name)
    }
  }
}

/** The _id of a journal line. Parsed, not searched for: a nested object may hold an `_id` of its own. */
function idOf (line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { _id?: unknown })._id
    return typeof id === 'string' && id.length === 24 ? id : undefined
  } catch {
    return undefined
  }
}
