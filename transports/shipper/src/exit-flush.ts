// One process 'exit' hook for every worker started with `flushOnExit`. At exit the event loop is gone,
// so delivery can only happen in the workers: each is asked to close, then this thread blocks
// (Atomics.wait) until each has settled — delivered, spooled or dropped-and-counted — or its bound has
// passed. The idea of pino's thread-stream flushSync, bounded the same way (≈10 s by default).
import { stderrLine } from './stderr'
import type { ShipperWorker } from './worker-client'

/** Time a worker gets beyond its own closeTimeout to spill to the spool and abort requests in flight. */
export const EXIT_MARGIN_MS = 2000

const live = new Map<ShipperWorker, number>()
let hooked = false

/** Registers a worker for the exit flush; `closeTimeout` is how long its shipper keeps delivering. */
export function flushOnExit (worker: ShipperWorker, closeTimeout: number): void {
  live.set(worker, closeTimeout + EXIT_MARGIN_MS)
  if (!hooked) {
    hooked = true
    process.on('exit', onExit)
  }
}

/** A closed (or dead) worker has nothing left to deliver at exit. */
export function forget (worker: ShipperWorker): void {
  live.delete(worker)
}

function onExit (): void {
  const workers = [...live]
  live.clear()
  for (const [worker, bound] of workers) worker.beginExit(bound)
  for (const [worker, bound] of workers) {
    if (!worker.waitExit()) {
      stderrLine(`maap-shipper: exit flush gave up after ${bound} ms; records not yet delivered or spooled are lost`)
    }
  }
}
