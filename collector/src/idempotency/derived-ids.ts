// The _ids of a keyed batch's events, derived from its key instead of drawn at random, so that the same
// batch gets the same ids wherever and whenever it is stored: a retry that reaches another collector (or
// another worker) writes ids MongoDB already holds, and its unique _id index keeps one copy.
//
//   _id (12 bytes, as the journal writes it: 24 hex) = seconds (4) | mix(seed, index) (8)
//
// The seconds are the key's own time (a UUIDv7, as our shippers send) so every collector agrees on them,
// and ids stay time-ordered at the right edge of the _id index, like the driver's. A key without a time
// takes the arrival's: still one copy per collector (its key store), but two collectors may each keep one.
// The mix is a bijection of the index for a given seed (murmur3's finaliser on each half), so no two
// events of a batch share an id.

export type IdOf = (index: number) => string

function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Runs for every event of a keyed batch: four table look-ups, no number formatting. */
function hex8 (n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 0xff]! + HEX[(n >>> 8) & 0xff]! + HEX[n & 0xff]!
}

/** The 16 hex characters after the seconds: the part of an id that the key and the index alone decide. */
export function derivedTail (seed: readonly [number, number], index: number): string {
  const hi = fmix32((seed[0] ^ index) >>> 0)
  const lo = fmix32((seed[1] ^ Math.imul(index + 1, 0x9e3779b1) ^ hi) >>> 0)
  return hex8(hi) + hex8(lo)
}

/** The ids of a batch's events by their index in the request. */
export function derivedIds (seed: readonly [number, number], seconds: number): IdOf {
  const prefix = hex8(seconds)
  return index => prefix + derivedTail(seed, index)
}
