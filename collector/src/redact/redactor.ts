// Redaction at ingest: one parsed event, changed in place before its journal line is made, so what a
// rule matches never reaches the journal, MongoDB, tails or alerts.
//
//   POST /log, /logs (+ shippers' mappings), /v1/logs (decoded path)
//     ─► normaliseEvent ─► Redactor.redact(event) ─► changed? ─yes─► serialised (never spliced from the text)
//                                                             └no──► the usual line (spliced when it can be)
//
// A field named by REDACT_FIELDS gets the value '[REDACTED]' whatever it held (a string, a number, a
// whole object); the detectors of REDACT_PATTERNS replace each match inside every other string value,
// `message` included. The collector's own top-level fields (level, timestamp, app_name) are left alone:
// normaliseEvent has read them already. Field names are not redacted. Arrays are looked through: a path
// goes on into each element as into the array itself. Matches are counted by rule for /status and
// /metrics. Compiled once at start; without rules there is no redactor and ingest does nothing extra.
import { DETECTORS, type Detector, type Match } from './detectors'

export const REDACTED = '[REDACTED]'

/** Top-level fields normaliseEvent has already read and checked. */
const SKIPPED = new Set(['level', 'timestamp', 'app_name'])

interface Path {
  segments: readonly string[]
  rule: number
}

export interface RedactionStatus {
  /** Every rule, as `field:<name or path>` and `pattern:<detector>`. */
  rules: string[]
  /** Values (fields) and matches (patterns) replaced since start, by rule. */
  redacted_by_rule: Record<string, number>
}

export class Redactor {
  /** Rule names, `field:…` then `pattern:…`; counts[i] belongs to rules[i]. */
  readonly rules: readonly string[]
  private readonly counts: number[]
  /** Bare names (any depth), lower-cased, to their rule index. */
  private readonly names = new Map<string, number>()
  /** Paths of two segments or more, from the event's top. */
  private readonly paths: Path[] = []
  private readonly detectors: Array<{ detector: Detector, rule: number }> = []
  /** Whether the card detector is on: numbers are looked at too. */
  private readonly cardRule: number = -1
  private readonly match: Match = { start: 0, end: 0 }
  /** Field names as sent, to the rule of the bare name they match (-1: none). */
  private readonly seen = new Map<string, number>()
  private changed = false

  constructor (fields: readonly string[], patterns: readonly string[]) {
    const rules: string[] = []
    for (const field of fields) {
      const rule = rules.push(`field:${field}`) - 1
      const segments = field.split('.')
      if (segments.length === 1) this.names.set(field, rule)
      else this.paths.push({ segments, rule })
    }
    for (const name of patterns) {
      const rule = rules.push(`pattern:${name}`) - 1
      this.detectors.push({ detector: DETECTORS[name]!, rule })
      if (name === 'card') this.cardRule = rule
    }
    this.rules = Object.freeze(rules)
    this.counts = rules.map(() => 0)
  }

  /** A redactor for these rules, or undefined when there are none (then ingest skips redaction). */
  static compile (fields: readonly string[], patterns: readonly string[]): Redactor | undefined {
    return fields.length === 0 && patterns.length === 0 ? undefined : new Redactor(fields, patterns)
  }

  /** Redacts `event` in place; true when something was replaced. */
  redact (event: Record<string, unknown>): boolean {
    this.changed = false
    this.object(event, 0, this.paths, true)
    return this.changed
  }

  /** Redacts matches of the detectors in one string (e.g. a message); returns it, changed or not. */
  redactText (s: string): string {
    for (let d = 0; d < this.detectors.length; d++) {
      const { detector, rule } = this.detectors[d]!
      if (!detector.quick(s)) continue
      const m = this.match
      let out = ''
      let last = 0
      let n = 0
      // Every match is at least one character long, so each turn moves on.
      for (let from = 0; detector.next(s, from, m); from = m.end) {
        out += s.slice(last, m.start) + REDACTED
        last = m.end
        n++
      }
      if (n > 0) {
        s = out + s.slice(last)
        this.counts[rule]! += n
        this.changed = true
      }
    }
    return s
  }

  status (): RedactionStatus {
    const byRule: Record<string, number> = {}
    for (let i = 0; i < this.rules.length; i++) byRule[this.rules[i]!] = this.counts[i]!
    return { rules: [...this.rules], redacted_by_rule: byRule }
  }

  /** [rule, count] for each rule, for the metric. */
  countsByRule (): Array<[string, number]> {
    return this.rules.map((r, i) => [r, this.counts[i]!])
  }

  private object (obj: Record<string, unknown>, depth: number, paths: readonly Path[], top: boolean): void {
    // for…in, not Object.keys: no array per object. Parsed JSON and the mappings' records are plain
    // objects, with nothing enumerable on their prototype.
    for (const key in obj) {
      if (top && SKIPPED.has(key)) continue
      let rule = this.nameRule(key)
      // Paths that go on below this field; only built when some path matches up to here.
      let below: Path[] | undefined
      if (paths.length > 0 && rule === -1) {
        const lower = key.toLowerCase()
        for (let p = 0; p < paths.length && rule === -1; p++) {
          const path = paths[p]!
          const segment = path.segments[depth]!
          if (segment !== '*' && segment !== lower) continue
          if (path.segments.length === depth + 1) rule = path.rule
          else (below ??= []).push(path)
        }
      }
      if (rule !== -1) {
        obj[key] = REDACTED
        this.counts[rule]!++
        this.changed = true
        continue
      }
      const v = obj[key]
      const w = this.value(v, depth + 1, below ?? NO_PATHS)
      if (w !== v) obj[key] = w
    }
  }

  /**
   * The rule of a bare name matching `key` without case, or -1. Field names repeat from event to event,
   * so the answer is remembered by the name as sent: no lower-casing per field. Bounded: a client
   * sending ever new names only costs a clear now and then.
   */
  private nameRule (key: string): number {
    let rule = this.seen.get(key)
    if (rule === undefined) {
      rule = this.names.get(key.toLowerCase()) ?? -1
      if (this.seen.size >= SEEN_MAX) this.seen.clear()
      this.seen.set(key, rule)
    }
    return rule
  }

  private value (v: unknown, depth: number, paths: readonly Path[]): unknown {
    if (typeof v === 'string') return this.detectors.length === 0 ? v : this.redactText(v)
    if (typeof v === 'number') return this.cardRule === -1 ? v : this.number(v)
    if (typeof v !== 'object' || v === null) return v
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const w = this.value(v[i], depth, paths)
        if (w !== v[i]) v[i] = w
      }
      return v
    }
    this.object(v as Record<string, unknown>, depth, paths, false)
    return v
  }

  /** A card number sent as a JSON number: the whole value goes. */
  private number (v: number): unknown {
    if (!Number.isSafeInteger(v) || v < 1e12) return v
    const s = String(v)
    if (!DETECTORS.card!.next(s, 0, this.match)) return v
    this.counts[this.cardRule]!++
    this.changed = true
    return REDACTED
  }
}

const NO_PATHS: readonly Path[] = []
const SEEN_MAX = 10_000

/** The workers' redaction (WORKER_COUNT > 1): the same rules everywhere, their counts added up. */
export function sumRedaction (list: ReadonlyArray<RedactionStatus | null | undefined>): RedactionStatus | null {
  let out: RedactionStatus | null = null
  for (const s of list) {
    if (s == null) continue
    out ??= { rules: s.rules, redacted_by_rule: {} }
    for (const [rule, n] of Object.entries(s.redacted_by_rule)) out.redacted_by_rule[rule] = (out.redacted_by_rule[rule] ?? 0) + n
  }
  return out
}
