// Retry timing: exponential backoff with "equal jitter" (half fixed, half random) so the pages of every
// visitor that lost the collector at the same moment do not come back in lockstep.

export const RETRY_BASE_MS = 500
export const RETRY_MAX_MS = 30_000

export function backoffDelay (failures: number, random: () => number, baseMs = RETRY_BASE_MS, maxMs = RETRY_MAX_MS): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30))
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
