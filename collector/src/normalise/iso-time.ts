// Epoch milliseconds → ISO 8601 text, exactly as `new Date(ms).toISOString()` writes it for the years
// the collector accepts (0000–9999). That call was the single largest step of ingest after JSON itself,
// because it formats every field of the date for every event; the events of one batch fall mostly within
// one second, so the text up to the seconds is kept and only the milliseconds are appended.

/** The latest moment the collector accepts: 9999-12-31T23:59:59.999Z (ISO 8601's four-digit years). */
export const MAX_DATE_MS = 253402300799999

const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))

let cachedSecond = Number.NaN
/** `YYYY-MM-DDTHH:MM:SS.` of cachedSecond, as text and as bytes. */
let cachedPrefix = ''
const cachedPrefixBytes = Buffer.alloc(20)

function prefixOf (second: number): string {
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20)
    cachedPrefixBytes.latin1Write(cachedPrefix, 0, 20)
    cachedSecond = second
  }
  return cachedPrefix
}

/** `ms` must be finite and within 0 … 9999-12-31T23:59:59.999Z (the caller checks). */
export function isoFromMillis (ms: number): string {
  const whole = Math.floor(ms) // Date drops the fraction; for ms ≥ 0 that is floor
  const second = Math.floor(whole / 1000)
  return prefixOf(second) + MILLIS[whole - second * 1000]! + 'Z'
}

/** The same 24 characters as isoFromMillis(ms), written into `buf` at `at` (for the OTLP direct lines). */
export function writeIsoFromMillis (buf: Buffer, at: number, ms: number): void {
  const whole = Math.floor(ms)
  const second = Math.floor(whole / 1000)
  prefixOf(second)
  buf.set(cachedPrefixBytes, at)
  const millis = whole - second * 1000
  buf[at + 20] = 48 + Math.floor(millis / 100)
  buf[at + 21] = 48 + Math.floor(millis / 10) % 10
  buf[at + 22] = 48 + millis % 10
  buf[at + 23] = 90 // Z
}
