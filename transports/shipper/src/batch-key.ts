// The Idempotency-Key of a batch: made once when the batch is sealed, sent with every attempt of it,
// kept in its spool file's name, so a retry after a lost acknowledgement — in this process or in a later
// one replaying the spool — is recognised by the collector instead of being stored twice.
//
// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. The collector takes the time
// from it for the events' ids, so every collector that sees the batch derives the same ids (and
// MongoDB's unique _id keeps one copy), and the ids stay time-ordered. The halves of a batch split on a
// 413 are new requests: `<key>.0` and `<key>.1`.
import { randomFillSync } from 'node:crypto'

const bytes = Buffer.alloc(16)

export function newBatchKey (nowMs: number): string {
  randomFillSync(bytes, 6, 10)
  bytes.writeUIntBE(Math.max(0, Math.floor(nowMs)) % 2 ** 48, 0, 6)
  bytes[6] = 0x70 | (bytes[6]! & 0x0f) // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f) // RFC 9562 variant
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The keys of the two halves of a batch cut in two. */
export function halfKeys (key: string): [string, string] {
  return [`${key}.0`, `${key}.1`]
}

/** What a key may hold to be part of a spool file name (and of an HTTP header). */
export const KEY_IN_FILE_NAME = /^[0-9a-f-]{36}(?:\.[01])*$/
