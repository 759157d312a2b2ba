// The worker side of a shipper that lives in a worker thread (worker.ts, or any host that builds its
// own thread): small `{ code }` messages in, replies matched by id out (thread-stream's pattern). The
// application thread only serialises records; mapping, batching and I/O all happen here.
//
//   app thread ──WRITE{lines}──► hostShipper ─► Shipper ─► collector
//              ◄─FLUSHED{id,stats} / CLOSED{id,stats} / EVENT{name,data}──
//              ──EXIT──► Shipper.close() ─► onSettled (the exit flush, see exit-flush.ts)
//
// Every message comes through the one port, in order, so EXIT is handled after every WRITE before it.

import type { MessagePort } from 'node:worker_threads'
import { ShipperError, type ShipperErrorCode } from './errors'
import { Shipper } from './shipper'
import type { ShipperOptions } from './options'
import type { ShipperStats } from './stats'

export type HostMessage =
  | { code: 'WRITE', lines: string[] }
  | { code: 'FLUSH', id: number, timeoutMs?: number }
  | { code: 'CLOSE', id: number }
  /** The process is exiting: close now. No reply — the application thread cannot receive one any more. */
  | { code: 'EXIT' }

export type HostReply =
  | { code: 'FLUSHED', id: number, stats: ShipperStats }
  | { code: 'CLOSED', id: number, stats: ShipperStats }
  /** A shipper event ('error', 'dropped', 'rejected', 'spooled', 'retry', 'sent'), with plain-data payload. */
  | { code: 'EVENT', name: string, data: unknown }

/** `state[0]` of the worker's shared flag: RUNNING until its shipper has closed (delivered, spooled or dropped all). */
export const RUNNING = 0
export const SETTLED = 1

export interface WorkerData {
  /** Shipper options (structured-cloneable: no functions). */
  options?: Omit<ShipperOptions, 'onError'>
  /** Int32 flag, RUNNING → SETTLED; an exit flush waits on it with Atomics.wait. */
  state?: SharedArrayBuffer
}

/** The payload of an 'error' EVENT: a ShipperError's fields (an Error does not survive structured cloning as one). */
export interface ErrorData { code?: string, message?: string, records?: number, status?: number }

/** The application thread's side of an 'error' EVENT: the ShipperError again. */
export function errorFromData (e: ErrorData): ShipperError {
  return new ShipperError((e.code ?? 'MAAP_SHIP_PROTOCOL') as ShipperErrorCode, e.message ?? 'unknown shipper error', {
    ...(e.records === undefined ? {} : { records: e.records }),
    ...(e.status === undefined ? {} : { status: e.status })
  })
}

const FORWARDED = ['dropped', 'rejected', 'spooled', 'retry', 'sent'] as const

/**
 * Runs a Shipper behind `port`; returns it (for tests and for hosts that add their own messages).
 * `onSettled` runs once the shipper has closed (CLOSE, before the reply leaves, or EXIT).
 */
export function hostShipper (port: MessagePort, options: Omit<ShipperOptions, 'onError'>, onSettled: () => void = () => {}): Shipper {
  const shipper = new Shipper(options)
  const post = (reply: HostReply): void => port.postMessage(reply)
  shipper.on('error', (err: ShipperError) => {
    post({ code: 'EVENT', name: 'error', data: { code: err.code, message: err.message, records: err.records, status: err.status } satisfies ErrorData })
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
          // Settle before the reply leaves: an exit flush that missed CLOSED must not wait for nothing.
          onSettled()
          post({ code: 'CLOSED', id: msg.id, stats })
          port.close()
        })
        return
      case 'EXIT':
        // close() is idempotent: an exit during a close() waits for the same close.
        shipper.close().then(onSettled, onSettled)
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
