// One POST to a receiver (webhook, Slack), and what it came to:
//
//   body bytes ─► fetch (redirect: manual, AbortSignal.timeout) ─► status ─► SendResult
//                                                                   └► answer read up to 1 KB, then cancelled
//
// A redirect is never followed (it could lead a signed body anywhere): a 3xx is a failure. Only the first
// 1 KB of an answer is read, so a receiver answering megabytes costs nothing. The URL is never in an error:
// Slack's carry their secret in the path.
import { VERSION } from '../../version'
import type { SendResult } from '../model'
import { clipBytes, ERROR_BYTES } from './render'

export const USER_AGENT = `maap-collector/${VERSION}`

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (text === '') return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Retrying helps for 408, 429 and 5xx (and for a 3xx: a receiver moved by mistake may move back); any other 4xx is permanent. */
export function isPermanent (status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429
}

async function readCapped (body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (body === null) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < ERROR_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } finally {
    // The rest of the answer is not wanted: cancelling closes the connection instead of draining it.
    reader.cancel().catch(() => {})
  }
  return clipBytes(Buffer.concat(chunks).toString('utf8'))
}

/**
 * What went wrong, without the URL: undici puts the reason in `cause` ("connect ECONNREFUSED 127.0.0.1:9");
 * a message that names the URL anyway (fetch's own TypeErrors do) has it replaced by its origin.
 */
function describe (err: unknown, timeoutMs: number, url: string): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err
  const message = cause instanceof Error ? cause.message : String(cause)
  return clipBytes(message.split(url).join(safeOrigin(url)))
}

function safeOrigin (url: string): string {
  try {
    return `${new URL(url).origin}/…`
  } catch {
    return '(the URL)'
  }
}

/** POSTs `body` to `url`; never throws. */
export async function postJson (url: string, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<SendResult> {
  let response: Response
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
      redirect: 'manual',
      signal
    })
  } catch (err) {
    return { ok: false, error: describe(err, timeoutMs, url) }
  }
  const status = response.status
  if (status >= 200 && status < 300) {
    response.body?.cancel().catch(() => {})
    return { ok: true, status }
  }
  let answer: string
  try {
    answer = await readCapped(response.body)
  } catch (err) {
    answer = `(answer not read: ${describe(err, timeoutMs, url)})`
  }
  const result: SendResult = { ok: false, status, error: clipBytes(`HTTP ${status}${answer === '' ? '' : `: ${answer}`}`) }
  if (status >= 300 && status < 400) result.error = clipBytes(`HTTP ${status}: a redirect is not followed${answer === '' ? '' : `: ${answer}`}`)
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs
  if (isPermanent(status)) result.permanent = true
  return result
}
