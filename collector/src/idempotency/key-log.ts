// The key store's durable half: what each keyed batch was answered, appended to files in
// `<journal dir>/idempotency-keys/` right after the batch's journal write and before its answer leaves,
// so that a key outlives a SIGKILL and a restart.
//
//   journal group written (+ fdatasync) ──► one line here per group ──► answers sent
//
//   {"e":["<segment>",<offset>],"k":[[name, at, events, answer], …]}   keyed batches, journal end after them
//   {"e":["<segment>",<offset>]}                                         a watermark: no keyed batch before it unlisted
//   {"x":["<id tail>", …],"t":<ms>}                                     events found at start without their batch's line
//                                                                        (key-store.ts), kept for the window
//
// A log is started (with a watermark) the first time a journal directory is opened, and a watermark
// follows every WATERMARK_BYTES of journal, so the read at start never goes further back than needed.
// A line is written after its batches' journal write, so a key here always names events on disk. The
// reverse gap — events written, process killed before their line — is closed at start by key-store.ts,
// which reads the journal after the last line's `e`. Lines are written with one synchronous write (a
// small one, into the page cache) and synced in the background once a second: a SIGKILL loses nothing
// written, a power cut at most that second, which the same read of the journal covers.
// Files roll by size and age; a file whose successor started more than the window ago holds only
// expired keys and is deleted.
import { close as closeFd, closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { JournalPosition } from '../journal/writer'

export const KEY_LOG_DIR = 'idempotency-keys'
const FILE = /^keys-(\d{15})\.ndjson$/
const ROLL_BYTES = 8 * 1024 * 1024
/** Journal bytes written without a line here after which a watermark is written (bounds the read at start). */
const WATERMARK_BYTES = 8 * 1024 * 1024
const SYNC_EVERY_MS = 1000

/** How a batch was answered: a number is `accepted` of a /logs batch that was all accepted (the common case). */
export type StoredAnswer = number | { readonly status: number, readonly body: unknown }

export interface KeyRecord {
  /** The scoped key's name (batch-key.ts). */
  readonly name: string
  /** When it was answered, ms. */
  readonly at: number
  /** Events in the batch (accepted and refused): a retry must send as many. */
  readonly events: number
  readonly answer: StoredAnswer
}

export interface KeyLogContents {
  /** Records still within the window, oldest first. */
  records: KeyRecord[]
  /** The journal end after the last line: keyed batches before it all have their line. */
  coveredTo: JournalPosition | undefined
  /** The id tails of `x` lines still within the window. */
  tails: string[]
  /** Whether any file was found (a journal never written with keys needs no read at start). */
  found: boolean
}

export interface KeyLogOptions {
  windowMs: number
  /** Sync lines in the background (JOURNAL_FSYNC=always). */
  sync: boolean
  now?: () => number
  onError: (err: Error) => void
}

type Line = [name: string, at: number, events: number, answer: StoredAnswer]

export class KeyLog {
  readonly dir: string
  readonly #opts: KeyLogOptions
  readonly #now: () => number
  #fd: number | undefined
  #fileStartedAt = 0
  #fileBytes = 0
  #unmarkedBytes = 0
  #dirty = false
  #syncing = false
  #timer: NodeJS.Timeout | undefined
  #files: string[] = []

  constructor (journalDir: string, opts: KeyLogOptions) {
    this.dir = join(journalDir, KEY_LOG_DIR)
    this.#opts = opts
    this.#now = opts.now ?? Date.now
  }

  /** Reads every file (start-up, before anything is written). */
  load (): KeyLogContents {
    let names: string[]
    try {
      names = readdirSync(this.dir).filter(n => FILE.test(n)).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], coveredTo: undefined, tails: [], found: false }
      throw err
    }
    this.#files = names
    const since = this.#now() - this.#opts.windowMs
    const records: KeyRecord[] = []
    let coveredTo: JournalPosition | undefined
    const tails: string[] = []
    for (const name of names) {
      for (const text of readFileSync(join(this.dir, name), 'utf8').split('\n')) {
        if (text === '') continue
        let line: { e?: [string, number], k?: Line[], x?: string[], t?: number }
        try {
          line = JSON.parse(text)
        } catch {
          continue // the end of a line cut by a crash: its batches are found again in the journal
        }
        if (Array.isArray(line.e)) coveredTo = { segment: line.e[0], offset: line.e[1] }
        if (Array.isArray(line.x) && (line.t ?? 0) >= since) tails.push(...line.x)
        for (const [name, at, events, answer] of line.k ?? []) {
          if (at >= since) records.push({ name, at, events, answer })
        }
      }
    }
    this.#deleteExpired()
    return { records, coveredTo, tails, found: names.length > 0 }
  }

  /** A watermark now: no keyed batch before `end` is without its line (a new log starts with one). */
  mark (end: JournalPosition): void {
    this.#line({ e: [end.segment, end.offset] })
  }

  /**
   * Events found at start without their batch's line, by id tail: kept for the window, since a later
   * start no longer reads that part of the journal once newer lines cover it.
   */
  keepTails (tails: readonly string[]): void {
    this.#line({ x: tails, t: this.#now() })
  }

  /**
   * After a journal group of `bytes` bytes ending at `end` was written: the keyed batches in it (or, with
   * `bytes` 0, keyed batches that wrote nothing, at the journal's end then). Never throws: a key not
   * written is reported, and its batch is still answered (its events are stored; a retry may store them again).
   */
  write (records: readonly KeyRecord[], end: JournalPosition | undefined, bytes: number): void {
    this.#unmarkedBytes += bytes
    if (records.length === 0 && this.#unmarkedBytes < WATERMARK_BYTES) return
    const line: { e?: [string, number], k?: Line[] } = {}
    if (end !== undefined) line.e = [end.segment, end.offset]
    if (records.length > 0) line.k = records.map(r => [r.name, r.at, r.events, r.answer])
    if (this.#line(line) && end !== undefined) this.#unmarkedBytes = 0
  }

  /** Appends one line; a failure is reported, never thrown (see write()). */
  #line (line: object): boolean {
    try {
      this.#append(JSON.stringify(line) + '\n')
      return true
    } catch (err) {
      this.#opts.onError(err as Error)
      return false
    }
  }

  /** Syncs and closes the file. */
  close (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#fd === undefined) return
    try {
      if (this.#dirty && this.#opts.sync) fdatasyncSync(this.#fd)
      closeSync(this.#fd)
    } catch (err) {
      this.#opts.onError(err as Error)
    }
    this.#fd = undefined
  }

  #append (text: string): void {
    const now = this.#now()
    if (this.#fd === undefined || this.#fileBytes >= ROLL_BYTES || now - this.#fileStartedAt > this.#opts.windowMs / 4) this.#roll(now)
    const data = Buffer.from(text)
    let written = 0
    while (written < data.length) written += writeSync(this.#fd!, data, written)
    this.#fileBytes += data.length
    this.#dirty = true
  }

  #roll (now: number): void {
    clearInterval(this.#timer)
    const previous = this.#fd
    if (previous !== undefined) {
      // The full file is synced and closed off the event loop; the next lines go to the new one.
      const dirty = this.#dirty && this.#opts.sync
      this.#dirty = false
      if (dirty) fdatasync(previous, err => { this.#reportSync(err); closeFd(previous, () => {}) })
      else closeFd(previous, () => {})
    }
    mkdirSync(this.dir, { recursive: true })
    // Names sort by time; a second file in the same millisecond takes the next one.
    let at = now
    const last = this.#files.at(-1)
    if (last !== undefined) at = Math.max(at, Number(FILE.exec(last)![1]) + 1)
    const name = `keys-${String(at).padStart(15, '0')}.ndjson`
    this.#fd = openSync(join(this.dir, name), 'a')
    this.#files.push(name)
    this.#fileStartedAt = now
    this.#fileBytes = 0
    this.#deleteExpired()
    if (this.#opts.sync) {
      this.#timer = setInterval(() => this.#syncNow(), SYNC_EVERY_MS)
      this.#timer.unref()
    }
  }

  #syncNow (): void {
    if (!this.#dirty || this.#syncing || this.#fd === undefined) return
    this.#dirty = false
    this.#syncing = true
    fdatasync(this.#fd, err => {
      this.#syncing = false
      this.#reportSync(err)
    })
  }

  #reportSync (err: NodeJS.ErrnoException | null): void {
    // EBADF: the file was rolled and closed while this sync waited for a thread; the roll synced it.
    if (err !== null && err.code !== 'EBADF') this.#opts.onError(err)
  }

  /** Deletes the files whose every key is past the window: those whose successor started before it. */
  #deleteExpired (): void {
    const since = this.#now() - this.#opts.windowMs
    while (this.#files.length > 1 && Number(FILE.exec(this.#files[1]!)![1]) < since) {
      const name = this.#files.shift()!
      try {
        unlinkSync(join(this.dir, name))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#opts.onError(err as Error)
      }
    }
  }
}
