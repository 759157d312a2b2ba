// One POST of one batch to the collector, answered by a tagged result instead of a throw (the shape of
// OpenTelemetry's exporters): the caller decides what retrying, splitting or rejecting means.

import { promisify } from 'node:util'
import { gzip as gzipCb, constants as zlib } from 'node:zlib'
import { Pool } from 'undici'
import { parseRetryAfter } from './backoff'
import type { ResolvedOptions } from './options'

const gzip = promisify(gzipCb)
const GZIP_MIN_BYTES = 4096

export interface RejectedRecord { index: number, error: string }

export type SendResult =
  /** The collector answered for each record: `rejected` lists those it refused for good (may be empty). */
  | { kind: 'answered', rejected: RejectedRecord[], status: number }
  /** Worth another try later: network trouble, timeout, 408, 429, 5xx. */
  | { kind: 'retryable', status: number | undefined, retryAfterMs: number | undefined, error: Error }
  /** 413: the body is too large for the collector; a smaller batch may pass. */
  | { kind: 'too-large', error: Error }
  /** Any other 4xx: the same body will never be accepted. */
  | { kind: 'permanent', status: number, error: Error }

export class CollectorClient {
  readonly #opts: ResolvedOptions
  readonly #pool: Pool
  readonly #headers: Record<string, string>
  readonly #gzipAuto: boolean

  constructor (opts: ResolvedOptions) {
    this.#opts = opts
    this.#pool = new Pool(opts.endpoint.origin, {
      connections: opts.concurrency,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeout,
      bodyTimeout: opts.timeout,
      ...(opts.ca === undefined ? {} : { connect: { ca: opts.ca } })
    })
    this.#headers = { 'content-type': 'application/x-ndjson' }
    if (opts.apiKey !== undefined) this.#headers.authorization = `Bearer ${opts.apiKey}`
    // Compression pays on a real network; on loopback it only spends CPU on both ends of the socket.
    this.#gzipAuto = !isLoopback(opts.endpoint.hostname)
  }

  /**
   * POSTs `count` records of NDJSON; the caller must not change `ndjson` until this settles. `key` is the
   * batch's Idempotency-Key, the same on every attempt.
   */
  async send (ndjson: Buffer, count: number, signal: AbortSignal, key?: string): Promise<SendResult> {
    let body = ndjson
    const headers = { ...this.#headers }
    if (key !== undefined) headers['idempotency-key'] = key
    const { compress } = this.#opts
    if (compress === true || (compress === 'auto' && this.#gzipAuto && body.length >= GZIP_MIN_BYTES)) {
      body = await gzip(body, { level: zlib.Z_BEST_SPEED })
      headers['content-encoding'] = 'gzip'
    }
    let status: number
    let text: string
    let retryAfter: string | string[] | undefined
    try {
      const res = await this.#pool.request({
        path: this.#opts.endpoint.pathname + this.#opts.endpoint.search,
        method: 'POST',
        headers,
        body,
        signal
      })
      status = res.statusCode
      retryAfter = res.headers['retry-after']
      text = await res.body.text()
    } catch (err) {
      return { kind: 'retryable', status: undefined, retryAfterMs: undefined, error: err as Error }
    }
    return classify(status, text, retryAfter, count)
  }

  /** Closes idle connections; requests still running are left to their abort signal. */
  async close (): Promise<void> {
    await this.#pool.destroy()
  }
}

function classify (status: number, text: string, retryAfter: string | string[] | undefined, count: number): SendResult {
  const describe = (): Error => new Error(`collector answered ${status}: ${text.slice(0, 300)}`)
  if (status >= 200 && status < 300) return { kind: 'answered', rejected: rejectedList(text), status }
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(retryAfter) : undefined
    return { kind: 'retryable', status, retryAfterMs, error: describe() }
  }
  if (status === 413) return { kind: 'too-large', error: describe() }
  if (status === 400) {
    // All records refused one by one: the collector says why for each.
    const rejected = rejectedList(text)
    if (rejected.length > 0) return { kind: 'answered', rejected, status }
  }
  if (status >= 400) return { kind: 'permanent', status, error: describe() }
  // 1xx/3xx: not something the batch endpoint does; retrying would loop on a misconfigured URL forever.
  return { kind: 'permanent', status, error: new Error(`unexpected answer ${status} for ${count} records: ${text.slice(0, 300)}`) }
}

function rejectedList (text: string): RejectedRecord[] {
  try {
    const body = JSON.parse(text) as { rejected?: unknown }
    if (!Array.isArray(body.rejected)) return []
    return body.rejected.map((r: { index?: unknown, error?: unknown }) => ({
      index: typeof r?.index === 'number' ? r.index : -1,
      error: typeof r?.error === 'string' ? r.error : JSON.stringify(r?.error)
    }))
  } catch {
    return []
  }
}

function isLoopback (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\./.test(hostname)
}
