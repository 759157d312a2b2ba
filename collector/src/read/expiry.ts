// RETENTION_RULES on the read side: journal lines past their rule's age are never answered (search, export,
// histogram, values, fields, tail), though their segment may still be on disk (a segment goes only once
// every event in it has expired; retention/segment-expiry.ts).
//
//   line head (timestamp, level) ─► younger than the shortest age? kept (most lines: one comparison)
//                                 ─► older than the longest age?   expired
//                                 ─► else the rule: level from the head, app_name from the line's bytes
//                                    when a rule names apps ─► timestamp < that rule's cutoff? expired
//
// The app_name is found without parsing: in valid JSON the bytes `"app_name":"` can only be a key followed
// by a string (an escaped quote inside a string cannot precede `:` unescaped), and the top-level key is
// always there, so when the bytes occur once they are the top-level app_name. A nested one too, or an
// escape in the value: the line is parsed.
import { LEVEL_START, TS_LENGTH, TS_START } from '../journal/line-head'
import { CANONICAL_LEVELS } from '../normalise/levels'
import type { RetentionPolicy } from '../retention/policy'

const APP_KEY = Buffer.from('"app_name":"', 'latin1')
const QUOTE = 34
const BACKSLASH = 92
/** Cut-offs are recomputed at most this often by a long-lived reader (a tail). */
const REFRESH_MS = 1000

/** The canonical levels have distinct first letters. */
const LEVEL_BY_FIRST_BYTE = new Map<number, string>(CANONICAL_LEVELS.map(l => [l.charCodeAt(0), l]))

function isoOf (ms: number): string {
  if (ms === -Infinity) return ''
  return ms < 0 ? '0000-00-00' : new Date(Math.min(ms, 253402300799999)).toISOString()
}

export class ExpiryFilter {
  private cutoffs: string[] = []
  /** Lines at or after this timestamp are kept whatever their rule ('' : none is, all kept forever). */
  private keptFrom = ''
  /** Lines before this timestamp have expired whatever their rule ('' : none has; something is kept forever). */
  private expiredBefore = ''
  private computedAt = -Infinity

  constructor (private readonly policy: RetentionPolicy, private readonly now: () => number = Date.now) {
    this.refresh()
  }

  /** Recomputes the cut-offs from the clock (at most once a second). */
  refresh (): void {
    const now = this.now()
    if (now - this.computedAt < REFRESH_MS) return
    this.computedAt = now
    const ms = this.policy.cutoffs(now)
    this.cutoffs = ms.map(isoOf)
    const finite = ms.filter(m => m !== -Infinity)
    this.keptFrom = finite.length === 0 ? '' : isoOf(Math.max(...finite))
    this.expiredBefore = finite.length < ms.length ? '' : isoOf(Math.min(...finite))
  }

  /** Whether a block whose newest event has `maxTs` holds only expired events (it need not be read). */
  allExpired (maxTs: string): boolean {
    return this.expiredBefore !== '' && maxTs < this.expiredBefore
  }

  /** Whether a block whose oldest event has `minTs` holds only kept events (its summaries can be trusted). */
  noneExpired (minTs: string): boolean {
    return this.keptFrom === '' || minTs >= this.keptFrom
  }

  /** Whether the line at buf[start, end), which has the head, with timestamp `ts`, has expired. */
  expiredLine (buf: Buffer, start: number, end: number, ts: string): boolean {
    if (this.keptFrom === '' || ts >= this.keptFrom) return false
    if (this.expiredBefore !== '' && ts < this.expiredBefore) return true
    const level = LEVEL_BY_FIRST_BYTE.get(buf[start + LEVEL_START]!)
    const app = this.policy.needsApp ? appOf(buf, start, end) : undefined
    return ts < this.cutoffs[this.policy.ruleOf(app, level)]!
  }

  /** Whether a parsed event has expired. */
  expiredEvent (e: Record<string, unknown>): boolean {
    const ts = e.timestamp
    if (typeof ts !== 'string' || this.keptFrom === '' || ts >= this.keptFrom) return false
    const rule = this.policy.ruleOf(typeof e.app_name === 'string' ? e.app_name : undefined, typeof e.level === 'string' ? e.level : undefined)
    return ts < this.cutoffs[rule]!
  }
}

/** The top-level app_name of a journal line, read from its bytes (see the top of this file). */
export function appOf (buf: Buffer, start: number, end: number): string | undefined {
  const line = buf.subarray(start, end)
  const at = line.indexOf(APP_KEY, TS_START + TS_LENGTH)
  if (at !== -1 && line.indexOf(APP_KEY, at + APP_KEY.length) === -1) {
    // App names are short: walk to the closing quote; an escape in the value is left to JSON.parse.
    for (let i = at + APP_KEY.length; i < line.length; i++) {
      const b = line[i]
      if (b === QUOTE) return line.toString('utf8', at + APP_KEY.length, i)
      if (b === BACKSLASH) break
    }
  }
  try {
    const app = (JSON.parse(buf.toString('utf8', start, end)) as { app_name?: unknown }).app_name
    return typeof app === 'string' ? app : undefined
  } catch {
    return undefined
  }
}
