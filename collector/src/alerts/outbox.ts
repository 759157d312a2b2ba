// The collector's own outbox of notifications, in LOG_DIR/alerts-outbox: an append-only NDJSON log.
//
//   evaluator ──add(n, advance)──► {"t":"n"} record, fdatasync ──► resolve ──► onAdded listeners
//   evaluator ──advance(p)───────► {"t":"p"} record (a position only: saves a rescan after a restart)
//   delivery ◄──open()───────────── bodies read back from disk by offset, oldest first
//   delivery ──update(id, …)─────► {"t":"u"} record (not synced: a crash at worst repeats one delivery)
//
// Memory holds ids and file offsets, never bodies, so an hour of backlog costs a few numbers per entry.
// When the file passes its size it is compacted: a new file with only what is still open and the
// positions is written beside it, synced, renamed into place, then the old one is deleted. Opening takes
// the newest whole file (a crash mid-compaction leaves the old one, or both, never neither) and ignores a
// torn last line (a SIGKILL mid-write: that add never resolved).
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { AlertPosition, Delivery, Notification, Outbox, OutboxEntry } from './model'

export const OUTBOX_DIR = 'alerts-outbox'
const NAME = /^outbox-(\d{10})\.ndjson$/
const DEFAULT_COMPACT_BYTES = 16 * 1024 * 1024
const READ_CHUNK = 1024 * 1024
/** Done ids a compaction keeps (about 30 bytes each on disk and in memory). */
const KEEP_DONE = 10_000
const NL = 10

type OutboxRecord =
  | { t: 'n', n: Notification, p?: AlertPosition, r?: boolean }
  | { t: 'p', p: AlertPosition }
  | { t: 'u', id: string, d: Delivery[], r: boolean }
  | { t: 's', failed: number }
  /** A notification done before the last compaction (its id only). */
  | { t: 'x', id: string }

/** Where one open notification's record (and its latest update, if any) lie in the current file. */
interface Slot {
  at: number
  length: number
  update: { at: number, length: number } | undefined
  /** A delivery not yet delivered or failed. */
  pending: boolean
  /** Its alert: open(skip) passes over a notification without reading it (once the history has it). */
  alertId: string
  recorded?: boolean
}

export interface OutboxOptions {
  /** Compaction starts once the file is larger than this. */
  compactBytes?: number
}

function fileName (seq: number): string {
  return `outbox-${String(seq).padStart(10, '0')}.ndjson`
}

function isFinal (d: Delivery): boolean {
  return d.status === 'delivered' || d.status === 'failed'
}

/** The outbox of notifications (model.ts Outbox), plus the evaluator's position-only advances. */
export class FileOutbox implements Outbox {
  private fh: FileHandle | undefined
  private seq = 0
  private size = 0
  private readonly slots = new Map<string, Slot>()
  /** Ids of notifications done since the file was started (add of one is still a no-op until compaction). */
  private readonly done = new Set<string>()
  private readonly positionsById = new Map<string, AlertPosition>()
  private failedCount = 0
  /** Size of the file when it was last compacted: compacting again waits until it doubled (no storm when much is open). */
  private compactedSize = 0
  private chain: Promise<unknown> = Promise.resolve()
  private readonly listeners: Array<() => void> = []
  private readonly compactBytes: number

  private constructor (private readonly dir: string, opts: OutboxOptions) {
    this.compactBytes = opts.compactBytes ?? DEFAULT_COMPACT_BYTES
  }

  /** Opens (or creates) the outbox under `logDir`. */
  static async open (logDir: string, opts: OutboxOptions = {}): Promise<FileOutbox> {
    const box = new FileOutbox(join(logDir, OUTBOX_DIR), opts)
    await box.load()
    return box
  }

