// Worker-thread entry of MaapTransport: the shipper's own host (hostShipper: WRITE / FLUSH / CLOSE) plus
// the one thing winston needs that the host does not have — an exit flush the application thread can
// wait for synchronously, because at process 'exit' it cannot receive messages any more.
//
//   app thread ──WRITE / FLUSH / CLOSE──► shim ─► hostShipper ─► Shipper ─► collector
//              ──EXIT──────────────────► Shipper.close() ─► settled ─► Atomics.notify(state)
//
// Every message comes through parentPort, in order, so EXIT is handled after every WRITE posted before
// it. The shim hands the rest to hostShipper unchanged (it would report EXIT as a protocol error).
import { EventEmitter } from 'node:events'
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { hostShipper, type HostReply, type ShipperOptions } from '@maap-event-logger/shipper'
import { SETTLED, type WorkerData } from './protocol'

if (parentPort === null) throw new Error('@maap-event-logger/winston-transport worker must run in a worker thread')
const port = parentPort
const { options, state } = workerData as WorkerData
const flag = new Int32Array(state)

// Tells an application thread blocked in its exit handler that nothing more will be delivered.
const settle = (): void => {
  Atomics.store(flag, 0, SETTLED)
  Atomics.notify(flag, 0)
}

const shim = new EventEmitter() as EventEmitter & Pick<MessagePort, 'postMessage' | 'close'>
shim.postMessage = (reply: HostReply) => {
  // Settle before the reply leaves: an exit handler that missed CLOSED must not wait for nothing.
  if (reply.code === 'CLOSED') settle()
  port.postMessage(reply)
}
shim.close = () => port.close()

const shipper = hostShipper(shim as unknown as MessagePort, options as Omit<ShipperOptions, 'onError'>)

port.on('message', (msg: { code?: string }) => {
  if (msg?.code === 'EXIT') {
    // close() is idempotent: an exit during logger.end() waits for the same close.
    shipper.close().then(settle, settle)
    return
  }
  shim.emit('message', msg)
})
// A worker that dies for any reason must not leave the application waiting out the whole bound.
process.on('exit', settle)
