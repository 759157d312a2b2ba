// The threads that scan compacted blocks for counts and searches (issue #24: "use both cores for reading"; "a query's
// cost must not block ingest"):
//
//   countJournal (aggregate.ts) ─► count(items) ─► jobs of JOB_ITEMS blocks ─► per query, in turn ─► idle thread
//                                                                                  (scan-worker.ts, lower priority)
//        ◄── summed counts + undecided lines + fallback items ◄── each job's answer ◄──┘
//   budget ends (QUERY_TIMEOUT, client gone) ─► queued jobs dropped, running ones cancelled ─► answered
//                                                  only once every thread has stopped working for it
//   journalBatches (journal-search.ts) ─► session(query) ─► pick(candidate) ─► a job, in turn ─► idle thread
//        ◄── the candidate's picked lines (or undefined: read it in-thread) ◄───────────────────┘
//
// Only admitted queries (admission.ts) call count(), and a thread takes the next job of the next query in
// turn, so the pool never runs more than the admitted queries' work and one heavy count does not hold the
// others back. A thread holds one job, a few decoded blocks at a time — or, for searches, the pick it runs
// and the next (PICKS_PER_THREAD), so it starts that one without waiting for this thread to read its answer
// and hand it a job. Threads start when first needed, are
// unref'd, and a thread that dies hands its job's blocks back to the main thread (the in-thread path), as
// does a pool whose threads cannot start at all.
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { QueryStoppedError, type StopReason } from './budget'
import type { PickedLines, ScanItem, ScanQuery, ScanRange, ScanReply, ScanRequest } from './scan-worker'

export type { PickedLines, ScanItem, ScanQuery, ScanRange } from './scan-worker'

/**
 * Blocks per job: small enough that two threads share a count evenly and a cancel lands within a few
 * milliseconds, large enough that a message per job is nothing beside its scan (~1 ms a block).
 */
export const JOB_ITEMS = 8
/** Threads that died before any answered: past this, the pool stops trying and counts scan in-thread. */
const MAX_START_FAILURES = 3
/**
 * Picks a thread holds at once: the one it runs and the next. A pick takes a thread 2–3 ms; with one at a
 * time the thread idled from its answer until this thread, busy testing and writing the last one's hits,
 * read it and sent the next (an export kept the two threads ~70 % busy). Picks only: a pick runs start to
 * finish in one turn of the thread, a count across turns, where a second job's messages would cross it.
 */
const PICKS_PER_THREAD = 2
/** A thread's JavaScript heap (MB): its blocks live outside it, in buffers of about a MiB each. */
const HEAP_MB = 64

export interface ScanResult {
  /** Per level, per bucket: level × buckets + bucket. */
  counts: Float64Array
  /** [item, start, end] of each line the columns left undecided (item: index into the items given). */
  undecided: number[]
  /** Items whose columns were not there, or whose thread died: the caller reads them itself. */
  fallback: number[]
}

export interface ScanPoolStats {
  /** Threads configured (SCAN_THREADS for this process). */
  threads: number
  /** Threads running now. */
  started: number
  /** Threads working for a count now. */
  busy: number
  /** Blocks the threads have counted since start. */
  blocks: number
  jobs: number
  /** Jobs stopped because their query ended first. */
  cancelled: number
  /** Threads that died (their jobs went back to the main thread). */
  failures: number
}

/** A queued job: a count's run of items (from `offset`), or one search candidate to pick (`picked` set). */
interface Queued {
  offset: number
  items: ScanItem[]
  picked?: (lines: PickedLines | undefined) => void
}

interface Work {
  query: ScanQuery
  /** A count's buckets; undefined for a search's picks (PickSession). */
  range: ScanRange | undefined
  queued: Queued[]
  running: number
  result: ScanResult
  stopped: StopReason | undefined
  settle: () => void
}

interface Job { id: number, work: Work, offset: number, count: number, picked: Queued['picked'] }

interface Thread {
  worker: Worker
  /** What the thread was given and has not answered yet, in order: a count, or up to PICKS_PER_THREAD picks. */
  jobs: Job[]
  answered: boolean
  /** Terminated by close(): its exit is no failure. */
  closing: boolean
}

/** A search's picks in the threads (ScanPool.session). */
export interface PickSession {
  pick: (item: ScanItem) => Promise<PickedLines | undefined>
  close: () => void
}

export class ScanPool {
  private readonly threads: Thread[] = []
  private readonly works: Work[] = []
  private turn = 0
  private nextId = 0
  private startFailures = 0
  private readonly stats = { blocks: 0, jobs: 0, cancelled: 0, failures: 0 }