  private async load (): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const names = await readdir(this.dir)
    // A .tmp is a compaction that did not finish: the file it was made from is still there.
    for (const n of names) if (n.endsWith('.tmp')) await rm(join(this.dir, n), { force: true })
    const seqs = names.map(n => NAME.exec(n)).filter(m => m !== null).map(m => Number(m[1])).sort((a, b) => a - b)
    const newest = seqs.at(-1)
    // Older files are compactions' sources whose deletion a crash interrupted: the newest holds all they did.
    for (const s of seqs.slice(0, -1)) await rm(join(this.dir, fileName(s)), { force: true })
    this.seq = newest ?? 1
    const path = join(this.dir, fileName(this.seq))
    this.fh = await open(path, 'a+')
    const whole = await this.scan(this.fh)
    if (whole < (await this.fh.stat()).size) await this.fh.truncate(whole) // the torn last line
    this.size = whole
  }

  /** Rebuilds the maps from the file; returns the offset after its last whole line. */
  private async scan (fh: FileHandle): Promise<number> {
    let offset = 0
    let buf = Buffer.allocUnsafe(READ_CHUNK)
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset)
      if (bytesRead === 0) return offset
      let start = 0
      for (let nl = buf.indexOf(NL); nl !== -1 && nl < bytesRead; nl = buf.indexOf(NL, start)) {
        this.apply(buf.toString('utf8', start, nl), offset + start, nl - start)
        start = nl + 1
      }
      if (start === 0) {
        if (bytesRead < buf.length) return offset // no newline before the end: a torn line
        buf = Buffer.allocUnsafe(buf.length * 2) // one record longer than the buffer
        continue
      }
      offset += start
    }
  }

  private apply (line: string, at: number, length: number): void {
    let rec: OutboxRecord
    try {
      rec = JSON.parse(line) as OutboxRecord
    } catch {
      return
    }
    switch (rec.t) {
      case 'n':
        if (rec.p !== undefined) this.positionsById.set(rec.p.alert_id, rec.p)
        this.track(rec.n.id, { at, length, update: undefined, pending: true, alertId: rec.n.alert_id }, rec.n.deliveries, rec.r === true)
        break
      case 'p':
        this.positionsById.set(rec.p.alert_id, rec.p)
        break
      case 'u': {
        const slot = this.slots.get(rec.id)
        if (slot !== undefined) this.track(rec.id, { ...slot, update: { at, length } }, rec.d, rec.r)
        break
      }
      case 's':
        this.failedCount = rec.failed
        break
      case 'x':
        this.done.add(rec.id)
        break
    }
  }

  /** Keeps `slot` for `id` while it is open; counts it done (and failed, when one delivery failed) once not. */
  private track (id: string, slot: Slot, deliveries: Delivery[], recorded: boolean): void {
    slot.pending = !deliveries.every(isFinal)
    slot.recorded = recorded
    if (slot.pending || !recorded) {
      this.slots.set(id, slot)
      return
    }
    this.slots.delete(id)
    this.done.add(id)
    if (deliveries.some(d => d.status === 'failed')) this.failedCount++
  }

  /** Runs `fn` after every write and read before it: one file, one writer, compaction never in the middle. */
  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn)
    this.chain = run.catch(() => {})
    return run
  }

  private async write (rec: OutboxRecord, sync: boolean): Promise<{ at: number, length: number }> {
    const fh = this.fh
    if (fh === undefined) throw new Error('the alert outbox is closed')
    const data = Buffer.from(JSON.stringify(rec) + '\n')
    const at = this.size
    let written = 0
    while (written < data.length) {
      const { bytesWritten } = await fh.write(data, written, data.length - written, at + written)
      written += bytesWritten
    }
    if (sync) await fh.datasync()
    this.size += data.length
    return { at, length: data.length - 1 }
  }

  async add (n: Notification, advance?: AlertPosition): Promise<void> {
    await this.serial(async () => {
      if (this.slots.has(n.id) || this.done.has(n.id)) return
      const rec: OutboxRecord = advance === undefined ? { t: 'n', n } : { t: 'n', n, p: advance }
      const { at, length } = await this.write(rec, true)
      if (advance !== undefined) this.positionsById.set(advance.alert_id, advance)
      this.track(n.id, { at, length, update: undefined, pending: true, alertId: n.alert_id }, n.deliveries, false)
      await this.maybeCompact()
    })
    for (const l of this.listeners) l()
  }

  /** Stores an `each` alert's position without a notification (everything before it matched nothing or is notified). */
  async advance (p: AlertPosition): Promise<void> {
    await this.serial(async () => {
      await this.write({ t: 'p', p }, false)
      this.positionsById.set(p.alert_id, p)
      await this.maybeCompact()
    })
  }

  /** The stored position of an alert (of whatever revision was last stored). */
  position (alertId: string): AlertPosition | undefined {
    return this.positionsById.get(alertId)
  }

  async update (id: string, deliveries: Delivery[], recorded: boolean): Promise<void> {
    await this.serial(async () => {
      const slot = this.slots.get(id)
      if (slot === undefined) return
      const where = await this.write({ t: 'u', id, d: deliveries, r: recorded }, false)
      this.track(id, { ...slot, update: where }, deliveries, recorded)
      await this.maybeCompact()
    })
  }

  async * open (skip?: (alertId: string) => boolean): AsyncGenerator<OutboxEntry> {
    for (const [id, slot] of [...this.slots]) {
      // A deliverer walking a backlog skips the alerts whose lanes are all taken: not read, not parsed.
      if (slot.recorded === true && skip?.(slot.alertId) === true) continue
      const entry = await this.serial(async () => await this.readEntry(id))
      if (entry !== undefined) yield entry
    }
  }

  private async readEntry (id: string): Promise<OutboxEntry | undefined> {
    const slot = this.slots.get(id)
    if (slot === undefined) return undefined
    const rec = await this.readRecord(slot.at, slot.length) as Extract<OutboxRecord, { t: 'n' }>
    const entry: OutboxEntry = { notification: rec.n, recorded: rec.r === true }
    if (slot.update !== undefined) {
      const u = await this.readRecord(slot.update.at, slot.update.length) as Extract<OutboxRecord, { t: 'u' }>
      entry.notification.deliveries = u.d
      entry.recorded = u.r
    }
    return entry
  }

  private async readRecord (at: number, length: number): Promise<OutboxRecord> {
    const buf = Buffer.allocUnsafe(length)
    await this.fh!.read(buf, 0, length, at)
    return JSON.parse(buf.toString('utf8')) as OutboxRecord
  }

  onAdded (listener: () => void): void {
    this.listeners.push(listener)
  }

  stats (): { pending: number, failed: number, notifications: number, bytes: number } {
    let pending = 0
    for (const s of this.slots.values()) if (s.pending) pending++
    return { pending, failed: this.failedCount, notifications: this.slots.size, bytes: this.size }
  }

  private async maybeCompact (): Promise<void> {
    if (this.size > this.compactBytes && this.size > 2 * this.compactedSize) await this.compact()
  }

  /** Writes what is still open, and the positions, to the next file; then makes it the outbox. Called in serial(). */
  private async compact (): Promise<void> {
    const next = this.seq + 1
    const tmp = join(this.dir, fileName(next) + '.tmp')
    const out = await open(tmp, 'w')
    const slots = new Map<string, Slot>()
    let size = 0
    const put = async (rec: OutboxRecord): Promise<{ at: number, length: number }> => {
      const data = Buffer.from(JSON.stringify(rec) + '\n')
      const at = size
      await out.write(data, 0, data.length, at)
      size += data.length
      return { at, length: data.length - 1 }
    }
    try {
      await put({ t: 's', failed: this.failedCount })
      for (const p of this.positionsById.values()) await put({ t: 'p', p })
      // The newest done ids stay known, so a notification made again (a count alert whose state could not be
      // saved after its add) is still taken once after a compaction.
      for (const id of [...this.done].slice(-KEEP_DONE)) await put({ t: 'x', id })
      for (const id of this.slots.keys()) {
        const entry = (await this.readEntry(id))!
        const where = await put({ t: 'n', n: entry.notification, r: entry.recorded })
        slots.set(id, { ...where, update: undefined, pending: this.slots.get(id)!.pending, alertId: entry.notification.alert_id, recorded: entry.recorded })
      }
      await out.datasync()
    } finally {
      await out.close()
    }
    await rename(tmp, join(this.dir, fileName(next)))
    await syncDir(this.dir)
    const old = this.fh!
    this.fh = await open(join(this.dir, fileName(next)), 'a+')
    await old.close()
    await rm(join(this.dir, fileName(this.seq)), { force: true })
    this.seq = next
    this.size = size
    this.compactedSize = size
    this.slots.clear()
    for (const [id, s] of slots) this.slots.set(id, s)
    const kept = [...this.done].slice(-KEEP_DONE)
    this.done.clear()
    for (const id of kept) this.done.add(id)
  }

  /** Waits for what was written, then closes the file. */
  async close (): Promise<void> {
    await this.serial(async () => {
      await this.fh?.close()
      this.fh = undefined
    })
  }
}

/** Makes a rename in `dir` durable. */
async function syncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
