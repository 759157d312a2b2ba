// How much reading one process takes on at once (GET /logs, /logs/histogram, /logs/values, /logs/fields;
// not tails, which MAX_TAIL_CLIENTS bounds, and not ingest):
//
//   request ─► a slot free? ──yes──► run (QUERY_CONCURRENCY at most), with a QueryBudget (QUERY_TIMEOUT)
//                 │ no
//                 ├─ fewer than QUERY_QUEUE waiting ─► wait, first come first served, ≤ QUERY_QUEUE_WAIT
//                 │                                      ├─ a slot frees: run
//                 │                                      ├─ waited too long: 503 MAAP_TOO_MANY_QUERIES
//                 │                                      └─ client gone: dropped (aborted)
//                 └─ queue full ─► 503 MAAP_TOO_MANY_QUERIES + Retry-After
//
// A query that runs only interleaves with the others on the process's one JavaScript thread: past a
// couple at a time, more running queries finish no sooner, each holds its buffers and heap longer, and
// ingest and the tails get a smaller share. Refusing early (VictoriaLogs' -search.maxConcurrentRequests
// and -search.maxQueueDuration do the same) keeps memory and latency bounded; the client is told when to
// come back. Every outcome is counted (/status.queries, /metrics).
import { TooManyQueriesError } from '../errors'
import { QueryBudget, QueryStoppedError } from './budget'

export interface AdmissionLimits {
  concurrency: number
  queue: number
  /** How long a query may wait for a slot (ms). */
  queueWaitMs: number
  /** A query's time budget from when it starts running (ms; 0: none). */
  timeoutMs: number
  /** An NDJSON export's (ms; 0: none): an export is as long as what it matches, so it has its own. */
  exportTimeoutMs: number
}

export interface QueriesStatus {
  concurrency: number
  queue: number
  running: number
  queued: number
  /** Queries that ran to their answer. */
  answered: number
  /** Answered 503 MAAP_TOO_MANY_QUERIES: queue full, or waited past QUERY_QUEUE_WAIT. */
  refused: number
  /** Cut short by QUERY_TIMEOUT: a partial page, a 504, or an export cut off. */
  timed_out: number
  /** Stopped because the client went away (while running or waiting). */
  aborted: number
}

interface Waiter {
  resolve: (ticket: QueryTicket) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
  gone: AbortSignal
  /** Its budget once it runs (ms; 0: none). */
  timeoutMs: number
  onGone: () => void
}

/** A running query's slot and budget: finish() it exactly once, whatever happened. */
export class QueryTicket {
  readonly budget: QueryBudget
  private readonly timer: NodeJS.Timeout | undefined
  private done = false

  constructor (private readonly admission: QueryAdmission, timeoutMs: number, private readonly gone: AbortSignal) {
    this.budget = new QueryBudget(timeoutMs > 0 ? performance.now() + timeoutMs : Infinity)
    // The clock is read at each check of a scan; the timer stops a query that waits on its client instead.
    this.timer = timeoutMs > 0 ? setTimeout(() => this.budget.stop('time budget'), timeoutMs).unref() : undefined
    // Never aborted yet: admit() refuses a client already gone, and drops a waiter the moment its goes.
    gone.addEventListener('abort', this.onGone)
  }

  private readonly onGone = (): void => { this.budget.stop('client closed') }

  /** Frees the slot and counts the outcome: how the budget was stopped, else answered. */
  finish (): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    this.gone.removeEventListener('abort', this.onGone)
    this.admission.release(this.budget.stopReason)
  }
}

export class QueryAdmission {
  private running = 0
  private readonly waiting: Waiter[] = []
  private answered = 0
  private refused = 0
  private timedOut = 0
  private aborted = 0

  constructor (readonly limits: Readonly<AdmissionLimits>) {}

  /**
   * A slot for one query, now or after a short wait; `gone` fires when the client goes away. Throws
   * TooManyQueriesError when refused, QueryStoppedError when the client left while waiting. `timeoutMs`
   * is the budget once it runs (default QUERY_TIMEOUT's).
   */
  async admit (gone: AbortSignal, timeoutMs = this.limits.timeoutMs): Promise<QueryTicket> {
    if (gone.aborted) {
      this.aborted++
      throw new QueryStoppedError('client closed')
    }
    if (this.running < this.limits.concurrency && this.waiting.length === 0) {
      this.running++
      return new QueryTicket(this, timeoutMs, gone)
    }
    if (this.waiting.length >= this.limits.queue) {
      this.refused++
      throw new TooManyQueriesError(`${this.running} queries running (QUERY_CONCURRENCY) and ${this.waiting.length} waiting (QUERY_QUEUE)`)
    }
    return await new Promise<QueryTicket>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        gone,
        timeoutMs,
        timer: setTimeout(() => {
          this.drop(waiter)
          this.refused++
          reject(new TooManyQueriesError(`no query slot came free within QUERY_QUEUE_WAIT (${this.limits.queueWaitMs / 1000} s; ${this.running} running)`))
        }, this.limits.queueWaitMs).unref(),
        onGone: () => {
          this.drop(waiter)
          this.aborted++
          reject(new QueryStoppedError('client closed'))
        }
      }
      gone.addEventListener('abort', waiter.onGone)
      this.waiting.push(waiter)
    })
  }

  private drop (w: Waiter): void {
    clearTimeout(w.timer)
    w.gone.removeEventListener('abort', w.onGone)
    const i = this.waiting.indexOf(w)
    if (i !== -1) this.waiting.splice(i, 1)
  }

  /** A query ended (QueryTicket.finish): count it, and hand its slot to the longest waiting. */
  release (stopped: 'time budget' | 'client closed' | undefined): void {
    if (stopped === 'time budget') this.timedOut++
    else if (stopped === 'client closed') this.aborted++
    else this.answered++
    const next = this.waiting.shift()
    if (next === undefined) {
      this.running--
      return
    }
    this.drop(next)
    next.resolve(new QueryTicket(this, next.timeoutMs, next.gone))
  }

  status (): QueriesStatus {
    return {
      concurrency: this.limits.concurrency,
      queue: this.limits.queue,
      running: this.running,
      queued: this.waiting.length,
      answered: this.answered,
      refused: this.refused,
      timed_out: this.timedOut,
      aborted: this.aborted
    }
  }
}
