// The journal: accepted events are appended as NDJSON to segment files in LOG_DIR before they are
// acknowledged. Group commit: appends that arrive while a write is in flight are joined into the next
// single write (+ fdatasync), so many requests cost one system call.
//
//   append(lines) ──► queue ──► [one write + datasync per group] ──► sidecar ──► resolve every waiter of the group
//
// The sidecar (the idempotency key store) hears of every group after it is on disk and before any of
// its requests is answered, with the key records the appends carried: a key is never remembered for
// events that are not written, and never answered before it is remembered.
//
// The writer always opens a fresh segment on start, so it never appends after a tail torn by a crash.
//
// The journal's clock (settledThrough, for alerts whose groups close when the journal's time passes their
// window): every ingest route stamps received_at and calls append() in the same tick, with no await
// between. So a moment observed between ticks with nothing queued bounds every later append from below;
// taking a group at such a moment (after an await) bounds the appends queued after it. Kept per group,
// never per event.
import { EventEmitter } from 'node:events'
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { FsyncPolicy } from '../config'
import type { KeyRecord } from '../idempotency/key-log'
import { COMPACTED_SUFFIX } from './compacted/format'
import { parseSegmentName, segmentName } from './segment-name'
import { repairTornTail } from './torn-tail'

export interface JournalPosition {
  segment: string
  offset: number
}

export interface JournalWriterOptions {
  dir: string
  fsync: FsyncPolicy
  segmentMaxBytes: number
  /** Characters (of a string) or bytes (of a Buffer) waiting to be written past which append() refuses at once (backpressure). */
  maxQueueBytes?: number
  now?: () => Date
}

/** Told of each group written, before its appends resolve; must not throw. */
export interface JournalSidecar {
  committed (records: readonly KeyRecord[], end: JournalPosition, bytes: number): void
}

interface Waiter {
  resolve: () => void
  reject: (err: Error) => void
}

export class JournalWriteError extends Error {
  constructor (cause: Error) {
    super(`the journal could not be written: ${cause.message}`, { cause })
    this.name = 'JournalWriteError'
  }
}

/** The journal has more waiting than its bound: nothing was queued, the caller should retry later. */
export class JournalQueueFullError extends Error {
  constructor () {
    super('the journal write queue is full')
    this.name = 'JournalQueueFullError'
  }
}

/**
 * Lists the collector's own segments in `dir` by their logical names, oldest first: a compacted one
 * (`<name>.z`) under its name, once even while a compaction has both forms.
 */
export async function listSegments (dir: string): Promise<string[]> {
  const names = new Set<string>()
  for (const n of await readdir(dir)) {
    const name = n.endsWith(COMPACTED_SUFFIX) ? n.slice(0, -COMPACTED_SUFFIX.length) : n
    if (parseSegmentName(name) !== undefined) names.add(name)
  }
  return [...names].sort()
}

/** One write's bytes: the queued appends, in order (text joined before it is encoded, once). */
function groupBytes (queue: Array<string | Buffer>): Buffer {
  if (queue.length === 1) return typeof queue[0] === 'string' ? Buffer.from(queue[0]) : queue[0]!
  if (queue.every(q => typeof q === 'string')) return Buffer.from(queue.join(''))
  return Buffer.concat(queue.map(q => typeof q === 'string' ? Buffer.from(q) : q))
}

export class JournalWriter extends EventEmitter {
  private readonly opts: JournalWriterOptions
  private readonly now: () => Date
  private fh: FileHandle | undefined
  private segment = ''
  private seq = 0
  private openedDay = ''
  private size = 0
  private queue: Array<string | Buffer> = []
  private records: KeyRecord[] = []
  private sidecar: JournalSidecar | undefined
  private queuedEvents = 0
  private queuedBytes = 0
  private waiters: Waiter[] = []
  private writing = false
  private rollNeeded = false
  private closed = false
  /** Only ever appended to in place; forgetSegments replaces it (see there). */
  private segmentList: string[] = []
  /** Every append queued but not yet taken was stamped at or after this (ms). */
  private queuedFloor: number
  /** Every append of the group being written was stamped at or after this (ms). */
  private writingFloor: number

  constructor (opts: JournalWriterOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? (() => new Date())
    this.queuedFloor = this.writingFloor = this.now().getTime()
  }

  /**
   * A time T (ms) such that every event committed after this call has received_at >= T: now when nothing
   * is queued or being written, else a bound taken between ticks before the oldest uncommitted append.
   */
  settledThrough (): number {
    return this.writing ? this.writingFloor : this.now().getTime()
  }

