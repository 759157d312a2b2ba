// Browser keys at the door of every route (an onRequest hook on the whole app, before any route's own key
// check). A browser key is public in a web page, so what it may do is decided here, once, for all routes:
//
//   request ─► ?key= ? ──yes──► a browser key? ──no──► 401 (other keys never come in the URL)
//      │ no                          │ yes
//      ▼                             ▼
//   Bearer a browser key? ──yes──► POST /logs or /log? ──no──► 403 MAAP_BROWSER_KEY_SCOPE
//      │ no                          │ yes
//      ▼                             ▼
//   the route's own key check     Origin one of the key's? ──no──► 403 MAAP_ORIGIN_REFUSED
//   (auth.ts)                        │ yes
//                                    ▼
//                                 request.browserKey set; the ingest routes take it as their key
//
// The match is constant-time over every browser key (keys/api-key.ts); neither the key nor the URL that
// carried it is logged or echoed.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { bearer } from '../auth'
import { BrowserKeyScopeError, OriginRefusedError, UnauthorizedError } from '../errors'
import { findKey, type BrowserKey, type KeyRing } from '../keys'

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser key the request authenticated with (BROWSER_API_KEYS). */
    browserKey?: BrowserKey
  }
}

/** The routes a browser key may use, by route path: sending events, nothing else. */
const INGEST = new Set(['/logs', '/log'])

/** A browser key's route: POST /logs or /log (`path` is the route's, or the URL's path for a preflight). */
export function isBrowserIngest (method: string, path: string | undefined): boolean {
  return method === 'POST' && INGEST.has(path ?? '')
}

/** The `key` query parameter: undefined when absent; given twice, both are refused as one bad key. */
function queryKey (request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined
  const key = query?.key
  if (key === undefined) return undefined
  return typeof key === 'string' ? key : ''
}

/** The hook; `ring` is asked on every request so keys reloaded on SIGHUP apply to the next one. */
export function identifyBrowserKey (ring: () => KeyRing) {
  return async function browserKeyCheck (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // A preflight carries no credentials; cors.ts answers it whatever its URL holds.
    if (request.method === 'OPTIONS') return
    const keys = ring().browser
    const fromQuery = queryKey(request)
    let key: BrowserKey | undefined
    if (fromQuery !== undefined) {
      if (request.headers.authorization !== undefined) throw new UnauthorizedError('send the key once: as "Authorization: Bearer <key>" or as ?key=, not both')
      key = findKey(keys, fromQuery) as BrowserKey | undefined
      if (key === undefined) {
        reply.header('www-authenticate', 'Bearer')
        throw new UnauthorizedError('?key= takes a browser key (BROWSER_API_KEYS) and no other: send other keys as "Authorization: Bearer <key>"')
      }
    } else {
      if (keys.length === 0) return
      const token = bearer(request)
      if (token === undefined) return
      key = findKey(keys, token) as BrowserKey | undefined
      if (key === undefined) return
    }
    request.browserKey = key
    request.keyId = key.id
    if (!isBrowserIngest(request.method, request.routeOptions.url)) {
      throw new BrowserKeyScopeError(request.method, JSON.stringify((request.routeOptions.url ?? request.url.split('?')[0]!).slice(0, 200)))
    }
    const origin = request.headers.origin
    if (origin === undefined || !key.origins.has(origin)) {
      throw new OriginRefusedError(origin === undefined
        ? 'a browser key\'s request must carry an Origin header, one of the key\'s origins; this one has none; nothing was stored'
        : `Origin ${JSON.stringify(origin.slice(0, 200))} is not one of the origins of the browser key for app_name ${JSON.stringify(key.appName)}; nothing was stored`)
    }
  }
}
