// Every journal line the collector writes ends with the same tail, appended at ingest (normalise.ts,
// splice.ts):
//
//   {"timestamp":"…","level":"…",…the rest of the event…,"_id":"<24 hex>","received_at":"<ISO, 24>"}
//                                                       └──────────── TAIL_BYTES from the end ──────┘
//
// So a reader finds an event's _id and received_at at fixed offsets from the line's end, as the head
// (line-head.ts) gives its timestamp and level from the start: ordering a search's answer (timestamp, _id)
// and its snapshot (received_at) then need no JSON.parse. Why the bytes are the parsed values: inside a
// JSON string every '"' is escaped, so `,"_id":"` followed by a string with no quote or backslash, then
// `","received_at":"`, a second such string and the line's final `"}` can only be the last two members of
// the top-level object — and JSON.parse keeps a key's last value. A line that ends any other way (an older
// collector's, one with a client's own _id) is left to the parse.
const ID_KEY = Buffer.from(',"_id":"', 'latin1')
const RECEIVED_KEY = Buffer.from('","received_at":"', 'latin1')
const ID_LENGTH = 24
const RECEIVED_LENGTH = 24
/** From the _id's first byte to received_at's. */
export const RECEIVED_FROM_ID = ID_LENGTH + RECEIVED_KEY.length
export const TAIL_BYTES = ID_KEY.length + ID_LENGTH + RECEIVED_KEY.length + RECEIVED_LENGTH + 2
const QUOTE = 0x22
const BRACE = 0x7d
const BACKSLASH = 0x5c

function keyAt (buf: Buffer, at: number, key: Buffer): boolean {
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return false
  return true
}

/** Whether buf[from, from + n) is printable ASCII with no quote or backslash: its bytes are its text. */
function plain (buf: Buffer, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) {
    const b = buf[i]!
    if (b < 0x20 || b > 0x7e || b === QUOTE || b === BACKSLASH) return false
  }
  return true
}

/**
 * The offset of the _id's first byte in the line buf[start, end) (no newline), or -1 when the line does
 * not end with the tail; received_at starts RECEIVED_FROM_ID bytes later.
 */
export function tailAt (buf: Buffer, start: number, end: number): number {
  const at = end - TAIL_BYTES
  if (at <= start || buf[end - 1] !== BRACE || buf[end - 2] !== QUOTE) return -1
  if (!keyAt(buf, at, ID_KEY) || !keyAt(buf, at + ID_KEY.length + ID_LENGTH, RECEIVED_KEY)) return -1
  const id = at + ID_KEY.length
  if (!plain(buf, id, ID_LENGTH) || !plain(buf, id + RECEIVED_FROM_ID, RECEIVED_LENGTH)) return -1
  return id
}

export { ID_LENGTH, RECEIVED_LENGTH }
