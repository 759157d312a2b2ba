// Two MongoDB features that FerretDB lacks and the collector works around: TTL indexes (retention's
// ttl-index.ts, run on the scratch collection) and date arithmetic in $group (the histogram's own
// pipeline from read/aggregate.ts, over the probe events, whose buckets are known).
import type { CollectorConfig } from '../config'
import { bucketPipeline, isNotImplemented, type BucketGroup } from '../read/aggregate'
import { ensureRetentionIndexes, type IndexSetupResult } from '../retention/ttl-index'
import { fail, failed, fallback, ok, reasonOf, type CheckResult } from './check'
import type { DoctorContext } from './context'
import { PROBE_APP } from './probe-events'

type RetentionSettings = Pick<CollectorConfig, 'logRetentionDays' | 'retentionSweepSeconds'>

export function ttlVerdict (setup: IndexSetupResult, config: RetentionSettings): CheckResult {
  const sweeper = `every ${config.retentionSweepSeconds} s (RETENTION_SWEEP_INTERVAL) the retention sweeper deletes documents older than ${config.logRetentionDays} days`
  if (setup.ttl) return ok('ttl', `a TTL index on timestamp was accepted: the server expires documents older than ${config.logRetentionDays} days (LOG_RETENTION_DAYS) itself; ${sweeper} as a safety net`)
  if (config.logRetentionDays === 0) return ok('ttl', setup.reason ?? 'no TTL index is needed')
  // ttl-index.ts's reason ends by saying the sweeper enforces the retention: the action says it here.
  const reason = (setup.reason ?? 'not created').replace(/; the periodic sweeper enforces [^;]*$/, '')
  return fallback('ttl', `no TTL index: ${reason}`, `${sweeper}, using the plain index ${setup.index ?? 'on timestamp'}`)
}

export async function checkTtl (ctx: DoctorContext): Promise<CheckResult> {
  try {
    return ttlVerdict(await ensureRetentionIndexes(ctx.scratch, { retentionDays: ctx.config.logRetentionDays }), ctx.config)
  } catch (err) {
    return failed('ttl', err, 'createIndex and listIndexes', ctx.scratchNs, 'the collector could not set up its retention index (retried every pass)')
  }
}

export type GroupAnswer = { groups: BucketGroup[] } | { error: unknown }

export function histogramVerdict (answer: GroupAnswer, expected: Record<string, number>): CheckResult {
  if ('error' in answer) {
    if (isNotImplemented(answer.error)) {
      return fallback('histogram', `no date arithmetic in $group ($subtract/$divide/$floor: ${reasonOf(answer.error)})`,
        'GET /logs/histogram streams the matching documents\' timestamp and level and counts them in the collector')
    }
    return fallback('histogram', `the histogram's $group failed (${reasonOf(answer.error)})`,
      'GET /logs/histogram answers from this collector\'s journal alone, as the read routes do when MongoDB fails')
  }
  const got: Record<string, number> = {}
  for (const g of answer.groups) got[`${g._id.level}@${g._id.b}`] = (got[`${g._id.level}@${g._id.b}`] ?? 0) + g.n
  const text = (counts: Record<string, number>): string => Object.keys(counts).sort().map(k => `${k}:${counts[k]}`).join(' ')
  if (text(got) !== text(expected)) {
    return fail('histogram', `the histogram's $group counted ${text(got) || 'nothing'} where ${text(expected)} was expected`,
      'GET /logs/histogram would report wrong counts from this server')
  }
  return ok('histogram', 'the server computes the histogram\'s buckets (date arithmetic in $group), with the expected counts')
}

export async function checkHistogram (ctx: DoctorContext): Promise<CheckResult | undefined> {
  if (!ctx.inserted) return undefined
  const { first, intervalMs, expected } = ctx.probe
  let answer: GroupAnswer
  try {
    answer = { groups: await ctx.scratch.aggregate<BucketGroup>(bucketPipeline({ app_name: PROBE_APP }, first, intervalMs)).toArray() }
  } catch (err) {
    answer = { error: err }
  }
  return histogramVerdict(answer, expected)
}
