// The worker side of a shipper that lives in a worker thread (entry.ts, or any host that builds its
// own thread): messages in (protocol.ts), replies matched by id out. The application thread only
// serialises records; mapping, batching and I/O all happen here.
//
// Every message comes through the one port, in order, so EXIT is handled after every WRITE before it.

import type { MessagePort } from 'node:worker_threads'
import type { ShipperError } from '../errors'
import type { ShipperOptions } from '../options'
import { Shipper } from '../shipper'
import { errorToData, FORWARDED, plain, unknownMessage, type HostMessage, type HostReply } from './protocol'

/**
 * Runs a Shipper behind `port`; returns it (for tests and for hosts that add their own messages).
 * `onSettled` runs once the shipper has closed (CLOSE, before the reply leaves, or EXIT). `prefix`
 * names the sender in the stderr lines printed from this thread.
 */
export function hostShipper (port: MessagePort, options: Omit<ShipperOptions, 'onError'>, onSettled: () => void = () => {}, prefix?: string): Shipper {
  const shipper = new Shipper(options, process.env, prefix === undefined ? {} : { prefix })
  const post = (reply: HostReply): void => port.postMessage(reply)
  // Listened to here, so the core never prints unheard errors itself: the application thread decides.
  shipper.on('error', (err: ShipperError) => post({ code: 'EVENT', name: 'error', data: errorToData(err) }))
  for (const name of FORWARDED) {
    shipper.on(name, (data: unknown) => post({ code: 'EVENT', name, data: plain(data) }))
  }
  port.on('message', (msg: HostMessage) => {
    switch (msg?.code) {
      case 'WRITE':
        for (const line of msg.lines) shipper.write(line)
        return
      case 'FLUSH':
        shipper.flush(msg.timeoutMs).then(stats => post({ code: 'FLUSHED', id: msg.id, stats, own: shipper.ownTotals() }))
        return
      case 'CLOSE':
        shipper.close().then(stats => {
          // Settle before the reply leaves: an exit flush that missed CLOSED must not wait for nothing.
          onSettled()
          post({ code: 'CLOSED', id: msg.id, stats, own: shipper.ownTotals() })
          port.close()
        })
        return
      case 'EXIT':
        // close() is idempotent: an exit during a close() waits for the same close.
        shipper.close().then(onSettled, onSettled)
        return
      default:
        // The two sides disagree on the protocol: say so loudly, on the application thread.
        post({ code: 'EVENT', name: 'error', data: errorToData(unknownMessage('worker', msg)) })
    }
  })
  return shipper
}
