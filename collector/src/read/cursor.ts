// The `next` cursor of GET /logs: where a page ended in the answer's order (timestamp descending, then
// _id descending), and the moment the first page was answered. The next page answers what comes strictly
// after that key among the events received by then, so following `next` to the end sees every event that
// matched at the first page exactly once, even while new ones arrive (keyset paging: no offsets, nothing
// shifts under the reader). It is opaque to clients but holds no secret: a crafted one can only ask for
// a position, so it is checked for shape, not signed.
export interface Cursor {
  /** ISO timestamp of the last event returned. */
  timestamp: string
  /** Its _id (24 hex digits). */
  id: string
  /** Only events received up to this moment (ISO): the first page's snapshot. */
  snapshot: string
}

const VERSION = 'c1'
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const HEX24 = /^[0-9a-f]{24}$/

export function encodeCursor (c: Cursor): string {
  return Buffer.from(`${VERSION}|${c.timestamp}|${c.id}|${c.snapshot}`, 'latin1').toString('base64url')
}

/** The cursor, or undefined when `text` is not one this API made. */
export function decodeCursor (text: string): Cursor | undefined {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined
  const parts = Buffer.from(text, 'base64url').toString('latin1').split('|')
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined
  const [, timestamp, id, snapshot] = parts as [string, string, string, string]
  if (!ISO.test(timestamp) || !HEX24.test(id) || !ISO.test(snapshot)) return undefined
  if (!Number.isFinite(Date.parse(timestamp)) || !Number.isFinite(Date.parse(snapshot))) return undefined
  return { timestamp, id, snapshot }
}

/** Whether the event (timestamp, id) comes before `b`'s key in the answer's order (newer first). */
export function comesBefore (ts: string, id: string, bTs: string, bId: string): boolean {
  return ts > bTs || (ts === bTs && id > bId)
}
