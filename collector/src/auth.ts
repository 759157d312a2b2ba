// API keys. API_KEYS guards the ingest routes, ADMIN_API_KEY the admin routes, READ_API_KEYS (and the admin
// key) the read routes; with no key at all everything is open. Keys are compared
// in constant time (over SHA-256 digests, so lengths leak nothing either) against every configured key,
// never logged, never echoed. An entry `app_name:key` pins every event sent with that key to that app_name,
// or, for a read key, everything it reads.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ForbiddenError, UnauthorizedError } from './errors'

export interface ApiKey {
  /** SHA-256 of the key: the key itself is not kept after start-up parsing. */
  digest: Buffer
  appName: string | undefined
  /** Names the key where it must be told apart (the rate limiter's buckets) without holding the key. */
  id: string
}

function digest (key: string): Buffer {
  return createHash('sha256').update(key).digest()
}

export function apiKey (key: string, appName?: string): ApiKey {
  const d = digest(key)
  return { digest: d, appName, id: d.toString('base64url') }
}

/** Parses API_KEYS: comma-separated `key` or `app_name:key` entries. Returns an error message or the keys. */
export function parseApiKeys (raw: string): ApiKey[] | string {
  const keys: ApiKey[] = []
  for (const entry of raw.split(',').map(e => e.trim()).filter(e => e !== '')) {
    const colon = entry.indexOf(':')
    const appName = colon === -1 ? undefined : entry.slice(0, colon)
    const key = colon === -1 ? entry : entry.slice(colon + 1)
    if (key.length < 8) return 'every key must be at least 8 characters long'
    if (appName !== undefined && (appName.length === 0 || appName.length > 256)) return 'an app_name before ":" must be 1 to 256 characters'
    keys.push(apiKey(key, appName))
  }
  return keys
}

/** The key that matches `token`, checking every key so the time taken does not say which one matched. */
export function findKey (keys: readonly ApiKey[], token: string): ApiKey | undefined {
  const d = digest(token)
  let found: ApiKey | undefined
  for (const k of keys) if (timingSafeEqual(k.digest, d) && found === undefined) found = k
  return found
}

function bearer (request: FastifyRequest): string | undefined {
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
 * request, so keys reloaded on SIGHUP (key-ring.ts) apply to the next one.
 */
export function requireKey (keysInForce: () => readonly ApiKey[], what: string, open?: () => boolean) {
  return async function checkKey (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const keys = keysInForce()
    if (keys.length === 0 && (open === undefined || open())) return
    const token = bearer(request)
    if (token === undefined) {
      reply.header('www-authenticate', 'Bearer')
      throw new UnauthorizedError(what)
    }
    const key = findKey(keys, token)
    if (key === undefined) throw new ForbiddenError(what)
    request.keyId = key.id
    if (key.appName !== undefined) request.keyAppName = key.appName
  }
}
