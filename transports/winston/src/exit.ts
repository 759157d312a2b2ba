// One process 'exit' hook for every live transport. At exit the event loop is gone, so delivery can
// only happen in the workers: each is asked to close, then this thread blocks (Atomics.wait) until
// each has settled — delivered, spooled or dropped-and-counted — or its bound has passed. The same
// idea as pino's thread-stream flushSync, bounded the same way (≈10 s by default).
import { stderrLine } from './stderr'
import type { ShipperThread } from './thread'

/** Time the worker gets beyond its own closeTimeout to spill to the spool and abort requests in flight. */
export const EXIT_MARGIN_MS = 2000

const live = new Map<ShipperThread, number>()
let hooked = false

/** Registers a thread for the exit flush; `closeTimeout` is how long its shipper keeps delivering. */
export function flushOnExit (thread: ShipperThread, closeTimeout: number): void {
  live.set(thread, closeTimeout + EXIT_MARGIN_MS)
  if (!hooked) {
    hooked = true
    process.on('exit', onExit)
  }
}

/** A closed transport has nothing left to deliver at exit. */
export function forget (thread: ShipperThread): void {
  live.delete(thread)
}

function onExit (): void {
  const threads = [...live]
  live.clear()
  for (const [thread, bound] of threads) thread.beginExit(bound)
  for (const [thread, bound] of threads) {
    if (!thread.waitExit()) {
      stderrLine(`maap-winston: exit flush gave up after ${bound} ms; records not yet delivered or spooled are lost`)
    }
  }
}
