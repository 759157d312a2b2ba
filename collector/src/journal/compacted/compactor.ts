// Compaction of this process's closed journal segments, off the ingest path:
//
//   start: recoverCompactions ─► every 2 s, and when a segment closes: oldest closed segment not yet compacted
//          (MongoDB configured: only before the drain's checkpoint segment) ─► worker thread ─► stats
//
// One segment at a time, oldest first, in one worker thread that holds one block in memory: what
// compaction costs is at most one core's share, and ingest, reads and the drain never wait for it. The
// drain and the replay only ever read segments at or after the checkpoint, which are never compacted.
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { CompactReply, CompactRequest } from './compact-worker'
import { damagedSegments } from '../segment-file'
import { recoverCompactions, type Recovery } from './recover'

/**
 * The compaction thread's young generation (MB). Its allocations live for a block at most; with V8's default
 * the thread's heap held 24–26 MB under bench read-load, 16–17 MB with 8. A thread compacting one 17 MB
 * segment over and over (with the collector's malloc settings) kept the process at 108–149 MB of RSS with
 * the default, 72–121 MB with 8, compacting as fast (293 and 289 segments in 2 minutes).
 */
const YOUNG_GENERATION_MB = 8

export interface CompactorOptions {
  dir: string
  /** The writer's segments, oldest first. */
  segments: () => readonly string[]
  /** The segment being written: never compacted. */
  current: () => string
  /** With MongoDB configured: segments before this one are confirmed (undefined: none yet). */
  confirmedBefore: (() => string | undefined) | undefined
  /** How often to look for work (ms). */
  intervalMs?: number
  onError: (segment: string, err: Error) => void
  /** The worker module (tests may pass their own). */
  workerFile?: string
}

export interface CompactionStatus {
  /** Segments compacted since start. */
  segments: number
  /** NDJSON bytes compacted, and the compacted bytes written, since start. */
  bytes_in: number
  bytes_out: number
  /** Whether a segment is being compacted now. */
  running: boolean
  /** The segment being compacted, if any. */
  segment: string | null
  errors: number
  last_error: string | null
  /** What start-up found of compactions a crash interrupted (corrupt: renamed `.z.damaged` or deleted). */
  recovered: { partial: number, finished: number, corrupt: number }
  /** Compacted files reads found damaged since start (read as empty or blank lines where damaged). */
  damaged_reads: number
}

export class JournalCompactor {
  private readonly compacted = new Set<string>()
  /** Segments whose compaction failed: not tried again until a restart (the NDJSON stays, nothing is lost). */
  private readonly failed = new Set<string>()
  private worker: Worker | undefined
  private timer: NodeJS.Timeout | undefined
  private running: string | undefined
  private nextId = 0
  private readonly pending = new Map<Worker, { id: number, resolve: (r: CompactReply) => void }>()
  private stopped = false
  private recovery: Recovery = { partial: 0, finished: 0, corrupt: [], compacted: [] }
  private readonly stats = { segments: 0, bytesIn: 0, bytesOut: 0, errors: 0, lastError: undefined as string | undefined }

  constructor (private readonly opts: CompactorOptions) {}

  /** Repairs what a crash interrupted; call before the journal writer lists the segments. */
  async recover (): Promise<Recovery> {
    this.recovery = await recoverCompactions(this.opts.dir)
    for (const name of this.recovery.compacted) this.compacted.add(name)
    for (const c of this.recovery.corrupt) {
      this.stats.errors++
      this.stats.lastError = `${c.segment}: ${c.reason}`
    }
    return this.recovery
  }

  /** Starts looking for closed segments to compact. */
  start (): void {
    this.timer = setInterval(() => this.kick(), this.opts.intervalMs ?? 2000).unref()
    this.kick()
  }

  /** Looks for work now (a segment may just have closed). */
  kick (): void {
    if (this.running !== undefined || this.stopped) return
    const next = this.nextSegment()
    if (next === undefined) return
    this.running = next
    void this.compact(next).finally(() => {
      this.running = undefined
      this.kick()
    })
  }

  private nextSegment (): string | undefined {
    const current = this.opts.current()
    const confirmed = this.opts.confirmedBefore?.()
    if (this.opts.confirmedBefore !== undefined && confirmed === undefined) return undefined
    for (const name of this.opts.segments()) {
      if (name >= current || (confirmed !== undefined && name >= confirmed)) return undefined
      if (!this.compacted.has(name) && !this.failed.has(name)) return name
    }
    return undefined
  }

  private async compact (name: string): Promise<void> {
    const reply = await this.ask(name)
    if ('error' in reply) {
      if (this.stopped) return
      if (reply.code === 'ENOENT') {
        // Gone: retention deleted it after the writer listed it (the writer forgets it at the end of the
        // retention pass). Nothing to compact and nothing failed; counting it would report a loss that is none.
        this.compacted.add(name)
        return
      }
      this.failed.add(name)
      this.stats.errors++
      this.stats.lastError = `${name}: ${reply.error}`
      this.opts.onError(name, new Error(reply.error))
      return
    }
    this.compacted.add(name)
    // Deleted by retention mid-way: no compaction happened, so none is counted (nor its bytes).
    if (reply.gone === true) return
    this.stats.segments++
    this.stats.bytesIn += reply.bytesIn
    this.stats.bytesOut += reply.bytesOut
  }

  private async ask (name: string): Promise<CompactReply> {
    const worker = this.worker ?? this.spawn()
    const id = ++this.nextId
    return await new Promise<CompactReply>(resolve => {
      this.pending.set(worker, { id, resolve })
      worker.postMessage({ id, dir: this.opts.dir, name } satisfies CompactRequest)
    })
  }

  private spawn (): Worker {
    const worker = new Worker(this.opts.workerFile ?? join(__dirname, 'compact-worker.js'), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } })
    worker.unref()
    // Pending requests are per worker: a worker that died late ('error', then 'exit') must neither clear
    // its replacement nor answer the replacement's request.
    worker.on('message', (reply: CompactReply) => {
      const p = this.pending.get(worker)
      if (p?.id !== reply.id) return
      this.pending.delete(worker)
      p.resolve(reply)
    })
    const lost = (err: Error): void => {
      // A worker that died takes its compaction with it: the .tmp is deleted at the next start.
      if (this.worker === worker) this.worker = undefined
      const p = this.pending.get(worker)
      this.pending.delete(worker)
      p?.resolve({ id: p.id, error: `the compaction worker stopped: ${err.message}` })
    }
    worker.on('error', lost)
    worker.on('exit', code => lost(new Error(`exit code ${code}`)))
    this.worker = worker
    return worker
  }

  status (): CompactionStatus {
    const damaged = damagedSegments()
    return {
      segments: this.stats.segments,
      bytes_in: this.stats.bytesIn,
      bytes_out: this.stats.bytesOut,
      running: this.running !== undefined,
      segment: this.running ?? null,
      errors: this.stats.errors,
      last_error: this.stats.lastError ?? damaged.last ?? null,
      recovered: { partial: this.recovery.partial, finished: this.recovery.finished, corrupt: this.recovery.corrupt.length },
      damaged_reads: damaged.count
    }
  }

  /** Stops: a compaction in flight is abandoned (its .tmp is deleted at the next start). */
  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }
}
