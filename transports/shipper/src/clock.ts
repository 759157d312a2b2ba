// Time, as the shipper sees it: the batch interval, retry pauses, the close deadline, flush timeouts and
// the once-a-second drop line all ask this, so a test can hand in a clock it moves by hand and check
// retries, Retry-After and close deadlines without waiting for real time to pass.

export interface Clock {
  now: () => number
  /**
   * Runs `fn` after `ms`; returns what cancels it. An unref'd timer (`ref` false) never keeps the process
   * alive: the shipper's own timers are all unref'd, only waits the caller asked for (close, a flush
   * with a timeout) hold the process.
   */
  timer: (fn: () => void, ms: number, ref: boolean) => () => void
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  timer: (fn: () => void, ms: number, ref: boolean) => {
    const t = setTimeout(fn, ms)
    if (!ref) t.unref()
    return () => clearTimeout(t)
  }
})

/** Resolves after `ms` on `clock` (a held wait: see Clock.timer); `cancel` ends it early without resolving. */
export function sleep (clock: Clock, ms: number): { done: Promise<void>, cancel: () => void } {
  let cancel = (): void => {}
  const done = new Promise<void>(resolve => { cancel = clock.timer(resolve, ms, true) })
  return { done, cancel }
}
