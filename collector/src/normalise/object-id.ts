// A new ObjectId as the 24 hex characters the journal stores, laid out as the driver lays them out
// (4 bytes of seconds, 5 random bytes per process, a 3-byte counter from a random start), without
// building an ObjectId and its Buffer per event only to turn them into text. Each collector process
// (and each WORKER_COUNT worker) draws its own random bytes, so ids stay unique across processes.
import { randomBytes } from 'node:crypto'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')
const PROCESS_UNIQUE = randomBytes(5).toString('hex')

let counter = randomBytes(3).readUIntBE(0, 3)
let cachedSecond = -1
/** Seconds and process bytes, the first 18 hex characters, as text and as bytes. */
let cachedPrefix = ''
const cachedPrefixBytes = Buffer.alloc(18)

function nextCounter (nowMs: number): number {
  const second = Math.floor(nowMs / 1000)
  if (second !== cachedSecond) {
    cachedPrefix = (second >>> 0).toString(16).padStart(8, '0') + PROCESS_UNIQUE
    cachedPrefixBytes.latin1Write(cachedPrefix, 0, 18)
    cachedSecond = second
  }
  counter = (counter + 1) & 0xffffff
  return counter
}

export function newObjectIdHex (nowMs: number = Date.now()): string {
  const c = nextCounter(nowMs)
  return cachedPrefix + HEX[c >>> 16]! + HEX[(c >>> 8) & 0xff]! + HEX[c & 0xff]!
}

/** A new id, as newObjectIdHex makes it, written as 24 hex bytes into `buf` at `at` (the OTLP direct lines). */
export function writeObjectIdHex (buf: Buffer, at: number, nowMs: number = Date.now()): void {
  const c = nextCounter(nowMs)
  buf.set(cachedPrefixBytes, at)
  for (let i = 0; i < 6; i++) buf[at + 18 + i] = HEX_DIGITS[(c >>> (20 - 4 * i)) & 0xf]!
}
