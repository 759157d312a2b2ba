// The messages between the two sides of a shipper in a worker thread, in one place (thread-stream's
// pattern: small `{ code }` messages, requests answered by id). Both sides import only this module from
// each other, so the application thread never loads the worker side's Shipper (nor undici with it).
//
//   app-side.ts (application thread)                 worker-side.ts (worker thread)
//     ──WRITE{lines}────────────────────────────────►  Shipper.write
//     ──FLUSH{id,timeoutMs?} / CLOSE{id}────────────►  Shipper.flush / close
//     ◄─FLUSHED{id,stats} / CLOSED{id,stats}─────────
//     ◄─EVENT{name,data}─────────────────────────────  the Shipper's events, plain data
//     ──EXIT────────────────────────────────────────►  Shipper.close(), no reply; then state[0] = SETTLED
//
// A message either side does not know means the two disagree on the protocol: each fails loudly
// (MAAP_SHIP_PROTOCOL) instead of guessing.
import { ShipperError, type ShipperErrorCode } from '../errors'
import type { ShipperOptions } from '../options'
import type { FlushResult } from '../delivery'

export type HostMessage =
  | { code: 'WRITE', lines: string[] }
  | { code: 'FLUSH', id: number, timeoutMs?: number }
  | { code: 'CLOSE', id: number }
  /** The process is exiting: close now. No reply — the application thread cannot receive one any more. */
  | { code: 'EXIT' }

export type HostReply =
  /**
   * `own`: the shipper's running totals of records written and settled for good. Windows of flushes
   * that overlap share records, so the application thread tallies a dead worker's loss from these.
   */
  | { code: 'FLUSHED', id: number, stats: FlushResult, own: OwnTotals }
  | { code: 'CLOSED', id: number, stats: FlushResult, own: OwnTotals }
  /** The worker has loaded everything and handles messages from now on (entry.ts; sent once, first). */
  | { code: 'READY' }
  /** A shipper event ('error', 'dropped', 'rejected', 'spooled', 'retry', 'sent'), with plain-data payload. */
  | { code: 'EVENT', name: string, data: unknown }

export interface OwnTotals { written: number, settled: number }

/** The shipper events that cross to the application thread (besides 'error'). */
export const FORWARDED = ['dropped', 'rejected', 'spooled', 'retry', 'sent'] as const

/** `state[0]` of the worker's shared flag: RUNNING until its shipper has closed (delivered, spooled or dropped all). */
export const RUNNING = 0
export const SETTLED = 1

export interface WorkerData {
  /** Shipper options (structured-cloneable: no functions). */
  options?: Omit<ShipperOptions, 'onError'>
  /** Int32 flag, RUNNING → SETTLED; an exit flush waits on it with Atomics.wait. */
  state?: SharedArrayBuffer
  /** Names the sender in the worker's own stderr lines (its drops), e.g. 'maap-winston'. */
  prefix?: string
}

/** The payload of an 'error' EVENT: a ShipperError's fields (an Error does not survive structured cloning as one). */
export interface ErrorData { code?: string, message?: string, records?: number, status?: number }

export function errorToData (err: ShipperError): ErrorData {
  return { code: err.code, message: err.message, records: err.records, status: err.status }
}

/** The application thread's side of an 'error' EVENT: the ShipperError again. */
export function errorFromData (e: ErrorData): ShipperError {
  return new ShipperError((e.code ?? 'MAAP_SHIP_PROTOCOL') as ShipperErrorCode, e.message ?? 'unknown shipper error', {
    ...(e.records === undefined ? {} : { records: e.records }),
    ...(e.status === undefined ? {} : { status: e.status })
  })
}

/** A message the receiving side does not know. */
export function unknownMessage (side: 'worker' | 'application thread', msg: unknown): ShipperError {
  let text: string
  try { text = JSON.stringify(msg) ?? String(msg) } catch { text = String(msg) }
  return new ShipperError('MAAP_SHIP_PROTOCOL', `the shipper's ${side} got a message it does not know: ${text.slice(0, 200)}`)
}

/** Errors inside event payloads (retry) do not survive structured cloning as ShipperError; send text. */
export function plain (data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(data)) out[k] = v instanceof Error ? v.message : v
  return out
}
