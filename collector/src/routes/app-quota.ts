// The quota check of every ingest route (POST /log, /logs, /v1/logs), between validating a request's
// events and journaling them (quota/quota.ts has the rules):
//
//   accepted events by app ─► within every app's quota? ─no─► 429 + Retry-After, counted, nothing stored
//                                   │ yes (taken)
//                                   ▼
//                               journal ─► fails? give the quota back (the events were not stored)
//
// A request that is not journaled (an idempotent repeat, a batch a killed process had journaled) never
// gets here, so it takes nothing.
import type { FastifyReply } from 'fastify'
import { QuotaExceededError } from '../errors'
import type { AppTally } from '../quota/app-tally'
import type { AppQuota } from '../quota/quota'

/**
 * Stores the request's events (`store`) when `tally`'s apps are within their quotas; else sets
 * Retry-After, calls `onRefused` and throws MAAP_QUOTA_EXCEEDED (429).
 */
export async function withinQuota (quota: AppQuota | undefined, tally: AppTally | undefined, reply: FastifyReply,
  onRefused: () => void, store: () => Promise<void>): Promise<void> {
  if (quota === undefined || tally === undefined) return await store()
  const answer = quota.admit(tally)
  if ('refused' in answer) {
    const { app, quota: perMinute, others, retryAfterSeconds } = answer.refused
    reply.header('retry-after', String(retryAfterSeconds))
    onRefused()
    throw new QuotaExceededError(JSON.stringify(app), others === 0 ? '' : ` (and ${others} other app(s) of the batch)`, perMinute, retryAfterSeconds)
  }
  try {
    await store()
  } catch (err) {
    quota.refund(answer.taken)
    throw err
  }
}
