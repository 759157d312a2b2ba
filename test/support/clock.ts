// A clock the test moves by hand (the shipper's Clock, clock.ts): timers fire only in advance(), in
// the order they are due, so retry pauses, Retry-After, close deadlines and drop-line seconds are
// checked without waiting for real time — and without racing it.
import type { Clock } from '@maap-event-logger/shipper'

interface Timer { at: number, fn: () => void, seq: number }

export class FakeClock implements Clock {
  #now: number
  #seq = 0
  readonly #timers = new Set<Timer>()
  /** Each timer's length as it was asked for, in order: what a test checks instead of measuring time. */
  readonly requested: number[] = []

  constructor (start = 1_700_000_000_000) {
    this.#now = start
  }

  now = (): number => this.#now

  timer = (fn: () => void, ms: number): (() => void) => {
    const t: Timer = { at: this.#now + ms, fn, seq: this.#seq++ }
    this.#timers.add(t)
    this.requested.push(ms)
    return () => { this.#timers.delete(t) }
  }

  /** Timers not yet fired nor cancelled. */
  get pending (): number { return this.#timers.size }

  /** Moves time on by `ms`, firing every timer that comes due, earliest first. */
  advance (ms: number): void {
    const end = this.#now + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.#timers) if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      if (next === undefined) break
      this.#timers.delete(next)
      this.#now = Math.max(this.#now, next.at)
      next.fn()
    }
    this.#now = end
  }
}
