// The collector side of the shipping end-to-end tests: flush what it journaled into MongoDB. The
// application side (apps, the CLI, child processes, stderr counts) is in the shared test support
// (test/support), re-exported here for tests written against this module.
import type { RunningCollector } from './collector'

export { droppedOnStderr, maapShip, pinoApp, startApp, winstonApp, type AppProcess } from '../support'

/**
 * Asks the collector to flush to MongoDB until it has nothing left, then counts. No timing involved:
 * each force-flush returns once its flush is done.
 */
export async function flushCollector (collector: RunningCollector): Promise<void> {
  for (;;) {
    const res = await fetch(`${collector.url}/force-flush`, { method: 'POST' })
    const body = await res.json() as { message?: string }
    if (res.status !== 200) throw new Error(`force-flush answered ${res.status}: ${JSON.stringify(body)}`)
    // The reply keeps the original service's shape: the count is only in its message.
    if (Number(/^Flushed (\d+) logs/.exec(body.message ?? '')?.[1]) === 0) return
  }
}