  constructor (readonly size: number, private readonly file = join(__dirname, 'scan-worker.js')) {}

  /** Whether counts go to the threads (else they scan in-thread). */
  get usable (): boolean {
    return this.size > 0 && this.startFailures < MAX_START_FAILURES
  }

  status (): ScanPoolStats {
    return { threads: this.size, started: this.threads.length, busy: this.threads.filter(t => t.jobs.length > 0).length, ...this.stats }
  }

  /**
   * Counts `items` over `range` for `query` in the threads. Rejects with QueryStoppedError when `signal`
   * aborts (its reason the stop's), once no thread works for this count any more.
   */
  async count (items: readonly ScanItem[], query: ScanQuery, range: ScanRange, signal: AbortSignal): Promise<ScanResult> {
    const result: ScanResult = { counts: new Float64Array(CANONICAL_LEVELS.length * range.buckets), undecided: [], fallback: [] }
    if (items.length === 0) return result
    if (signal.aborted) throw new QueryStoppedError(signal.reason as StopReason)
    let settle!: () => void
    const over = new Promise<void>(resolve => { settle = resolve })
    const work: Work = { query, range, queued: [], running: 0, result, stopped: undefined, settle }
    for (let i = 0; i < items.length; i += JOB_ITEMS) work.queued.push({ offset: i, items: items.slice(i, i + JOB_ITEMS) })
    const onAbort = (): void => {
      work.stopped = signal.reason as StopReason
      work.queued.length = 0
      for (const t of this.threads) for (const job of t.jobs) if (job.work === work) t.worker.postMessage({ code: 'cancel', id: job.id } satisfies ScanRequest)
      this.check(work)
    }
    signal.addEventListener('abort', onAbort)
    this.works.push(work)
    try {
      this.dispatch()
      await over
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.works.splice(this.works.indexOf(work), 1)
    }
    if (work.stopped !== undefined) throw new QueryStoppedError(work.stopped)
    return result
  }

  /** Terminates the threads (the pool starts new ones if asked again); a count still running gets its blocks back. */
  async close (): Promise<void> {
    await Promise.all(this.threads.map(async t => {
      t.closing = true
      await t.worker.terminate()
    }))
  }

  /**
   * A search's session: `pick(item)` has a thread take the candidate's lines its columns pick (scan-worker.ts
   * `pick`); undefined when the thread could not (the caller reads the candidate itself). Picks wait their
   * turn with the other queries' jobs. `close()` when the search ends: picks still queued then answer
   * undefined, and the threads may let their segments go.
   */
  session (query: ScanQuery): PickSession {
    const work: Work = { query, range: undefined, queued: [], running: 0, result: { counts: new Float64Array(0), undecided: [], fallback: [] }, stopped: undefined, settle: () => {} }
    this.works.push(work)
    let open = true
    return {
      pick: async (item: ScanItem) => {
        if (!open) return undefined
        return await new Promise<PickedLines | undefined>(resolve => {
          work.queued.push({ offset: 0, items: [item], picked: resolve })
          this.dispatch()
        })
      },
      close: () => {
        if (!open) return
        open = false
        for (const q of work.queued.splice(0)) q.picked!(undefined)
        this.works.splice(this.works.indexOf(work), 1)
        this.releaseIfIdle()
      }
    }
  }

  /** No query but `except` left: the threads close the segments they hold open (retention may delete them). */
  private releaseIfIdle (except?: Work): void {
    if (this.works.every(w => w === except || (w.range !== undefined && w.running === 0 && w.queued.length === 0))) {
      for (const t of this.threads) t.worker.postMessage({ code: 'release' } satisfies ScanRequest)
    }
  }

  private check (work: Work): void {
    if (work.running !== 0 || work.queued.length !== 0) return
    work.settle()
    // A search's session is not over when its picks so far are: it lets go when it closes.
    if (work.range !== undefined) this.releaseIfIdle(work)
  }

  /** Gives idle threads the next job of each query in turn, starting threads as needed. */
  private dispatch (): void {
    for (;;) {
      const waiting = this.works.filter(w => w.queued.length > 0)
      if (waiting.length === 0) return
      let thread = this.threads.find(t => t.jobs.length === 0)
      if (thread === undefined && this.threads.length < this.size && this.usable) thread = this.start()
      // (start() gives none when the thread could not even be made.)
      if (thread === undefined && this.threads.length === 0) {
        // No thread at all (they cannot start): the blocks go back to the caller.
        for (const w of waiting) this.giveBack(w)
        return
      }
      // Every thread busy: a thread running a pick takes a search's next pick too.
      const searches = waiting.filter(w => w.range === undefined)
      thread ??= searches.length === 0 ? undefined : this.threads.find(t => t.jobs.length < PICKS_PER_THREAD && t.jobs[0]!.picked !== undefined)
      if (thread === undefined) return
      const choice = thread.jobs.length === 0 ? waiting : searches
      const work = choice[this.turn++ % choice.length]!
      const { offset, items, picked } = work.queued.shift()!
      const id = ++this.nextId
      thread.jobs.push({ id, work, offset, count: items.length, picked })
      work.running++
      this.stats.jobs++
      thread.worker.postMessage((work.range === undefined
        ? { code: 'pick', id, query: work.query, item: items[0]! }
        : { code: 'count', id, query: work.query, range: work.range, items }) satisfies ScanRequest)
    }
  }

