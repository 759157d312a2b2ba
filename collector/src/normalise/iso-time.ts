// Epoch milliseconds → ISO 8601 text, exactly as `new Date(ms).toISOString()` writes it for the years
// the collector accepts (0000–9999). That call was the single largest step of ingest after JSON itself,
// because it formats every field of the date for every event; the events of one batch fall mostly within
// one second, so the text up to the seconds is kept and only the milliseconds are appended.

/** The latest moment the collector accepts: 9999-12-31T23:59:59.999Z (ISO 8601's four-digit years). */
export const MAX_DATE_MS = 253402300799999

const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))

let cachedSecond = Number.NaN
/** `YYYY-MM-DDTHH:MM:SS.` of cachedSecond. */
let cachedPrefix = ''

/** `ms` must be finite and within 0 … 9999-12-31T23:59:59.999Z (the caller checks). */
export function isoFromMillis (ms: number): string {
  const whole = Math.floor(ms) // Date drops the fraction; for ms ≥ 0 that is floor
  const second = Math.floor(whole / 1000)
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20)
    cachedSecond = second
  }
  return cachedPrefix + MILLIS[whole - second * 1000]! + 'Z'
}
