// The exit path of a shipper that runs in the application's own thread (pino's maapDestination, the
// winston transport without a worker). Unlike a worker, it cannot deliver once the event loop is gone:
//
//   event loop runs empty ('beforeExit') ─► close() each open one ─► delivers (≤ closeTimeout) ─► exit
//   process.exit() ('exit', no loop any more) ─► a stderr line per shipper with records still held
//
// Serverless code never reaches either (the platform freezes the process instead): it awaits flush().
import type { ShipperStats } from './stats'
import { noticeLine } from './notices'

export interface LoopEndTarget {
  close: () => Promise<unknown>
  stats: () => ShipperStats
}

const open = new Map<LoopEndTarget, string>()
let hooked = false

/** Closes `target` when the event loop runs empty; `prefix` names it on stderr. Returns what forgets it (call it on close). */
export function closeAtLoopEnd (target: LoopEndTarget, prefix: string): () => void {
  open.set(target, prefix)
  if (!hooked) {
    hooked = true
    process.on('beforeExit', closeAll)
    process.on('exit', reportHeld)
  }
  return () => { open.delete(target) }
}

function closeAll (): void {
  const targets = [...open.entries()]
  open.clear()
  // close() holds the loop until it is done; then 'beforeExit' comes again, with nothing left to close.
  // A close that fails (it should not) is told on stderr: an unhandled rejection would crash the
  // application on its way out.
  for (const [target, prefix] of targets) {
    let closing: Promise<unknown>
    try { closing = target.close() } catch (err) { closing = Promise.reject(err) }
    closing.catch(err => noticeLine(prefix, `closing at exit failed: ${String((err as Error)?.message ?? err)}`))
  }
}

function reportHeld (): void {
  for (const [target, prefix] of open) {
    const { queued } = target.stats()
    if (queued > 0) noticeLine(prefix, `process exited with ${queued} records not delivered; await flush() before exiting`)
  }
}
