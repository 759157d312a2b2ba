// How times are shown: local time to the millisecond, with the date when it is not today.
const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

export function shortTime (iso: unknown): string {
  if (typeof iso !== 'string') return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  const now = new Date()
  if (d.toDateString() === now.toDateString()) return time
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}

/** A from/to parameter as epoch ms when it is a moment (ISO 8601 or epoch ms); NaN for a relative one ('1h') or none. */
export function absoluteMs (value: string | null): number {
  if (value === null) return NaN
  if (/^\d+$/.test(value)) return Number(value)
  return /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : NaN
}

/** An ISO time or epoch ms → the value a datetime-local input shows (local time). */
export function toLocalInput (value: string): string {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(ms)) return ''
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** A datetime-local value (local time) → ISO 8601 UTC, or '' when empty. */
export function fromLocalInput (value: string): string {
  if (value === '') return ''
  const ms = new Date(value).getTime()
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ''
}
