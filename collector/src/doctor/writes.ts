// The privileges the collector needs, tested by doing what the collector does, with its own code, in the
// scratch collection: insert (the sink's unordered insertMany), replay (the same batch again: duplicate
// keys must count as stored), createIndex (the read indexes), delete (the sweeper's chunked expiry) and
// the retention lease's insert/find/update/delete.
import type { LeaseDocument } from '../retention/lease'
import { Lease, LEASE_COLLECTION } from '../retention/lease'
import { sweepCollection } from '../retention/sweeper'
import { createReadIndexes, READ_INDEXES } from '../read/mongo-indexes'
import type { InsertOutcome } from '../sink/mongo-sink'
import { fail, failed, ok, type CheckResult } from './check'
import type { DoctorContext } from './context'

export function insertVerdict (outcome: InsertOutcome, n: number, ns: string): CheckResult {
  if (outcome.rejected.length > 0) {
    return fail('insert', `the server rejected ${outcome.rejected.length} of ${n} probe events (${outcome.rejected[0]!.reason})`,
      'events like these would go to the dead-letter file instead of MongoDB')
  }
  return ok('insert', `insertMany (unordered) of ${n} events into the scratch collection ${ns}`)
}

export async function checkInsert (ctx: DoctorContext): Promise<CheckResult> {
  const n = ctx.probe.lines.length
  try {
    const result = insertVerdict(await ctx.sink.insert(ctx.sink.prepare(ctx.probe.lines)), n, ctx.scratchNs)
    ctx.inserted = result.status === 'ok'
    return result
  } catch (err) {
    return failed('insert', err, 'insert', ctx.scratchNs, 'no event would reach MongoDB: they would wait in the journal')
  }
}

export function replayVerdict (outcome: InsertOutcome, n: number): CheckResult {
  if (outcome.stored === n && outcome.duplicates === n && outcome.rejected.length === 0) {
    return ok('replay', `the same ${n} events inserted again counted as stored: ${n} duplicate keys (11000) on _id, none dead-lettered`)
  }
  const reasons = outcome.rejected.length === 0 ? '' : ` (${outcome.rejected[0]!.reason})`
  return fail('replay', `the same ${n} events inserted again: ${outcome.stored} stored, ${outcome.duplicates} recognised as duplicates, ${outcome.rejected.length} rejected${reasons}`,
    'a replay after a restart would not be idempotent: events already in MongoDB would be dead-lettered or stored twice')
}

export async function checkReplay (ctx: DoctorContext): Promise<CheckResult | undefined> {
  if (!ctx.inserted) return undefined
  try {
    return replayVerdict(await ctx.sink.insert(ctx.sink.prepare(ctx.probe.lines)), ctx.probe.lines.length)
  } catch (err) {
    return failed('replay', err, 'insert and find', ctx.scratchNs, 'a replay after a restart would be retried without end')
  }
}

export async function checkCreateIndex (ctx: DoctorContext): Promise<CheckResult> {
  try {
    await createReadIndexes(ctx.scratch)
    return ok('create_index', `created the read indexes (${READ_INDEXES.map(i => i.name).join(', ')}) on the scratch collection`)
  } catch (err) {
    return failed('create_index', err, 'createIndex', ctx.scratchNs,
      'the collector could not create its read and retention indexes: reads are slower and retention has no index')
  }
}

export async function checkDelete (ctx: DoctorContext): Promise<CheckResult> {
  try {
    const { expired } = await sweepCollection(ctx.scratch, { retentionDays: 1, maxDocuments: 0, maxCollectionSize: 0 })
    return ok('delete', `the retention sweeper deleted ${expired} expired probe event${expired === 1 ? '' : 's'} from the scratch collection`)
  } catch (err) {
    return failed('delete', err, 'remove', ctx.scratchNs,
      'the retention sweeper could not delete: LOG_RETENTION_DAYS, MAX_DOCUMENTS and MAX_COLLECTION_SIZE would not be enforced')
  }
}

export async function checkLease (ctx: DoctorContext): Promise<CheckResult> {
  const lease = new Lease(ctx.scratch.db.collection<LeaseDocument>(ctx.scratch.collectionName), `doctor:${ctx.scratchNs}`, { ttlMs: 60_000 })
  const consequence = `the retention sweeper could not take its lease in ${LEASE_COLLECTION} and would never run`
  try {
    if (!(await lease.acquire())) {
      return fail('lease', `a lease nobody held was not granted (holder: ${lease.holder ?? 'unknown'})`, consequence)
    }
    await lease.release()
    return ok('lease', `took and gave back a retention lease the way the sweeper does in ${LEASE_COLLECTION} (insert, find, update, delete)`)
  } catch (err) {
    return failed('lease', err, 'insert, find, update and remove', ctx.scratchNs, consequence)
  }
}
