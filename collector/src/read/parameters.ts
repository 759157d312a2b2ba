// What every read parameter is checked with, kept apart from the parameters themselves so that the query
// language (query/parse.ts) and read/query.ts can both use them: the error that names a parameter, times
// (absolute or relative to now) and field paths that can never be operators.
import { MAX_DATE_MS, isoFromMillis } from '../normalise/iso-time'

export class QueryParameterError extends Error {
  constructor (readonly parameter: string, message: string) {
    super(`${parameter}: ${message}`)
    this.name = 'QueryParameterError'
  }
}

const RELATIVE = /^(\d{1,9})(s|m|h|d|w)$/
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** ISO 8601, epoch milliseconds, or a time relative to now (`15m`, `2h`, `7d`) → ISO 8601 (UTC, ms). */
export function parseTime (name: string, raw: string, now: number): string {
  let ms: number
  const rel = RELATIVE.exec(raw)
  if (rel !== null) ms = now - Number(rel[1]) * UNIT_MS[rel[2]!]!
  else if (/^\d{1,16}$/.test(raw)) ms = Number(raw)
  else if (/^\d{4}-\d{2}-\d{2}/.test(raw)) ms = Date.parse(raw)
  else ms = NaN
  if (!Number.isFinite(ms)) {
    throw new QueryParameterError(name, `"${raw.slice(0, 64)}" is not a time: use ISO 8601, epoch milliseconds, or 15m / 2h / 7d before now`)
  }
  return isoFromMillis(Math.min(Math.max(ms, 0), MAX_DATE_MS))
}

/** One part of a field path: not empty, no `.` or NUL, not starting with `$` (never an operator). */
export const FIELD_SEGMENT = /^[^$.\0][^.\0]{0,255}$/
/** Parts of a field path at most. */
export const MAX_PATH_PARTS = 20

/** A stored field's path from its dotted name (`http.status`); refuses what could be an operator. */
export function fieldPath (parameter: string, dotted: string): string[] {
  const path = dotted.split('.')
  if (path.length > MAX_PATH_PARTS || !path.every(s => FIELD_SEGMENT.test(s))) {
    throw new QueryParameterError(parameter, 'a field path is names separated by dots, none empty or starting with "$"')
  }
  return path
}
