// JSON requests to the collector's API, with the read key (for alerts, the admin key) when there is one.
// A 401 or 403 asks for a key and tries again; a query the collector is too busy for (503 + Retry-After,
// MAAP_TOO_MANY_QUERIES: its cap on queries at once) is asked again after that wait, a few times; any other
// failure becomes an ApiError whose message says what happened.
import { askForKey, authHeaders, hasKey, KeyCancelled, type KeyKind } from './auth'

export class ApiError extends Error {
  /** Where a `query` that does not parse went wrong: 1-based, in characters (MAAP_BAD_QUERY). */
  position: number | undefined
  /** The request field the collector named, when it named one apart from its message. */
  field: string | undefined
  constructor (readonly status: number, readonly code: string | undefined, message: string, position?: number, field?: string) {
    super(message)
    this.position = position
    this.field = field
  }

  /** The search box's query does not parse: said at the box, the results left as they were. */
  get inQuery (): boolean {
    return this.code === 'MAAP_BAD_QUERY' && this.position !== undefined && this.message.startsWith('query:')
  }
}

export interface Hit {
  _id?: string
  timestamp?: string
  level?: string
  app_name?: string
  message?: unknown
  [field: string]: unknown
}

export interface Page { events: Hit[], next: string | null, source: string, took_ms: number, mongodb_error?: string }
export interface Histogram {
  from: string
  to: string
  interval_ms: number
  times: number[]
  levels: Record<string, number[]>
  total: number
  source: string
}
export interface Values { field: string, values: Array<{ value: unknown, count: number }>, sampled: boolean, source: string }
export interface FieldName { name: string, types: string[], count: number }
export interface Fields { fields: FieldName[], sampled: boolean, source: string }

export interface RequestOptions {
  signal?: AbortSignal
  /** false: answer a 401/403 with an ApiError instead of asking for a key (GET /status). */
  askKey?: boolean
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  body?: unknown
  /** Which key the route needs: the read key (logs, saved searches) or the admin key (alerts). */
  key?: KeyKind
  /** Told, before each wait, that the collector was too busy and how many seconds until it is asked again. */
  onBusy?: (seconds: number) => void
}

/**
 * A GET answered 503 with Retry-After is asked again after that many seconds (at most MAX_BUSY_WAIT_MS), up
 * to BUSY_RETRIES times: a dashboard that refreshes beside other readers gets its answer a moment later
 * instead of an error. Only GETs: they change nothing, so asking twice is harmless.
 */
const BUSY_RETRIES = 3
const MAX_BUSY_WAIT_MS = 10_000

/** Waits `ms`, or rejects with an AbortError as soon as `signal` aborts (the page asked something else). */
async function pause (ms: number, signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new DOMException('The page asked something else', 'AbortError'))
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new DOMException('The page asked something else', 'AbortError'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The seconds a 503 says to wait (Retry-After, in seconds), or undefined when it says none. */
function busyFor (res: Response): number | undefined {
  const header = res.headers.get('retry-after')
  if (res.status !== 503 || header === null || !/^\d+$/.test(header.trim())) return undefined
  return Number(header)
}

export async function getJson<T> (path: string, opts: RequestOptions = {}): Promise<T> {
  let busyRetries = 0
  for (;;) {
    let res: Response
    const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(opts.key) }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    try {
      res = await fetch(path, {
        method: opts.method ?? 'GET',
        headers,
        signal: opts.signal ?? null,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) })
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw new ApiError(0, undefined, 'The collector does not answer. Is it running? The page retries when you change the query.')
    }
    if ((res.status === 401 || res.status === 403) && opts.askKey !== false) {
      await res.body?.cancel()
      try {
        // A 403 to the read key tried on an admin route is a first ask, not a refusal of a key given for it.
        await askForKey(res.status === 403 && (opts.key !== 'admin' || hasKey('admin')), opts.key)
      } catch (err) {
        if (err instanceof KeyCancelled) throw new ApiError(res.status, undefined, err.message)
        throw err
      }
      continue
    }
    const wait = (opts.method ?? 'GET') === 'GET' && busyRetries < BUSY_RETRIES ? busyFor(res) : undefined
    if (wait !== undefined) {
      busyRetries++
      await res.body?.cancel()
      const ms = Math.min(wait * 1000, MAX_BUSY_WAIT_MS)
      opts.onBusy?.(Math.ceil(ms / 1000))
      await pause(ms, opts.signal)
      continue
    }
    if (!res.ok) {
      const body = await res.json().catch(() => null) as { code?: string, message?: string, position?: unknown, field?: unknown } | null
      const position = typeof body?.position === 'number' ? body.position : undefined
      const field = typeof body?.field === 'string' ? body.field : undefined
      throw new ApiError(res.status, body?.code, body?.message ?? `${res.status} ${res.statusText}`, position, field)
    }
    // 204 (a DELETE) has no body.
    if (res.status === 204) return undefined as T
    return await res.json() as T
  }
}
