// What every channel says about a notification, worded once: the summary ("12 events in 5m"), one line per
// sample event, durations as the API writes them, and text cut to a byte budget. Slack and e-mail add only
// their own markup around these.
import type { Notification, NotificationEvent } from '../model'

/** At most this many bytes of a receiver's answer or an error are kept (issue #21: last_error ≤ 1 KB). */
export const ERROR_BYTES = 1024

/** `text` cut to at most `bytes` UTF-8 bytes, never in the middle of a character. */
export function clipBytes (text: string, bytes: number = ERROR_BYTES): string {
  if (Buffer.byteLength(text) <= bytes) return text
  const cut = Buffer.from(text).subarray(0, bytes).toString('utf8')
  // A character cut in two decodes as U+FFFD (3 bytes): drop it, so the answer stays within the budget.
  return cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut
}

/** `text` cut to at most `chars` characters, with an ellipsis when cut. */
export function clipChars (text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, Math.max(0, chars - 1))}…`
}

/** Milliseconds as the API writes a window ("30s", "5m", "1h", "1500ms"): the largest unit that divides it. */
export function formatDuration (ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

function plural (n: number): string {
  return n === 1 ? '1 event' : `${n} events`
}

/** "12 events", or for a count alert "12 events in 5m (above 10)". */
export function countLine (n: Notification): string {
  const c = n.condition
  if (c.type !== 'count') return plural(n.count)
  const bound = typeof c.above === 'number' ? `above ${c.above}` : typeof c.below === 'number' ? `below ${c.below}` : ''
  const window = typeof c.window === 'string' ? ` in ${c.window}` : ''
  return `${plural(n.count)}${window}${bound === '' ? '' : ` (${bound})`}`
}

/** "payments 5xx" with any line break flattened: a name goes into subjects and headers. */
export function oneLine (text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ')
}

/** `[MAAP] firing: payments 5xx (12 events)`. */
export function subject (n: Notification): string {
  return `[MAAP] ${n.state}: ${oneLine(n.alert_name)} (${plural(n.count)})`
}

/** The four fields every channel shows for an event, the message on one line and cut to `messageChars`. */
export function eventFields (e: NotificationEvent, messageChars: number): { time: string, level: string, app: string, message: string } {
  return { time: e.timestamp, level: e.level, app: e.app_name, message: clipChars(oneLine(e.message), messageChars) }
}

/** `2024-05-01T10:00:00.000Z ERROR payments  card declined`, the plain form of one event. */
export function eventLine (e: NotificationEvent, messageChars = 200): string {
  const f = eventFields(e, messageChars)
  return `${f.time} ${f.level.padEnd(5)} ${f.app}  ${f.message}`
}
