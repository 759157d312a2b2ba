// Where a tail stands: a position in each journal it reads (one for a single process, one per worker
// with WORKER_COUNT > 1). It is the SSE `id` of every message, so a reconnect with Last-Event-ID resumes
// right after the last event the client saw:
//
//   single process:  20261127T101500Z-000042.1234          (segment, byte offset after the event)
//   workers:         1~20261127T101500Z-000042.1234_2~20261127T101502Z-000007.88
import type { JournalPosition } from '../journal/writer'

export type TailPosition = Map<string, JournalPosition>

const CORE = /^\d{8}T\d{6}Z-\d{6}$/

function segmentCore (segment: string): string {
  return segment.slice(5, -7) // maap-<core>.ndjson
}

export function positionPart (key: string, pos: JournalPosition): string {
  const at = `${segmentCore(pos.segment)}.${pos.offset}`
  return key === '' ? at : `${key}~${at}`
}

export function encodePosition (pos: TailPosition): string {
  return [...pos].map(([key, p]) => positionPart(key, p)).join('_')
}

/** The position an id names, or undefined when it is not one a tail sent. */
export function decodePosition (id: string): TailPosition | undefined {
  if (id.length > 4096) return undefined
  const out: TailPosition = new Map()
  for (const part of id.split('_')) {
    const tilde = part.indexOf('~')
    const key = tilde === -1 ? '' : part.slice(0, tilde)
    if (key !== '' && !/^\d{1,6}$/.test(key)) return undefined
    const at = tilde === -1 ? part : part.slice(tilde + 1)
    const dot = at.lastIndexOf('.')
    const core = at.slice(0, dot)
    const digits = at.slice(dot + 1)
    const offset = Number(digits)
    if (dot === -1 || !CORE.test(core) || !/^\d{1,15}$/.test(digits) || out.has(key)) return undefined
    out.set(key, { segment: `maap-${core}.ndjson`, offset })
  }
  return out
}
