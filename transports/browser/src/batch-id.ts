// The id of a batch, sent as `?batch=` with every attempt of it (the collector treats it as an
// Idempotency-Key), so a retry after a lost answer — or the beacon of a batch whose fetch may have
// arrived — is stored once.
//
// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. The collector takes the
// time from it for the events' ids, which keeps them time-ordered.

/** Fills `bytes` with random values: Web Crypto where there is one, else `random` (never for secrets: this is an id). */
function fillRandom (bytes: Uint8Array, random: () => number): void {
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto
  if (typeof crypto?.getRandomValues === 'function') {
    crypto.getRandomValues(bytes)
    return
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256)
}

export function newBatchId (nowMs: number, random: () => number = Math.random): string {
  const bytes = new Uint8Array(16)
  fillRandom(bytes, random)
  let ms = Math.max(0, Math.floor(nowMs))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes[6] = 0x70 | (bytes[6]! & 0x0f) // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f) // RFC 9562 variant
  let hex = ''
  for (const b of bytes) hex += (b < 16 ? '0' : '') + b.toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
