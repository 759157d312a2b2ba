// APP_QUOTAS: events per minute per app_name, read once at start (config.ts).
//
//   "*=10000,payments=50000,debug-bot=0" ─► { perMinute: 10000, apps: payments → 50000, debug-bot → 0 }
//
// `*` is every app not named (unset: those apps have no quota); 0 is "no quota" for that app. Entries are
// split on commas and at the last `=` with plain string operations (no regular expression meets the
// value), so an app_name may hold `=` but not `,`.
import { ConfigError } from '../errors'
import { MAX_APP_NAME_LENGTH } from '../normalise/normalise'

export interface AppQuotaRules {
  /** Events per minute of an app not named in `apps`; 0: no quota. */
  readonly perMinute: number
  /** Events per minute of the apps named; 0: no quota for that app. */
  readonly apps: ReadonlyMap<string, number>
}

/** The name that stands for every app not named. */
export const DEFAULT_APP = '*'

/** The rules in `raw` (undefined when unset: no quotas); a bad entry is a ConfigError naming it. */
export function parseAppQuotas (raw: string | undefined, variable: string): AppQuotaRules | undefined {
  if (raw === undefined) return undefined
  let perMinute = 0
  let seenDefault = false
  const apps = new Map<string, number>()
  for (const part of raw.split(',')) {
    const entry = part.trim()
    const bad = (why: string): ConfigError => new ConfigError(variable, `entry "${entry.slice(0, 300)}" ${why}`)
    const eq = entry.lastIndexOf('=')
    if (entry === '') throw new ConfigError(variable, 'an empty entry (two commas in a row, or one at an end)')
    if (eq === -1) throw bad('is not app_name=events_per_minute (or *=events_per_minute)')
    const app = entry.slice(0, eq).trim()
    const value = entry.slice(eq + 1).trim()
    const n = Number(value)
    if (value === '' || !Number.isSafeInteger(n) || n < 0) throw bad(`needs a whole number of events per minute >= 0, got "${value.slice(0, 40)}"`)
    if (app === '') throw bad('has no app_name before "="')
    if (app.length > MAX_APP_NAME_LENGTH) throw bad(`names an app_name longer than ${MAX_APP_NAME_LENGTH} characters`)
    if (app === DEFAULT_APP) {
      if (seenDefault) throw bad('sets * a second time')
      seenDefault = true
      perMinute = n
      continue
    }
    if (apps.has(app)) throw bad(`sets "${app}" a second time`)
    apps.set(app, n)
  }
  return Object.freeze({ perMinute, apps })
}

/** Events per minute allowed to `app` (0: no quota). */
export function quotaOf (rules: AppQuotaRules, app: string): number {
  return rules.apps.get(app) ?? rules.perMinute
}
