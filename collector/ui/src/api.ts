// JSON requests to the collector's read API, with the read key when there is one. A 401 or 403 asks
// for a key and tries again; any other failure becomes an ApiError whose message says what happened.
import { askForKey, authHeaders } from './auth'

export class ApiError extends Error {
  /** Where a `query` that does not parse went wrong: 1-based, in characters (MAAP_BAD_QUERY). */
  position: number | undefined
  constructor (readonly status: number, readonly code: string | undefined, message: string, position?: number) {
    super(message)
    this.position = position
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

export async function getJson<T> (path: string, opts: { signal?: AbortSignal, askKey?: boolean } = {}): Promise<T> {
  for (;;) {
    let res: Response
    try {
      res = await fetch(path, { headers: { accept: 'application/json', ...authHeaders() }, signal: opts.signal ?? null })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw new ApiError(0, undefined, 'The collector does not answer. Is it running? The page retries when you change the query.')
    }
    if ((res.status === 401 || res.status === 403) && opts.askKey !== false) {
      await res.body?.cancel()
      await askForKey(res.status === 403)
      continue
    }
    if (!res.ok) {
      const body = await res.json().catch(() => null) as { code?: string, message?: string, position?: unknown } | null
      const position = typeof body?.position === 'number' ? body.position : undefined
      throw new ApiError(res.status, body?.code, body?.message ?? `${res.status} ${res.statusText}`, position)
    }
    return await res.json() as T
  }
}
