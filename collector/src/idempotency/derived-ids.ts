// The _ids of a keyed batch's events, derived from its key instead of drawn at random, so that the same
// batch gets the same ids wherever and whenever it is stored: a retry that reaches another collector (or
// another worker) writes ids MongoDB already holds, and its unique _id index keeps one copy.
//
//   _id (12 bytes, as the journal writes it: 24 hex) = seconds (32 bits) | ms (10) | batch (30) | index (24)
//
// Laid out like the driver's ObjectId (seconds, then 5 bytes that name the writer, then a counter), so ids
// stay time-ordered at the right edge of the _id index, and a batch's events sort in the order they were
// sent (reads break timestamp ties by _id). The time is the key's own (a UUIDv7, as our shippers send), so
// every collector agrees on it; a key without one takes the arrival's: still stored once per collector
// (its key store), but two collectors may then each keep a copy. Two batches share an id only if they
// share the millisecond and 30 bits of their keys' digests. A batch of more than 2^24 events (a body
// limit far above the default) gives its later events random ids.

export type IdOf = (index: number) => string | undefined

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const MAX_INDEX = 2 ** 24
const BATCH_BITS = 2 ** 30

/** Runs for every event of a keyed batch: table look-ups, no number formatting. */
function hex8 (n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 0xff]! + HEX[(n >>> 8) & 0xff]! + HEX[n & 0xff]!
}

function hex6 (n: number): string {
  return HEX[(n >>> 16) & 0xff]! + HEX[(n >>> 8) & 0xff]! + HEX[n & 0xff]!
}

/** The ids of a batch's events by their index in the request; `ms` is the batch's time (Unix ms). */
export function derivedIds (seed: readonly [number, number], ms: number): IdOf {
  const batch = seed[0] % BATCH_BITS
  const millis = Math.floor(ms) % 1000
  // seconds | ms (10 bits) and the batch's top 22 bits | the batch's low 8 bits: 18 hex digits, then the index.
  const prefix = hex8(Math.floor(ms / 1000) >>> 0) + hex8(((millis << 22) | (batch >>> 8)) >>> 0) + HEX[batch & 0xff]!
  return index => index < MAX_INDEX ? prefix + hex6(index) : undefined
}

/** The part of a derived id that the key and the index alone decide (the batch bits and the index). */
export function derivedTail (seed: readonly [number, number], index: number): string {
  return hex8(seed[0] % BATCH_BITS) + hex6(index)
}

/** derivedTail of an id as the journal holds it (24 hex digits). */
export function tailOfId (id: string): string {
  return hex8(Number.parseInt(id.slice(8, 18), 16) % BATCH_BITS) + id.slice(18)
}
