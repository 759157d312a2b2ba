// One event → one readable line, in the manner of pino-pretty:
//
//   21:19:40.123 WARNING  api  disk low  disk=sda http={"status":500}
//       Error: boom            ← a field's `stack`, if any, on the lines below
//           at …
//
// Text from the log is made harmless first: a control character (an escape sequence could rewrite the
// terminal) is shown as \u001b rather than sent.
import type { Style } from './style'

/** Fields the line shows in its own places, or leaves to --json. */
const SHOWN = new Set(['timestamp', 'level', 'app_name', 'message', '_id', 'received_at'])
const LEVEL_WIDTH = 8 // CRITICAL

// C0 controls but tab and newline, DEL, and the C1 controls (U+009B is a one-character CSI).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

export function harmless (text: string): string {
  return text.replace(CONTROL, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** Local HH:MM:SS.mmm, with the date in front when it is not today's; ISO 8601 UTC with `utc`. */
export function formatTime (value: unknown, utc: boolean, now: Date): string {
  const d = new Date(typeof value === 'string' || typeof value === 'number' ? value : NaN)
  if (Number.isNaN(d.getTime())) return String(value ?? '-')
  if (utc) return d.toISOString()
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate()
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`
}

/** A value as `key=value` shows it: bare when it reads unambiguously, else as JSON. */
function valueText (v: unknown): string {
  if (typeof v === 'string') return v !== '' && !/[\s"=\\]/.test(v) ? v : JSON.stringify(v)
  if (v === null || typeof v !== 'object') return String(v)
  return JSON.stringify(v)
}

/** A nested object's stack trace, lifted out of the JSON to be printed as lines. */
function withoutStack (v: unknown): { value: unknown, stack: string | undefined } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { value: v, stack: undefined }
  const { stack, ...rest } = v as Record<string, unknown>
  return typeof stack === 'string' ? { value: rest, stack } : { value: v, stack: undefined }
}

export function formatEvent (event: Record<string, unknown>, style: Style, utc: boolean, now: Date): string {
  const level = typeof event.level === 'string' ? event.level : String(event.level ?? '')
  const parts = [
    style.time(formatTime(event.timestamp, utc, now)),
    style.level(level, harmless(level.padEnd(LEVEL_WIDTH))),
    style.app(harmless(String(event.app_name ?? '-'))),
    harmless(typeof event.message === 'string' ? event.message : JSON.stringify(event.message ?? ''))
  ]
  const stacks: string[] = []
  for (const [key, raw] of Object.entries(event)) {
    if (SHOWN.has(key)) continue
    const { value, stack } = withoutStack(raw)
    if (stack !== undefined) stacks.push(stack)
    parts.push(`${style.key(harmless(key) + '=')}${harmless(valueText(value))}`)
  }
  let line = parts.join(' ')
  for (const stack of stacks) line += '\n' + harmless(stack).split('\n').map(l => '    ' + l).join('\n')
  return line
}
