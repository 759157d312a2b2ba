// How long one event is kept: the first RETENTION_RULES rule that matches its app_name and level, else
// LOG_RETENTION_DAYS. One policy serves every place that decides it — the MongoDB sweeper (sweeper.ts),
// the embedded store's segment deletion (segment-expiry.ts) and the journal reads (read/expiry.ts) — so
// they cannot disagree on what has expired.
//
//   event (app_name, level, timestamp) ─► ruleOf ─► days ─► expired when timestamp < now - days
import type { Document } from 'mongodb'
import { ruleMatches, type RetentionRule } from './rules'

export const DAY_MS = 86_400_000

/** The name of what no rule matches, in /status and the metric's `rule` label. */
export const DEFAULT_RULE_LABEL = 'default'

export class RetentionPolicy {
  /** Labels by rule index; the last is the default (LOG_RETENTION_DAYS). */
  readonly labels: readonly string[]
  /** Days by rule index (0 = forever); the last is LOG_RETENTION_DAYS. */
  readonly days: readonly number[]
  /** Whether some rule names apps: only then does deciding need the event's app_name. */
  readonly needsApp: boolean

  constructor (readonly rules: readonly RetentionRule[], readonly defaultDays: number) {
    this.labels = [...rules.map(r => r.label), DEFAULT_RULE_LABEL]
    this.days = [...rules.map(r => r.days), defaultDays]
    this.needsApp = rules.some(r => r.apps !== undefined)
  }

  /** The index of the rule that decides an event (rules.length: the default). */
  ruleOf (app: string | undefined, level: string | undefined): number {
    for (let i = 0; i < this.rules.length; i++) if (ruleMatches(this.rules[i]!, app, level)) return i
    return this.rules.length
  }

  /** The longest age any event may be kept, in days; 0 when some events are kept forever. */
  get longestDays (): number {
    return this.days.includes(0) ? 0 : Math.max(...this.days)
  }

  /** The shortest age, in days (0 only when everything is kept forever). */
  get shortestDays (): number {
    const finite = this.days.filter(d => d > 0)
    return finite.length === 0 ? 0 : Math.min(...finite)
  }

  /** Per rule index: the oldest timestamp still kept (epoch ms); -Infinity for forever. */
  cutoffs (now: number): number[] {
    return this.days.map(d => d === 0 ? -Infinity : now - d * DAY_MS)
  }

  /** The MongoDB filter that selects what rule `i` decides (the default: what no rule matches). */
  filterOf (i: number): Document {
    const matches = this.rules.map(ruleFilter)
    if (i === this.rules.length) return matches.length === 0 ? {} : { $nor: matches }
    const earlier = matches.slice(0, i)
    return earlier.length === 0 ? matches[i]! : { ...matches[i]!, $nor: earlier }
  }
}

function ruleFilter (rule: RetentionRule): Document {
  const f: Document = {}
  if (rule.apps !== undefined) f.app_name = { $in: [...rule.apps] }
  if (rule.levels !== undefined) f.level = { $in: [...rule.levels] }
  return f
}
