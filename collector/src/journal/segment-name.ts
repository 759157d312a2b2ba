// Journal segment names: `maap-YYYYMMDDTHHMMSSZ-NNNNNN.ndjson` — the UTC time the segment was opened, then
// a sequence number — so that a plain sort is the order they were written in.

/** Collector journal segment names: `maap-YYYYMMDDTHHMMSSZ-NNNNNN.ndjson` (UTC opening time, 6-digit sequence). */
export const SEGMENT_NAME = /^maap-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-(\d{6})\.ndjson$/

/** Sequence numbers are written with six digits; they wrap after 999999 (the time part decides order). */
const SEQ_MODULUS = 1_000_000

function pad (n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/**
 * The name of a segment opened at `openedAt` (UTC, whole seconds) with sequence `seq` (the writer's own counter,
 * a positive integer, so not checked here). Names sort by opening
 * time; `seq` orders segments opened within the same second. A `seq` of a million or more wraps to six digits
 * (a same-second tie across the wrap is the only case where the order could differ, and cannot occur in
 * practice), so a long-lived journal never produces a name that the pattern rejects.
 */
export function segmentName (openedAt: Date, seq: number): string {
  const ms = openedAt.getTime()
  // The clock is the one input nothing upstream validates: a name the pattern rejects would be a segment lost.
  if (!Number.isFinite(ms)) throw new RangeError('segmentName: openedAt is not a valid date')
  const d = new Date(ms)
  const year = d.getUTCFullYear()
  if (year < 0 || year > 9999) throw new RangeError('segmentName: openedAt is outside years 0000–9999')
  return `maap-${pad(year, 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z-` +
    `${pad(seq % SEQ_MODULUS, 6)}.ndjson`
}

/** Parses a segment name; undefined for any other name, including impossible dates (e.g. month 13). */
export function parseSegmentName (name: string): { openedAt: Date, seq: number } | undefined {
  const m = SEGMENT_NAME.exec(name)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second, seq] = m.slice(1).map(Number) as
    [number, number, number, number, number, number, number]
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  // The setters normalise out-of-range parts (Feb 30 → Mar 2); such a name was not written by segmentName.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day ||
    date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return undefined
  }
  return { openedAt: date, seq }
}
