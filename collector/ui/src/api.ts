// JSON requests to the collector's API, with the read key (for alerts, the admin key) when there is one.
// A 401 or 403 asks for a key and tries again; any other failure becomes an ApiError whose message says
// what happened.
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
}

export async function getJson<T> (path: string, opts: RequestOptions = {}): Promise<T> {
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
