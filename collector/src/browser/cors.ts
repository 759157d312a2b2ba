// CORS for the origins allowed cross-origin (CORS_ORIGINS, else every browser key's origins; keys/ring.ts
// holds the set, which a SIGHUP reload may change). Hand-written rather than @fastify/cors: a preflight
// from an origin not allowed must be a 403 with our code, and that plugin answers it 204 without headers.
//
//   any request with Origin ─► allowed? ──yes──► Access-Control-Allow-Origin: <origin>, Vary: Origin
//                                  │ no
//                                  └──────────► no CORS header (the browser keeps the answer from the page)
//   OPTIONS + Access-Control-Request-Method ─► allowed? ──yes──► 204, methods, headers, Max-Age 600
//                                                  │ no
//                                                  └──────────► 403 MAAP_ORIGIN_REFUSED
//
// Never Access-Control-Allow-Credentials: no route reads cookies, and a browser key is not a credential
// the browser keeps.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotFoundError, OriginRefusedError } from '../errors'

const ALLOW_METHODS = 'GET, POST, OPTIONS'
const ALLOW_HEADERS = 'authorization, content-type, content-encoding, idempotency-key, last-event-id'
const MAX_AGE_SECONDS = '600'

/**
 * Adds the CORS headers to every answer for an allowed origin, and the preflight route. `allowed` is asked
 * on every request. Call before the routes are registered, so the hook reaches all of them.
 */
export function installCors (app: FastifyInstance, allowed: () => ReadonlySet<string>): void {
  // onSend: the headers go on every answer, errors included (a page must be able to read why it was refused).
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const origin = request.headers.origin
    if (origin !== undefined && allowed().has(origin)) {
      reply.header('access-control-allow-origin', origin)
      reply.header('vary', 'Origin')
    }
    return payload
  })

  app.options('*', async (request, reply) => {
    const origin = request.headers.origin
    if (origin === undefined || request.headers['access-control-request-method'] === undefined) {
      // Not a preflight: as any method and path no route answers.
      throw new NotFoundError(`no route OPTIONS ${JSON.stringify(request.url.split('?')[0]!.slice(0, 200))}`)
    }
    if (!allowed().has(origin)) throw new OriginRefusedError(`Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed cross-origin here (CORS_ORIGINS)`)
    return await reply.code(204)
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', MAX_AGE_SECONDS)
      .send()
  })
}
