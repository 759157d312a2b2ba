// The collector over HTTP (Node's fetch): one GET, its failures sorted into the two kinds the commands
// answer differently — the collector said no (ApiError: its status and message) or could not be
// reached (Unreachable).
import type { CommonOptions } from './args'

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string | undefined, message: string, readonly retryAfterMs: number | undefined,
    /** Where in the query it went wrong (1-based, in UTF-16 code units), for a query that does not parse. */
    readonly position?: number) {
    super(message)
  }
}

export class Unreachable extends Error {
  constructor (message: string, readonly reason: string) {
    super(message)
  }
}

/** Where the collector is, for messages: never a key, never credentials. */
export function where (url: URL): string {
  return url.origin + url.pathname.replace(/\/$/, '')
}

function reason (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  // ECONNREFUSED and friends say it best; undici's own codes (UND_ERR_SOCKET) less well than its message.
  if (cause?.code !== undefined && /^E[A-Z]+$/.test(cause.code)) return cause.code
  return cause?.message ?? (err as Error).message
}

function retryAfter (res: Response): number | undefined {
  const s = Number(res.headers.get('retry-after'))
  return Number.isFinite(s) && s > 0 ? s * 1000 : undefined
}

async function apiError (res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '')
  let code: string | undefined
  let position: number | undefined
  let message = `HTTP ${res.status} ${res.statusText}`.trim()
  try {
    const body = JSON.parse(text) as { code?: unknown, message?: unknown, position?: unknown }
    if (typeof body.message === 'string') message = body.message
    if (typeof body.code === 'string') code = body.code
    if (Number.isSafeInteger(body.position) && (body.position as number) >= 1) position = body.position as number
  } catch {}
  return new ApiError(res.status, code, message, retryAfter(res), position)
}

/** GET <url>/<path>?<params>; resolves with a 2xx response, its body unread. */
export async function get (opts: CommonOptions, path: string, params: URLSearchParams, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  const url = new URL(path, opts.url)
  url.search = params.toString()
  const h: Record<string, string> = { ...headers }
  if (opts.apiKey !== undefined) h.authorization = `Bearer ${opts.apiKey}`
  let res: Response
  try {
    res = await fetch(url, { headers: h, signal })
  } catch (err) {
    if (signal.aborted) throw err
    const why = reason(err)
    throw new Unreachable(`cannot reach the collector at ${where(opts.url)} (${why}); is it running? (--url or MAAP_URL)`, why)
  }
  if (!res.ok) throw await apiError(res)
  return res
}

/** Why a body stopped part-way, in a few words. */
export function cutReason (err: unknown): string {
  return reason(err)
}
