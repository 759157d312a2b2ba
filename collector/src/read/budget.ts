// What one query may still spend, checked by the scan loops between chunks of work (a journal block):
//
//   admission.ts ──deadline (QUERY_TIMEOUT), client gone──► QueryBudget
//   scan loop: read a block ─► scan it ─► budget.pace() ─┬─ stopped or past the deadline: QueryStoppedError
//                                                        ├─ ~SLICE_MS of work since the last turn: setImmediate
//                                                        └─ else: go on (no promise, no allocation)
//
// The slice is why ingest and the tails keep their share of a process whatever its queries do: a scan
// gives the event loop back at least every SLICE_MS, so an ingest request or a tail write waits behind
// at most one slice of one query, never behind a whole scan. The deadline is read from the clock at each
// check (a timer alone only fires once the scan yields); the timer (admission.ts) covers a query that
// waits rather than scans, e.g. an export whose client does not read.
import { setImmediate as turn } from 'node:timers/promises'

export type StopReason = 'time budget' | 'client closed'

/** Raised inside a scan that must stop; the route turns it into its answer (a partial page, a 504, nothing). */
export class QueryStoppedError extends Error {
  constructor (readonly reason: StopReason) {
    super(`query stopped: ${reason}`)
    this.name = 'QueryStoppedError'
  }
}

/** Work between two turns of the event loop, at most (ms). */
export const SLICE_MS = 10

export class QueryBudget {
  private stoppedBy: StopReason | undefined
  private sliceStart: number
  private readonly controller = new AbortController()

  /**
   * `deadline`: performance.now() time past which the query stops (Infinity: never); `now`: the clock
   * (tests pass their own, so pacing is asserted without depending on how fast the machine is).
   */
  constructor (readonly deadline: number = Infinity, private readonly now: () => number = () => performance.now()) {
    this.sliceStart = now()
  }

  /** Aborted when the query is stopped (its reason in `signal.reason`): wakes what waits instead of scanning. */
  get signal (): AbortSignal {
    return this.controller.signal
  }

  /** Why the query was stopped, if it was. */
  get stopped (): StopReason | undefined {
    if (this.stoppedBy === undefined && this.now() >= this.deadline) this.stop('time budget')
    return this.stoppedBy
  }

  /** Why the query was stopped, as far as stop() was called (the clock not read): how its end is counted. */
  get stopReason (): StopReason | undefined {
    return this.stoppedBy
  }

  stop (reason: StopReason): void {
    if (this.stoppedBy !== undefined) return
    this.stoppedBy = reason
    this.controller.abort(reason)
  }

  /**
   * Milliseconds left (Infinity without a deadline), for a server-side limit such as MongoDB's maxTimeMS;
   * none once stopped. (The deadline's timer may fire a fraction of a millisecond before the clock reaches
   * it: the event loop counts time in whole milliseconds.)
   */
  remainingMs (): number {
    return this.stoppedBy !== undefined ? 0 : Math.max(this.deadline - this.now(), 0)
  }

  /**
   * `err` as the stop it stands for: itself when it is one; any other error once the budget has ended
   * (MongoDB's maxTimeMS is what was left of it, so its error means the same); else undefined.
   */
  stopOf (err: unknown): QueryStoppedError | undefined {
    if (err instanceof QueryStoppedError) return err
    const reason = this.stopped
    return reason === undefined ? undefined : new QueryStoppedError(reason)
  }

  /** Throws QueryStoppedError once the query is stopped; cheap enough to call per event. */
  check (): void {
    const reason = this.stopped
    if (reason !== undefined) throw new QueryStoppedError(reason)
  }

  /**
   * Between two chunks of work: throws once the query is stopped; a promise to await when the scan has
   * held the event loop for SLICE_MS (then it yields a turn), else undefined.
   */
  pace (): Promise<void> | undefined {
    this.check()
    if (this.now() - this.sliceStart < SLICE_MS) return undefined
    return this.yieldTurn()
  }

  private async yieldTurn (): Promise<void> {
    await turn()
    this.sliceStart = this.now()
    this.check()
  }
}
