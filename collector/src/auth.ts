// Authentication of requests. API_KEYS guards the ingest routes, ADMIN_API_KEY the admin routes,
// READ_API_KEYS (and the admin key) the read routes; with no key at all everything is open. The bearer token
// is matched in constant time against every key in force (keys/), never logged, never echoed. An entry
// `app_name:key` pins every event sent with that key to that app_name, or, for a read key, everything it reads.
// Browser keys (BROWSER_API_KEYS) are checked before any of this, on every route: browser/identify.ts.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ForbiddenError, UnauthorizedError } from './errors'
import { findKey, type ApiKey } from './keys'

export function bearer (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m?.[1]
}

declare module 'fastify' {
  interface FastifyRequest {
    /** app_name pinned by the API key the request authenticated with. */
    keyAppName?: string
    /** ApiKey.id of the key the request authenticated with. */
    keyId?: string
  }
}

/**
 * An onRequest hook: 401 without a key, 403 with a wrong one; nothing to do when `keysInForce` is empty
 * and `open()` says so (by default: whenever there are no such keys). The keys are asked on every
 * request, so keys reloaded on SIGHUP (keys/ring.ts) apply to the next one.
 */
export function requireKey (keysInForce: () => readonly ApiKey[], what: string, open?: () => boolean) {
  return async function checkKey (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const keys = keysInForce()
    if (keys.length === 0 && (open === undefined || open())) return
    const token = bearer(request)
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer')
      throw new UnauthorizedError(`this route needs an ${what}: send "Authorization: Bearer <key>"`)
    }
    const key = findKey(keys, token)
    if (key === undefined) throw new ForbiddenError(what)
    request.keyId = key.id
    if (key.appName !== undefined) request.keyAppName = key.appName
  }
}

/** The ingest routes' check: requireKey, unless browser/identify.ts already took the request's browser key. */
export function requireIngestKey (keysInForce: () => readonly ApiKey[], what: string) {
  const check = requireKey(keysInForce, what)
  return async function checkIngestKey (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.browserKey === undefined) await check(request, reply)
  }
}
