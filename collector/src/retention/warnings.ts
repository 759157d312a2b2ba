// What RETENTION_RULES cannot do as written, said once at start (the scheduler logs each line at warn):
//  - a rule an earlier one always wins over (first match wins) never applies;
//  - with MongoDB, a rule that keeps events longer than LOG_RETENTION_DAYS next to MAX_DOCUMENTS or
//    MAX_COLLECTION_SIZE: the caps never delete what a rule keeps (sweeper.ts), so past a daily volume the
//    cap cannot be met — it then removes only what no rule matches, the newest of it too, and the collection
//    stays over the cap. Said with the volume at which that happens, and whether the cap is the default.
import type { CollectorConfig } from '../config'
import type { RetentionRule } from './rules'

type Settings = Pick<CollectorConfig, 'mongodbUri' | 'logRetentionDays' | 'maxDocuments' | 'maxCollectionSize' | 'retentionRules'>

/** The caps' defaults (config.ts SETTINGS), to say "the default". */
export interface CapDefaults { maxDocuments: number, maxCollectionSize: number }

function covers (earlier: RetentionRule, later: RetentionRule): boolean {
  const apps = earlier.apps === undefined || (later.apps !== undefined && later.apps.every(a => earlier.apps!.includes(a)))
  const levels = earlier.levels === undefined || (later.levels !== undefined && later.levels.every(l => earlier.levels!.includes(l)))
  return apps && levels
}

function ageText (days: number): string {
  return days === 0 ? 'forever' : `${days} days`
}

export function retentionWarnings (config: Settings, defaults: CapDefaults): string[] {
  const rules = config.retentionRules ?? []
  const out: string[] = []
  rules.forEach((rule, i) => {
    const winner = rules.slice(0, i).find(r => covers(r, rule))
    if (winner !== undefined) out.push(`RETENTION_RULES: rule "${rule.label}" never applies: "${winner.label}" comes first and matches every event it would`)
  })
  if (config.mongodbUri === undefined) return out
  const longer = rules.filter(r => r.days === 0 || (config.logRetentionDays !== 0 && r.days > config.logRetentionDays))
  const caps: Array<[string, number, boolean, (perDay: number) => string]> = [
    ['MAX_DOCUMENTS', config.maxDocuments, config.maxDocuments === defaults.maxDocuments, n => `${Math.floor(n)} events`],
    ['MAX_COLLECTION_SIZE', config.maxCollectionSize, config.maxCollectionSize === defaults.maxCollectionSize, n => `${Math.floor(n)} bytes of events`]
  ]
  for (const rule of longer) {
    for (const [variable, cap, isDefault, amount] of caps) {
      if (cap === 0) continue
      const when = rule.days === 0 ? 'once what it matches' : `past ${amount(cap / rule.days)} a day of what it matches, the events it keeps`
      out.push(`RETENTION_RULES: rule "${rule.label}" keeps events ${ageText(rule.days)}, and ${when} pass ${variable}=${cap}` +
        `${isDefault ? ' (the default)' : ''}: the cap never deletes what a rule keeps, so it then deletes only events no rule matches ` +
        `(the newest too) and the collection stays over the cap; set ${variable}=0 or a cap that fits the rule`)
    }
  }
  return out
}
