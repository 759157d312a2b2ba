// One process 'exit' hook for every worker started with `flushOnExit`. At exit the event loop is gone,
// so delivery can only happen in the workers: each is asked to close, then this thread blocks
// (Atomics.wait) until each has settled — delivered, spooled or dropped-and-counted — or its bound has
// passed. The idea of pino's thread-stream flushSync, bounded the same way (≈10 s by default).

/** Time a worker gets beyond its own closeTimeout to spill to the spool and abort requests in flight. */
export const EXIT_MARGIN_MS = 2000

/** What the exit hook needs of a worker (app-side.ts): start closing, then wait for it. */
export interface ExitFlushable {
  /** Step 1 (synchronous): hand over what is queued and ask the worker to close within `boundMs`. */
  beginExit: (boundMs: number) => void
  /** Step 2: block until the worker has settled; false when the bound passed first. */
  waitExit: () => boolean
  /** Says that the exit flush gave up (on stderr, under the worker's name). */
  gaveUp: (boundMs: number) => void
}

const live = new Map<ExitFlushable, number>()
let hooked = false

/** Registers a worker for the exit flush; `closeTimeout` is how long its shipper keeps delivering. */
export function flushOnExit (worker: ExitFlushable, closeTimeout: number): void {
  live.set(worker, closeTimeout + EXIT_MARGIN_MS)
  if (!hooked) {
    hooked = true
    process.on('exit', onExit)
  }
}

/** A closed (or dead) worker has nothing left to deliver at exit. */
export function forget (worker: ExitFlushable): void {
  live.delete(worker)
}

function onExit (): void {
  const workers = [...live]
  live.clear()
  // Every worker starts before any waits, so several deliver in parallel.
  for (const [worker, bound] of workers) worker.beginExit(bound)
  for (const [worker, bound] of workers) {
    if (!worker.waitExit()) worker.gaveUp(bound)
  }
}
