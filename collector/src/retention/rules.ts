// RETENTION_RULES: how long events are kept, by app_name and by a set of levels, read once at start (config.ts).
//
//   "level=DEBUG|TRACE:3d, app=audit:400d, app=payments level=ERROR|CRITICAL:90d"
//     ─► [ { levels: [DEBUG, TRACE], days: 3 }, { apps: [audit], days: 400 },
//          { apps: [payments], levels: [ERROR, CRITICAL], days: 90 } ]
//
// A rule is conditions, a colon, an age. Conditions are `app=` and `level=` (each at most once, separated by
// spaces), alternatives joined by `|`; both given: both must hold. The age is `<n>d` (days), `<n>h` (hours) or
// `forever`. First match wins; an event no rule matches is kept LOG_RETENTION_DAYS (RetentionPolicy). Split
// with plain string operations, never a regular expression over the value; the age is taken after the
// last colon, so an app_name may hold `:` (but not `,`, `|` or a space).
import { ConfigError } from '../errors'
import { canonicalLevel, type Level } from '../normalise/levels'
import { MAX_APP_NAME_LENGTH } from '../normalise/normalise'

export interface RetentionRule {
  /** The rule written the canonical way (`app=payments level=ERROR|CRITICAL:90d`): its name in /status and /metrics. */
  readonly label: string
  /** app_name is one of these; undefined: any app. */
  readonly apps: readonly string[] | undefined
  /** The level is one of these (a set, not a minimum); undefined: any level. */
  readonly levels: readonly Level[] | undefined
  /** Days kept (fractions allowed: `12h` is 0.5); 0 = forever. */
  readonly days: number
}

const MAX_RULES = 100
const MAX_DAYS = 1e6

function ageText (days: number, unit: string): string {
  if (days === 0) return 'forever'
  return unit === 'h' ? `${days * 24}h` : `${days}d`
}

function parseAge (text: string, bad: (why: string) => ConfigError): { days: number, unit: string } {
  if (text === 'forever') return { days: 0, unit: 'd' }
  const unit = text.slice(-1)
  const n = Number(text.slice(0, -1))
  if ((unit !== 'd' && unit !== 'h') || text.length < 2 || !Number.isFinite(n) || n <= 0 || n > MAX_DAYS) {
    throw bad(`has an age "${text.slice(0, 40)}" that is not <n>d, <n>h (n > 0) or forever`)
  }
  return { days: unit === 'h' ? n / 24 : n, unit }
}

function parseApps (value: string, bad: (why: string) => ConfigError): string[] {
  const apps = value.split('|')
  for (const app of apps) {
    if (app === '') throw bad('has an empty app name')
    if (app.length > MAX_APP_NAME_LENGTH) throw bad(`names an app_name longer than ${MAX_APP_NAME_LENGTH} characters`)
  }
  return [...new Set(apps)]
}

function parseLevels (value: string, bad: (why: string) => ConfigError): Level[] {
  const levels = value.split('|').map(name => {
    const level = name === '' ? undefined : canonicalLevel(name)
    if (level === undefined) throw bad(`has an unknown level "${name.slice(0, 40)}" (TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL)`)
    return level
  })
  return [...new Set(levels)]
}

function parseRule (entry: string, variable: string): RetentionRule {
  const bad = (why: string): ConfigError => new ConfigError(variable, `rule "${entry.slice(0, 300)}" ${why}`)
  const colon = entry.lastIndexOf(':')
  if (colon === -1) throw bad('is not <conditions>:<age>, e.g. level=DEBUG|TRACE:3d or app=audit:400d')
  const { days, unit } = parseAge(entry.slice(colon + 1).trim(), bad)
  let apps: string[] | undefined
  let levels: Level[] | undefined
  for (const condition of entry.slice(0, colon).split(' ')) {
    if (condition === '') continue
    const eq = condition.indexOf('=')
    const key = eq === -1 ? condition : condition.slice(0, eq)
    const value = condition.slice(eq + 1)
    if (eq === -1 || value === '') throw bad(`has a condition "${condition.slice(0, 40)}" that is not app=<names> or level=<levels>`)
    if (key === 'app') {
      if (apps !== undefined) throw bad('gives app= twice')
      apps = parseApps(value, bad)
    } else if (key === 'level') {
      if (levels !== undefined) throw bad('gives level= twice')
      levels = parseLevels(value, bad)
    } else {
      throw bad(`has an unknown condition "${key.slice(0, 40)}" (app= or level=)`)
    }
  }
  if (apps === undefined && levels === undefined) throw bad('has no condition: LOG_RETENTION_DAYS is the age of what no rule matches')
  const conditions = [apps === undefined ? '' : `app=${apps.join('|')}`, levels === undefined ? '' : `level=${levels.join('|')}`]
  return Object.freeze({
    label: `${conditions.filter(c => c !== '').join(' ')}:${ageText(days, unit)}`,
    apps: apps === undefined ? undefined : Object.freeze(apps),
    levels: levels === undefined ? undefined : Object.freeze(levels),
    days
  })
}

/** The rules in `raw`, in order (undefined when unset: LOG_RETENTION_DAYS for everything); a bad rule is a ConfigError naming it. */
export function parseRetentionRules (raw: string | undefined, variable: string): readonly RetentionRule[] | undefined {
  if (raw === undefined) return undefined
  const rules: RetentionRule[] = []
  for (const part of raw.split(',')) {
    const entry = part.trim()
    if (entry === '') throw new ConfigError(variable, 'an empty rule (two commas in a row, or one at an end)')
    const rule = parseRule(entry, variable)
    // The same sets in another order are the same conditions.
    const conditions = (r: RetentionRule): string => JSON.stringify([r.apps === undefined ? null : [...r.apps].sort(), r.levels === undefined ? null : [...r.levels].sort()])
    if (rules.some(r => conditions(r) === conditions(rule))) {
      throw new ConfigError(variable, `rule "${entry.slice(0, 300)}" has the same conditions as an earlier one (first match wins: it would never apply)`)
    }
    rules.push(rule)
  }
  if (rules.length > MAX_RULES) throw new ConfigError(variable, `more than ${MAX_RULES} rules`)
  return Object.freeze(rules)
}

/** Whether `rule` matches an event of `app` at `level`. */
export function ruleMatches (rule: RetentionRule, app: string | undefined, level: string | undefined): boolean {
  if (rule.apps !== undefined && (app === undefined || !rule.apps.includes(app))) return false
  if (rule.levels !== undefined && (level === undefined || !rule.levels.includes(level as Level))) return false
  return true
}
