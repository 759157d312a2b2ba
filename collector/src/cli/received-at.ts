// Where a journal line's `received_at` is, in place: the key that puts the lines of several journals
// (WORKER_COUNT > 1) back in the order the service received them. Within one journal it never goes down
// (the writer appends in the order events are stamped), so merging journals by it is a merge of sorted runs.
//
//   …,"_id":"…","received_at":"2026-12-06T16:16:12.345Z"}   the common line (normalise/splice.ts, and
//                               └──────── 24 bytes ──────┘    JSON.stringify of a completed event): its end
//   {…,"received_at":"…",…}     an event whose fields were renamed: the key once in the line, then its value
//   anything else               parsed (a nested received_at too)
//
// In valid JSON the bytes `"received_at":"` are a key followed by a string, and the top-level key is always
// there, so when they occur once they are the top-level one.

const KEY = Buffer.from('"received_at":"', 'latin1')
const ISO_LENGTH = 24
/** From the key's start to the line's end on the common line: key, value, `"}`. */
const TAIL_LENGTH = KEY.length + ISO_LENGTH + 2
const QUOTE = 34
const BACKSLASH = 92

/** A line's received_at as a byte range of `buf` (no copy); a line without one has an empty range. */
export interface Key {
  buf: Buffer
  start: number
  end: number
}

const NONE = Buffer.alloc(0)

/** Sets `key` to the received_at of the line buf[start, end) (no newline). */
export function receivedAt (buf: Buffer, start: number, end: number, key: Key): void {
  const tail = end - TAIL_LENGTH
  if (tail >= start && buf[end - 1] === 125 /* } */ && buf[end - 2] === QUOTE && buf.compare(KEY, 0, KEY.length, tail, tail + KEY.length) === 0) {
    key.buf = buf
    key.start = tail + KEY.length
    key.end = end - 2
    return
  }
  const at = buf.indexOf(KEY, start)
  if (at !== -1 && at < end) {
    const again = buf.indexOf(KEY, at + KEY.length)
    if (again === -1 || again >= end) {
      for (let i = at + KEY.length; i < end; i++) {
        if (buf[i] === QUOTE) {
          key.buf = buf
          key.start = at + KEY.length
          key.end = i
          return
        }
        if (buf[i] === BACKSLASH) break
      }
    }
  }
  let value: unknown
  try {
    value = (JSON.parse(buf.toString('utf8', start, end)) as { received_at?: unknown }).received_at
  } catch {}
  key.buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : NONE
  key.start = 0
  key.end = key.buf.length
}

/** Orders two keys as their ISO texts do. */
export function compareKeys (a: Key, b: Key): number {
  return a.buf.compare(b.buf, b.start, b.end, a.start, a.end)
}