  async open (): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true })
    const existing = await listSegments(this.opts.dir)
    // Only the last segment of each earlier run can end mid-line, but checking costs one byte per file.
    for (const name of existing) {
      const torn = await repairTornTail(this.opts.dir, name)
      if (torn !== undefined) this.emit('torn-tail', torn)
    }
    this.segmentList.push(...existing)
    const last = existing.at(-1)
    this.seq = last === undefined ? 0 : parseSegmentName(last)!.seq
    await this.roll()
  }

  /** Names of every segment, oldest first: the ones found at start and the ones opened since. */
  get segments (): readonly string[] {
    return this.segmentList
  }

  /**
   * Drops deleted segments from the list: a new list, never the one handed out. Readers iterate that one
   * across awaits (a search's candidates, tails, the drain); removing entries from it in place shifted the
   * rest under their iterators, so a read that overlapped a retention pass skipped as many kept segments as
   * were deleted. Appending in place (a roll) shifts nothing.
   */
  forgetSegments (names: Iterable<string>): void {
    const gone = new Set(names)
    this.segmentList = this.segmentList.filter(s => !gone.has(s))
  }

  /** The committed end of the journal: everything before it is written (and synced, per policy). */
  get end (): JournalPosition {
    return { segment: this.segment, offset: this.size }
  }

  /** Who hears of each group written (see the diagram above); set once, before the first append. */
  setSidecar (sidecar: JournalSidecar): void {
    this.sidecar = sidecar
  }

  /**
   * Appends NDJSON `lines` (each ending in '\n'; text, or its UTF-8 bytes) holding `events` events;
   * resolves once written. A Buffer is the journal's from then on: it is written later, as it is then.
   * Rejects with JournalWriteError when the write failed: nothing of it may be acknowledged. `record`,
   * the batch's idempotency key, goes to the sidecar with the group.
   */
  append (lines: string | Buffer, events: number, record?: KeyRecord): Promise<void> {
    if (this.closed) return Promise.reject(new JournalWriteError(new Error('journal is closed')))
    if (this.queuedBytes > 0 && this.queuedBytes + lines.length > (this.opts.maxQueueBytes ?? Infinity)) {
      return Promise.reject(new JournalQueueFullError())
    }
    return new Promise<void>((resolve, reject) => {
      this.queuedBytes += lines.length
      this.queue.push(lines)
      if (record !== undefined) this.records.push(record)
      this.queuedEvents += events
      this.waiters.push({ resolve, reject })
      if (!this.writing) void this.writeGroups()
    })
  }

  private async writeGroups (): Promise<void> {
    this.writing = true
    // The first group is taken inside append(), in the tick of a request that may still append: the
    // floor for what is queued after it stays the last idle moment. Later takes follow an await.
    let betweenTicks = false
    while (this.queue.length > 0) {
      this.writingFloor = this.queuedFloor
      if (betweenTicks) this.queuedFloor = this.now().getTime()
      betweenTicks = true
      const data = groupBytes(this.queue)
      const waiters = this.waiters
      const records = this.records
      const events = this.queuedEvents
      this.queue = []
      this.records = []
      this.waiters = []
      this.queuedEvents = 0
      this.queuedBytes = 0
      try {
        await this.writeGroup(data)
        this.sidecar?.committed(records, this.end, data.length)
        for (const w of waiters) w.resolve()
        this.emit('committed', events)
      } catch (err) {
        const failure = new JournalWriteError(err as Error)
        for (const w of waiters) w.reject(failure)
        this.emit('write-error', failure)
      }
    }
    this.writing = false
    this.queuedFloor = this.now().getTime()
    this.emit('idle')
  }

  private async writeGroup (data: Buffer): Promise<void> {
    const today = this.now().toISOString().slice(0, 10)
    if (this.rollNeeded || this.fh === undefined || this.size >= this.opts.segmentMaxBytes || today !== this.openedDay) {
      await this.roll()
    }
    const fh = this.fh!
    try {
      let written = 0
      while (written < data.length) {
        const { bytesWritten } = await fh.write(data, written, data.length - written, this.size + written)
        written += bytesWritten
      }
      if (this.opts.fsync === 'always') await fh.datasync()
      this.size += data.length
    } catch (err) {
      // Part of the group may be on disk. Cut it off so a replay never sees what was not acknowledged,
      // and write the next group to a fresh segment.
      this.rollNeeded = true
      await fh.truncate(this.size).catch(() => {})
      throw err
    }
  }

  private async roll (): Promise<void> {
    const openedAt = this.now()
    const name = segmentName(openedAt, ++this.seq)
    const fh = await open(join(this.opts.dir, name), 'wx')
    const previous = this.fh
    const closing = this.segment
    this.fh = fh
    this.segment = name
    this.size = 0
    this.openedDay = openedAt.toISOString().slice(0, 10)
    this.rollNeeded = false
    this.segmentList.push(name)
    await previous?.close()
    // The closed segment can be compacted now (service.ts wakes the compactor instead of its next look).
    if (previous !== undefined) this.emit('segment-closed', closing)
  }

  /** Waits for queued writes, then closes the segment. Later appends are refused. */
  async close (): Promise<void> {
    this.closed = true
    if (this.writing) await new Promise(resolve => this.once('idle', resolve))
    await this.fh?.close()
    this.fh = undefined
  }
}