  /** Every queued job of `work` back to its caller, to read in-thread. */
  private giveBack (work: Work): void {
    for (const { offset, items, picked } of work.queued.splice(0)) {
      if (picked !== undefined) picked(undefined)
      else for (let k = 0; k < items.length; k++) work.result.fallback.push(offset + k)
    }
    this.check(work)
  }

  private start (): Thread | undefined {
    let worker: Worker
    try {
      worker = new Worker(this.file, { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } })
    } catch {
      // Threads cannot be made here (too many, or a runtime without them): counts scan in-thread.
      this.startFailures = MAX_START_FAILURES
      return undefined
    }
    worker.unref()
    const thread: Thread = { worker, jobs: [], answered: false, closing: false }
    this.threads.push(thread)
    worker.on('message', (reply: ScanReply) => this.answer(thread, reply))
    let lost = false
    const onLost = (): void => {
      if (lost) return
      lost = true
      this.threads.splice(this.threads.indexOf(thread), 1)
      if (!thread.closing) {
        this.stats.failures++
        if (!thread.answered) this.startFailures++
      }
      for (const job of thread.jobs.splice(0)) {
        // Its blocks are read in-thread: nothing lost, nothing counted twice (the job's counts never came).
        if (job.picked !== undefined) job.picked(undefined)
        else for (let k = 0; k < job.count; k++) job.work.result.fallback.push(job.offset + k)
        job.work.running--
        this.check(job.work)
      }
      this.dispatch()
    }
    worker.on('error', onLost)
    worker.on('exit', onLost)
    return thread
  }

  private answer (thread: Thread, reply: ScanReply): void {
    // A thread answers its jobs in the order it was given them.
    const job = thread.jobs[0]
    if (job?.id !== reply.id) return
    thread.jobs.shift()
    thread.answered = true
    const { work } = job
    work.running--
    if (reply.code === 'picked') {
      this.stats.blocks += reply.blocks
      const p = reply.picked
      // A buffer crosses threads as a plain Uint8Array: a Buffer again over the same memory.
      if (p !== undefined) p.lines = Buffer.from(p.lines.buffer, p.lines.byteOffset, p.lines.byteLength)
      job.picked!(p)
    } else if (job.picked !== undefined) {
      // A pick that failed (an fs error, say): the candidate is read in-thread, which reports what is wrong.
      job.picked(undefined)
    } else if (reply.code === 'done') {
      this.stats.blocks += reply.blocks
      const counts = reply.counts
      for (let i = 0; i < counts.length; i++) work.result.counts[i]! += counts[i]!
      for (let i = 0; i < reply.undecided.length; i += 3) work.result.undecided.push(job.offset + reply.undecided[i]!, reply.undecided[i + 1]!, reply.undecided[i + 2]!)
      for (const k of reply.fallback) work.result.fallback.push(job.offset + k)
    } else if (reply.code === 'cancelled') {
      this.stats.blocks += reply.blocks
      this.stats.cancelled++
    } else {
      // A job that failed (an fs error, say): its blocks are read in-thread, which reports what is wrong.
      for (let k = 0; k < job.count; k++) work.result.fallback.push(job.offset + k)
    }
    this.check(work)
    this.dispatch()
  }
}

let shared: ScanPool | undefined

/** Sets the process's pool to `threads` threads (0: counts scan in-thread); a pool of another size is closed. */
export function configureScanPool (threads: number, file?: string): void {
  if (shared?.size === threads && file === undefined) return
  void shared?.close()
  shared = threads > 0 ? new ScanPool(threads, file) : undefined
}

/** Terminates the process's scan threads (at shutdown: a thread's port must not keep the process up); a later count starts new ones. */
export async function closeScanPool (): Promise<void> {
  await shared?.close()
}

/** The process's pool, when one is configured and its threads can start. */
export function scanPool (): ScanPool | undefined {
  return shared?.usable === true ? shared : undefined
}
