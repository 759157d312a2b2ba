// Worker-thread entry point: `new Worker(require.resolve('@maap-event-logger/shipper/worker'),
// { workerData: { options, state?, prefix? } })` (WorkerData in protocol.ts). app-side.ts is the
// application-thread side; `state`, when given, is the flag its exit flush waits on.
import { parentPort, workerData } from 'node:worker_threads'
import { SETTLED, type HostReply, type WorkerData } from './protocol'
import { hostShipper } from './worker-side'

if (parentPort === null) throw new Error('@maap-event-logger/shipper/worker must run in a worker thread')
const { options = {}, state, prefix } = (workerData ?? {}) as WorkerData
const flag = state === undefined ? undefined : new Int32Array(state)

// Tells an application thread blocked in its exit flush that nothing more will be delivered.
const settle = (): void => {
  if (flag === undefined) return
  Atomics.store(flag, 0, SETTLED)
  Atomics.notify(flag, 0)
}

hostShipper(parentPort, options, settle, prefix)
// Everything loaded: a failure from here on may follow delivered records, so it is no longer one the
// application thread can recover from by shipping the lines itself (app-side.ts, onUnstarted).
parentPort.postMessage({ code: 'READY' } satisfies HostReply)
// A worker that dies for any reason must not leave the application waiting out the whole bound.
process.on('exit', settle)
