// Worker-thread entry point: `new Worker(require.resolve('@maap-event-logger/shipper/worker'),
// { workerData: { options } })`. See worker-client.ts for the application-thread side.
import { parentPort, workerData } from 'node:worker_threads'
import { hostShipper } from './worker-host'

if (parentPort === null) throw new Error('@maap-event-logger/shipper/worker must run in a worker thread')
hostShipper(parentPort, (workerData as { options?: object } | undefined)?.options ?? {})
