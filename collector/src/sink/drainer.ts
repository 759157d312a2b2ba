// Moves journaled events into MongoDB, in journal order, one insert at a time:
//
//   journal ──read LOG_BUFFER_SIZE lines──► MongoSink.insert ──► dead letters ──► checkpoint
//                                                   │
//              batch N+1 is read and parsed while batch N inserts; batch N's dead letters and
//              checkpoint are written while batch N+1 inserts
//
// MongoDB is the slow stage, so nothing else waits in front of it: the next insert is sent as soon as
// the previous one is confirmed, and the bookkeeping of a confirmed batch (two file writes, slow when the
// ingest keeps the event loop and the disk busy) runs beside it. Batches are still recorded in journal
// order, each after the one before, so the checkpoint only ever covers confirmed batches.
// A drain starts when LOG_BUFFER_SIZE events wait, every FLUSH_INTERVAL, on force-flush and on
// shutdown. Drains never overlap (one chain of promises), so the checkpoint only moves forward.
// Memory stays bounded while MongoDB is down: waiting events live in the journal, not in memory.
import { EventEmitter } from 'node:events'
import type { Checkpoint } from '../journal/checkpoint'
import type { JournalReader, ReadBatch } from '../journal/reader'
import type { JournalPosition } from '../journal/writer'
import type { DeadLetter } from './dead-letter'
import { TransientMongoError, type InsertOutcome, type MongoSink, type PreparedBatch } from './mongo-sink'

export interface DrainerOptions {
  batchSize: number
  flushIntervalMs: number
}

/** Backoff after a transient failure: doubles from the first delay up to the last, with jitter. */
const RETRY_FIRST_MS = 500
const RETRY_MAX_MS = 5000

export interface DrainStats {
  pending: number
  flushed: number
  duplicates: number
  deadLettered: number
  lastFlushAt: number
  lastError: string | undefined
  connected: boolean
}

export class Drainer extends EventEmitter {
  private position: JournalPosition
  private chain: Promise<unknown> = Promise.resolve()
  private draining = false
  private timer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retryDelay: number
  private stopped = false
  readonly stats: DrainStats

  constructor (
    private readonly sink: MongoSink,
    private readonly reader: JournalReader,
    private readonly checkpoint: Checkpoint,
    private readonly deadLetter: DeadLetter,
    private readonly opts: DrainerOptions,
    start: JournalPosition,
    pending: number
  ) {
    super()
    this.position = start
    this.retryDelay = RETRY_FIRST_MS
    this.stats = { pending, flushed: 0, duplicates: 0, deadLettered: 0, lastFlushAt: Date.now(), lastError: undefined, connected: false }
  }

  /** Where the journal is confirmed up to. */
  get confirmed (): JournalPosition {
    return this.position
  }

  start (): void {
    this.timer = setInterval(() => this.trigger(), this.opts.flushIntervalMs).unref()
  }

  /** Called for every group the journal committed. */
  added (events: number): void {
    this.stats.pending += events
    if (this.stats.pending >= this.opts.batchSize) this.trigger()
  }

  /** Starts a background drain unless one runs or a retry is already scheduled. */
  trigger (): void {
    if (this.draining || this.retryTimer !== undefined || this.stopped) return
    this.draining = true
    this.enqueue().catch(err => this.emit('drain-error', err)).finally(() => { this.draining = false })
  }

  /**
   * Drains everything journaled so far; resolves with how many events this call stored (or
   * dead-lettered). Rejects with TransientMongoError when MongoDB cannot take them now.
   */
  async flushAll (): Promise<number> {
    return await this.enqueue()
  }

  private enqueue (): Promise<number> {
    const run = this.chain.then(() => this.drainToEnd())
    this.chain = run.catch(() => {})
    return run
  }

  private async drainToEnd (): Promise<number> {
    let total = 0
    // The last confirmed batch's dead letters and checkpoint, being written while the next batch
    // inserts; resolves with how many events that batch stored or dead-lettered.
    let recording: Promise<number> = Promise.resolve(0)
    try {
      let next = this.load(this.position)
      for (;;) {
        const batch = await next
        if (batch.lines.length === 0) {
          total += await recording
          this.position = batch.next
          break
        }
        // Read and parse the next batch while MongoDB inserts this one. If this insert fails, the
        // prefetched batch is dropped (and read again on retry); its own failure surfaces when awaited.
        next = this.load(batch.next)
        next.catch(() => {})
        const insertStarted = performance.now()
        const outcome = await this.sink.insert(batch.prepared)
        this.emit('batch-stored', (performance.now() - insertStarted) / 1000)
        // Confirmed: record it once the batch before it is recorded (journal order), without holding up
        // the next insert. A failure to record surfaces at the next await of `recording`.
        total += await recording
        recording = this.record(batch.next, batch.lines.length, outcome)
        recording.catch(() => {})
      }
      this.stats.lastFlushAt = Date.now()
      this.stats.connected = true
      this.stats.lastError = undefined
      this.retryDelay = RETRY_FIRST_MS
      return total
    } catch (err) {
      // A batch confirmed before the failure is still recorded before this drain ends, so a retry (or
      // the next start) does not insert it again, and stop() finds no write in flight.
      await recording.catch(() => {})
      this.stats.lastError = (err as Error).message
      if (err instanceof TransientMongoError) {
        this.stats.connected = false
        this.scheduleRetry()
      }
      throw err
    }
  }

  private async load (from: JournalPosition): Promise<ReadBatch & { prepared: PreparedBatch }> {
    const batch = await this.reader.read(from, this.opts.batchSize)
    if (batch.tornBytes > 0) this.emit('torn-tail', from.segment, batch.tornBytes)
    return { ...batch, prepared: this.sink.prepare(batch.lines) }
  }

  /**
   * A batch of `lines` journal lines ending at `end` that MongoDB confirmed: its rejected documents go to
   * the dead-letter file, then the checkpoint moves past it (never before its dead letters are written).
   * Holds the outcome, not the batch's documents. Returns how many events it settled.
   */
  private async record (end: JournalPosition, lines: number, outcome: InsertOutcome): Promise<number> {
    await this.deadLetter.append(outcome.rejected)
    this.position = end
    await this.checkpoint.save(end)
    this.stats.pending = Math.max(0, this.stats.pending - lines)
    this.stats.flushed += outcome.stored
    this.stats.duplicates += outcome.duplicates
    this.stats.deadLettered += outcome.rejected.length
    if (outcome.rejected.length > 0) this.emit('dead-lettered', outcome.rejected)
    return outcome.stored + outcome.rejected.length
  }

  private scheduleRetry (): void {
    if (this.retryTimer !== undefined || this.stopped) return
    const delay = this.retryDelay * (0.5 + Math.random() / 2)
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.trigger()
    }, delay).unref()
  }

  /** Stops the timers; a drain already running finishes. */
  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    await this.chain
  }
}
