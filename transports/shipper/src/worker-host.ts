// The worker side of a shipper that lives in a worker thread (winston's MaapTransport, or any host):
// small `{ code }` messages in, replies matched by id out (thread-stream's pattern). The application
// thread only serialises records; mapping, batching and I/O all happen here.
//
//   app thread ──WRITE{lines}──► hostShipper ─► Shipper ─► collector
//              ◄─FLUSHED{id,stats} / CLOSED{id,stats} / EVENT{name,data}──

import type { MessagePort } from 'node:worker_threads'
import { Shipper } from './shipper'
import type { ShipperOptions } from './options'
import type { ShipperStats } from './stats'

export type HostMessage =
  | { code: 'WRITE', lines: string[] }
  | { code: 'FLUSH', id: number, timeoutMs?: number }
  | { code: 'CLOSE', id: number }

export type HostReply =
  | { code: 'FLUSHED', id: number, stats: ShipperStats }
  | { code: 'CLOSED', id: number, stats: ShipperStats }
  /** A shipper event ('error', 'dropped', 'rejected', 'spooled', 'retry', 'sent'), with plain-data payload. */
  | { code: 'EVENT', name: string, data: unknown }

const FORWARDED = ['dropped', 'rejected', 'spooled', 'retry', 'sent'] as const

/** Runs a Shipper behind `port`; returns it (for tests and for hosts that add their own messages). */
export function hostShipper (port: MessagePort, options: Omit<ShipperOptions, 'onError'>): Shipper {
  const shipper = new Shipper(options)
  const post = (reply: HostReply): void => port.postMessage(reply)
  shipper.on('error', (err: Error & { code?: string, records?: number, status?: number }) => {
    post({ code: 'EVENT', name: 'error', data: { code: err.code, message: err.message, records: err.records, status: err.status } })
  })
  for (const name of FORWARDED) {
    shipper.on(name, (data: unknown) => post({ code: 'EVENT', name, data: plain(data) }))
  }
  port.on('message', (msg: HostMessage) => {
    switch (msg?.code) {
      case 'WRITE':
        for (const line of msg.lines) shipper.write(line)
        return
      case 'FLUSH':
        shipper.flush(msg.timeoutMs).then(stats => post({ code: 'FLUSHED', id: msg.id, stats }))
        return
      case 'CLOSE':
        shipper.close().then(stats => {
          post({ code: 'CLOSED', id: msg.id, stats })
          port.close()
        })
        return
      default:
        // An unknown message means the two sides disagree on the protocol: say so loudly.
        post({ code: 'EVENT', name: 'error', data: { code: 'MAAP_SHIP_PROTOCOL', message: `unknown message ${JSON.stringify(msg)}` } })
    }
  })
  return shipper
}

// Errors inside event payloads (retry) do not survive structured cloning as ShipperError; send text.
function plain (data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(data)) out[k] = v instanceof Error ? v.message : v
  return out
}
