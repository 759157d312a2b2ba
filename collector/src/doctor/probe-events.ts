// The events doctor writes into its scratch collection: three journal lines as the collector would
// replay them, two days old (so the sweeper's expiry takes them), in two histogram buckets, and the
// counts the histogram's $group must find for them.
import { ObjectId } from 'mongodb'

export const PROBE_APP = 'maap-collector-doctor'
const MINUTE = 60_000
const DAY = 86_400_000

export interface ProbeEvents {
  /** Journal lines (NDJSON, as the journal keeps them). */
  lines: string[]
  /** Start of the first histogram bucket, and the buckets' width. */
  first: number
  intervalMs: number
  /** "LEVEL@bucket" → count. */
  expected: Record<string, number>
}

export function probeEvents (now = Date.now()): ProbeEvents {
  const first = Math.floor((now - 2 * DAY) / MINUTE) * MINUTE
  const events = [[1000, 'INFO', 0], [2000, 'ERROR', 0], [MINUTE + 1000, 'INFO', 1]] as const
  const expected: Record<string, number> = {}
  const lines = events.map(([offset, level, bucket]) => {
    expected[`${level}@${bucket}`] = (expected[`${level}@${bucket}`] ?? 0) + 1
    const timestamp = new Date(first + offset).toISOString()
    return JSON.stringify({
      _id: new ObjectId().toHexString(), timestamp, received_at: timestamp, level, app_name: PROBE_APP,
      message: 'written by maap-collector doctor in its scratch collection'
    })
  })
  return { lines, first, intervalMs: MINUTE, expected }
}
