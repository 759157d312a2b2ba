// CORS for the origins allowed cross-origin (keys/ring.ts holds them; a SIGHUP reload may change them).
// A browser key's origins serve public pages: they get CORS on POST /logs and /log alone, so no page there
// can read anything else cross-origin. The other origins of CORS_ORIGINS (a dashboard) get it everywhere.
// Hand-written rather than @fastify/cors: a preflight from an origin not allowed must be a 403 with our
// code, and that plugin answers it 204 without headers.
//
//   any request with Origin ─► Vary: Origin (appended: the answer depends on it, allowed or not)
//        │
//        └─► allowed here? ──yes──► Access-Control-Allow-Origin: <origin>, Expose-Headers: retry-after…
//               │ no
//               └──────────► no CORS header (the browser keeps the answer from the page)
//   OPTIONS + Access-Control-Request-Method ─► allowed for that method and path? ──yes──► 204, methods,
//                                                  │ no                                   headers, Max-Age 600
//                                                  └──────────► 403 MAAP_ORIGIN_REFUSED
//
// "allowed here": an origin of CORS_ORIGINS no browser key names, on any route; a browser key's origin,
// on POST /logs and /log. Never Access-Control-Allow-Credentials: no route reads cookies, and a browser
// key is not a credential the browser keeps.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotFoundError, OriginRefusedError } from '../errors'
import type { CorsOrigins } from '../keys'
import { isBrowserIngest } from './identify'

const ALLOW_METHODS = 'GET, POST, OPTIONS'
const ALLOW_HEADERS = 'authorization, content-type, content-encoding, idempotency-key, last-event-id'
/** The answer headers a page may read beyond the CORS-safelisted ones: when to retry, and a replayed batch. */
const EXPOSE_HEADERS = 'retry-after, idempotent-replayed'
const MAX_AGE_SECONDS = '600'

function allowedOn (cors: CorsOrigins, origin: string, method: string, path: string | undefined): boolean {
  return cors.everyRoute.has(origin) || (cors.ingest.has(origin) && isBrowserIngest(method, path))
}

/** Adds `Origin` to the answer's Vary, keeping what another part of the app put there. */
function varyOnOrigin (reply: FastifyReply): void {
  const vary = reply.getHeader('vary')
  if (vary === undefined) {
    reply.header('vary', 'Origin')
    return
  }
  const text = Array.isArray(vary) ? vary.join(', ') : String(vary)
  // Split on commas (no regular expression over what a header holds); `*` already covers Origin.
  for (const name of text.split(',')) {
    const field = name.trim().toLowerCase()
    if (field === 'origin' || field === '*') return
  }
  reply.header('vary', `${text}, Origin`)
}

/**
 * Adds the CORS headers to every answer for an allowed origin, and the preflight route. `cors` is asked
 * on every request. Call before the routes are registered, so the hook reaches all of them.
 */
export function installCors (app: FastifyInstance, cors: () => CorsOrigins): void {
  // onSend: the headers go on every answer, errors included (a page must be able to read why it was refused).
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const origin = request.headers.origin
    if (origin === undefined) return payload
    varyOnOrigin(reply)
    // A preflight's own answer is decided (and headed) by the route below.
    if (request.method !== 'OPTIONS' && allowedOn(cors(), origin, request.method, request.routeOptions.url)) {
      reply.header('access-control-allow-origin', origin)
      reply.header('access-control-expose-headers', EXPOSE_HEADERS)
    }
    return payload
  })

  app.options('*', async (request, reply) => {
    const origin = request.headers.origin
    const method = request.headers['access-control-request-method']
    const path = request.url.split('?')[0]!
    if (origin === undefined || method === undefined) {
      // Not a preflight: as any method and path no route answers.
      throw new NotFoundError(`no route OPTIONS ${JSON.stringify(path.slice(0, 200))}`)
    }
    const allowed = cors()
    if (!allowedOn(allowed, origin, method, path)) {
      const shown = JSON.stringify(origin.slice(0, 200))
      throw new OriginRefusedError(allowed.ingest.has(origin)
        ? `Origin ${shown} is a browser key's: it is allowed cross-origin on POST /logs and /log alone, not ${JSON.stringify(method.slice(0, 20))} ${JSON.stringify(path.slice(0, 200))}`
        : `Origin ${shown} is not allowed cross-origin here (CORS_ORIGINS)`)
    }
    return await reply.code(204)
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', MAX_AGE_SECONDS)
      .send()
  })
}
