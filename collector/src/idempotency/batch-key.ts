// The Idempotency-Key a client sends with a batch, as the collector holds it: checked, scoped to the API
// key that sent it (two clients can never answer for each other's batches), and reduced to one SHA-256
// digest that names it in the key store and seeds the ids of its events (derived-ids.ts).
//
//   header ──check──► scope (route, API key id) + key ──sha256──► digest
//                                                                   ├─ bytes 0..17  : the store's name for it
//                                                                   └─ bytes 18..25 : the seed of its event ids
import { createHash } from 'node:crypto'
import { BadIdempotencyKeyError } from '../errors'

/** Characters of a key, at most (a UUID is 36; room for the `.0`/`.1` of split batches and for other clients' keys). */
export const MAX_KEY_LENGTH = 200
const KEY = /^[\x21-\x7e]+$/
const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/i
const MAX_OBJECT_ID_SECONDS = 0xffffffff

export interface BatchKey {
  /** The key as the client sent it. */
  readonly key: string
  /** Names the key, scoped, in the key store and its log: base64url of the digest's first 18 bytes. */
  readonly name: string
  /** The seed of the batch's event ids: the digest's next 8 bytes, as two 32-bit words. */
  readonly seed: readonly [number, number]
  /** The time the event ids start with (Unix ms): the key's own for a UUIDv7, else undefined (the arrival's). */
  readonly ms: number | undefined
}

/**
 * The Idempotency-Key header of a request, or undefined when it has none. `route` and `apiKeyId` scope
 * it: the same key sent to /log and to /logs, or with two API keys, names two batches.
 */
export function batchKey (header: string | string[] | undefined, route: string, apiKeyId: string | undefined): BatchKey | undefined {
  if (header === undefined) return undefined
  if (Array.isArray(header)) throw new BadIdempotencyKeyError('send one Idempotency-Key header, not several')
  if (header.length === 0 || header.length > MAX_KEY_LENGTH || !KEY.test(header)) {
    throw new BadIdempotencyKeyError(`Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters (a UUIDv7 is best)`)
  }
  const digest = createHash('sha256').update(`${route}\n${apiKeyId ?? ''}\n${header}`).digest()
  return {
    key: header,
    name: digest.toString('base64url', 0, 18),
    seed: [digest.readUInt32BE(18), digest.readUInt32BE(22)],
    ms: uuidV7Ms(header)
  }
}

/** The Unix ms of a UUIDv7 at the start of `key`, when it is one and its seconds fit an ObjectId. */
export function uuidV7Ms (key: string): number | undefined {
  const m = UUID_V7.exec(key)
  if (m === null) return undefined
  const ms = Number.parseInt(m[1]! + m[2]!, 16)
  return Math.floor(ms / 1000) <= MAX_OBJECT_ID_SECONDS ? ms : undefined
}
