// Every journal line starts with the same head, written at ingest:
//
//   {"timestamp":"2026-11-27T10:15:00.000Z","level":"ERROR",…the rest of the event…}
//
// The timestamp is always 24 characters (ISO 8601, UTC, milliseconds, years 1970–9999), so the read side
// finds an event's time and level at fixed offsets without parsing the line: time bounds of journal
// blocks, the time window and the level filter cost a few byte comparisons per line. Lines written by an
// older collector lack the head; readers fall back to JSON.parse for them.

const PREFIX = '{"timestamp":"'
const LEVEL_KEY = '","level":"'
/** Offset of the timestamp in a line with the head. */
export const TS_START = PREFIX.length
export const TS_LENGTH = 24
/** Offset of the level name. */
export const LEVEL_START = TS_START + TS_LENGTH + LEVEL_KEY.length

export function lineHead (timestamp: string, level: string): string {
  return PREFIX + timestamp + LEVEL_KEY + level + '",'
}

export interface Head {
  timestamp: string
  level: string
}

/** The head of a journal line, or undefined for a line without one (written by an older version). */
export function readHead (line: string): Head | undefined {
  if (!line.startsWith(PREFIX) || !line.startsWith(LEVEL_KEY, TS_START + TS_LENGTH)) return undefined
  const end = line.indexOf('"', LEVEL_START)
  if (end === -1) return undefined
  return { timestamp: line.slice(TS_START, TS_START + TS_LENGTH), level: line.slice(LEVEL_START, end) }
}

const PREFIX_BYTES = Buffer.from(PREFIX, 'latin1')
const LEVEL_KEY_BYTES = Buffer.from(LEVEL_KEY, 'latin1')
const LEVEL_KEY_AT = TS_START + TS_LENGTH

/**
 * Whether the line at `start` in `buf` (ending before `end`) has the head. Runs for every line a scan
 * touches: a few byte comparisons in place, no call into the runtime per line.
 */
export function hasHead (buf: Buffer, start: number, end: number): boolean {
  if (end - start <= LEVEL_START) return false
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (buf[start + i] !== PREFIX_BYTES[i]) return false
  for (let i = 0; i < LEVEL_KEY_BYTES.length; i++) if (buf[start + LEVEL_KEY_AT + i] !== LEVEL_KEY_BYTES[i]) return false
  return true
}

/** Compares the timestamps of two lines with the head, in place: < 0 when the one at `a` is older. */
export function compareTimestamps (buf: Buffer, a: number, b: number): number {
  for (let i = TS_START; i < TS_START + TS_LENGTH; i++) {
    const d = buf[a + i]! - buf[b + i]!
    if (d !== 0) return d
  }
  return 0
}
