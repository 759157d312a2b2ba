// MAX_EVENT_LOOP_DELAY: how late this process's event loop runs, for the ingest routes' 503 (app.ts).
//
//   perf_hooks monitorEventLoopDelay (a tick every 10 ms) ─► every second: the mean delay of its ticks ─► delayMs
//                                          no tick recorded in that second ─► the second's own length ─┘
//
// The same mean @fastify/under-pressure measures, without its blind spot: the first tick after a reset of
// the histogram records nothing (it has no earlier tick to measure from), so a stall that starts right after
// a sample and outlasts the next one leaves a second with no tick at all, which under-pressure reads as an
// infinite delay (its updateEventLoopDelay turns the empty histogram's NaN mean into Infinity). On a loaded 2-core machine a 1.2 s
// stall (a 20,000-event batch, the process not scheduled) was refused as "event-loop delay Infinity ms, over
// MAX_EVENT_LOOP_DELAY 2000". A second without a tick is one in which the loop ran at most once: its delay
// is that second's length, which is what is reported here.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

/** The histogram's tick (ms), taken off each sample as under-pressure does: a tick on time is no delay. */
const RESOLUTION_MS = 10
const SAMPLE_MS = 1000

export class LoopDelay {
  readonly #histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  readonly #timer: NodeJS.Timeout
  #sampledAt = performance.now()
  #delayMs = 0

  constructor () {
    this.#histogram.enable()
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS).unref()
  }

  /** The event-loop delay (ms) at the last sample. */
  get delayMs (): number {
    return this.#delayMs
  }

  /** Takes a sample now (the timer does, every second). */
  sample (): void {
    const now = performance.now()
    const h = this.#histogram
    this.#delayMs = h.count > 0 ? Math.max(0, h.mean / 1e6 - RESOLUTION_MS) : Math.max(0, now - this.#sampledAt - RESOLUTION_MS)
    h.reset()
    this.#sampledAt = now
  }

  close (): void {
    clearInterval(this.#timer)
    this.#histogram.disable()
  }
}
