// One attempt at one batch: POST <url>/logs?key=…&batch=… with an NDJSON body as text/plain — a
// "simple" cross-origin request (no preflight: the collector's browser-key contract) with no cookies.
// The answer is a tagged outcome, never a throw: the caller decides what to retry.
//
//   fetch ─┬─ 2xx ──────────────► sent   (accepted, rejected as the collector counted them)
//          ├─ network error ────► retry  (also what a refused Origin looks like: no CORS headers)
//          ├─ 408, 429, 5xx ────► retry  (after Retry-After when there is one)
//          └─ other 4xx ────────► refused (every event of the batch counted as rejected)
import { parseRetryAfter } from './backoff.js'
import type { Env } from './env.js'

/** Browsers refuse a keepalive request once the keepalive bodies in flight pass 64 KiB. */
export const KEEPALIVE_LIMIT = 64 * 1024

export type Outcome =
  | { kind: 'sent', accepted: number, rejected: number }
  | { kind: 'retry', afterMs: number | undefined, reason: string }
  | { kind: 'refused', reason: string }

export interface Batch { id: string, body: string, count: number, bytes: number }

export function batchUrl (endpoint: string, key: string, id: string): string {
  return `${endpoint}?key=${encodeURIComponent(key)}&batch=${id}`
}

export function requestInit (body: string, keepalive: boolean): RequestInit {
  return { method: 'POST', body, keepalive, mode: 'cors', credentials: 'omit', headers: { 'content-type': 'text/plain;charset=UTF-8' } }
}

export async function sendBatch (env: Env, endpoint: string, key: string, batch: Batch): Promise<Outcome> {
  let status: number
  let text: string
  let retryAfter: string | null
  try {
    const res = await env.fetch(batchUrl(endpoint, key, batch.id), requestInit(batch.body, batch.bytes < KEEPALIVE_LIMIT))
    status = res.status
    retryAfter = res.headers.get('retry-after')
    text = await res.text()
  } catch (err) {
    return { kind: 'retry', afterMs: undefined, reason: `no answer: ${String((err as Error)?.message ?? err)}` }
  }
  if (status >= 200 && status < 300) return sentOutcome(text, batch.count)
  const reason = `${status} ${errorMessage(text)}`
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', afterMs: parseRetryAfter(retryAfter, env.now()), reason }
  return { kind: 'refused', reason }
}

/** A 2xx answer: `{accepted, rejected: [...]}` when some events were refused, else all were taken. */
function sentOutcome (text: string, count: number): Outcome {
  try {
    const body = JSON.parse(text) as { accepted?: unknown, rejected?: unknown }
    const rejected = Array.isArray(body?.rejected) ? body.rejected.length : 0
    const accepted = typeof body?.accepted === 'number' ? body.accepted : count - rejected
    return { kind: 'sent', accepted, rejected }
  } catch {
    return { kind: 'sent', accepted: count, rejected: 0 }
  }
}

/** The collector's `{code, message}` as "CODE: message", else the start of the body. */
function errorMessage (text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown, message?: unknown }
    if (typeof body.code === 'string') return `${body.code}: ${String(body.message)}`
  } catch {}
  return text.slice(0, 200)
}
