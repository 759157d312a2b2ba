// A new ObjectId as the 24 hex characters the journal stores, laid out as the driver lays them out
// (4 bytes of seconds, 5 random bytes per process, a 3-byte counter from a random start), without
// building an ObjectId and its Buffer per event only to turn them into text. Each collector process
// (and each WORKER_COUNT worker) draws its own random bytes, so ids stay unique across processes.
import { randomBytes } from 'node:crypto'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const PROCESS_UNIQUE = randomBytes(5).toString('hex')

let counter = randomBytes(3).readUIntBE(0, 3)
let cachedSecond = -1
/** Seconds and process bytes, the first 18 hex characters. */
let cachedPrefix = ''

export function newObjectIdHex (nowMs: number = Date.now()): string {
  const second = Math.floor(nowMs / 1000)
  if (second !== cachedSecond) {
    cachedPrefix = (second >>> 0).toString(16).padStart(8, '0') + PROCESS_UNIQUE
    cachedSecond = second
  }
  counter = (counter + 1) & 0xffffff
  return cachedPrefix + HEX[counter >>> 16]! + HEX[(counter >>> 8) & 0xff]! + HEX[counter & 0xff]!
}
