// A key as the collector holds it: its SHA-256 digest, never the key itself, so that comparing takes the
// same time whatever the key's length and a key cannot leak from memory dumps or logs.
import { createHash, timingSafeEqual } from 'node:crypto'

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

/** The key that matches `token`, checking every key so the time taken does not say which one matched. */
export function findKey (keys: readonly ApiKey[], token: string): ApiKey | undefined {
  const d = digest(token)
  let found: ApiKey | undefined
  for (const k of keys) if (timingSafeEqual(k.digest, d) && found === undefined) found = k
  return found
}
