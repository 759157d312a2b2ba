// The server itself: can the collector reach it and log in (connection), is it a replica set whose primary
// takes writes (replica_set), and is w=majority acknowledged, next to the write concern the collector uses
// as MONGODB_URI gives it (write_concern).
import { MongoWriteConcernError, ObjectId, type Document, type WriteConcern } from 'mongodb'
import type { MongoSink } from '../sink/mongo-sink'
import { fail, failed, fallback, ok, reasonOf, serverErrorOf, type CheckResult } from './check'
import type { DoctorContext } from './context'

const AUTHENTICATION_FAILED = 18
/** Write concern errors: 64 WriteConcernFailed (wtimeout), 79 UnknownReplWriteConcern, 100 UnsatisfiableWriteConcern. */
const WRITE_CONCERN_CODES = new Set([64, 79, 100])
const MAJORITY_TIMEOUT_MS = 5000

export function connectionFailure (err: unknown, hosts: string, timeoutMs: number): CheckResult {
  if (serverErrorOf(err)?.code === AUTHENTICATION_FAILED) {
    return fail('connection', `authentication to ${hosts} failed (${reasonOf(err)})`,
      'check the user, password and authSource in MONGODB_URI: until then the collector keeps every event in its journal')
  }
  return fail('connection', `MongoDB at ${hosts} did not answer within ${timeoutMs / 1000} s (${reasonOf(err)})`,
    'check MONGODB_URI, the server and the network: until MongoDB answers the collector keeps every event in its journal and retries')
}

export async function checkConnection (sink: MongoSink, hosts: string): Promise<CheckResult> {
  try {
    await sink.connect()
    const info = await sink.client.db('admin').command({ buildInfo: 1 })
    const server = info.ferretdbVersion === undefined ? `MongoDB ${String(info.version)}` : `FerretDB (MongoDB ${String(info.version)} wire protocol)`
    return ok('connection', `connected to ${hosts}: ${server}`)
  } catch (err) {
    return connectionFailure(err, hosts, sink.client.options.serverSelectionTimeoutMS)
  }
}

export function replicaSetVerdict (hello: Document, keepDays: number): CheckResult {
  if (hello.msg === 'isdbgrid') return ok('replica_set', 'a sharded cluster (mongos): each shard\'s replica set confirms writes')
  const setName = typeof hello.setName === 'string' ? hello.setName : undefined
  if (hello.isWritablePrimary !== true) {
    return fail('replica_set', `${String(hello.me ?? 'the server')}${setName === undefined ? '' : ` (replica set ${setName})`} is not a writable primary`,
      'the collector\'s inserts would be refused: name the replica set in MONGODB_URI (replicaSet=…) rather than one secondary')
  }
  if (setName !== undefined) {
    const members = Array.isArray(hello.hosts) ? hello.hosts.length : 1
    return ok('replica_set', `replica set ${setName}, ${members} data-bearing member${members === 1 ? '' : 's'}, writing to the primary ${String(hello.primary ?? hello.me)}`)
  }
  const kept = keepDays === 0 ? 'for good (DELETE_LOGS_OLDER_THAN 0)' : `for ${keepDays} days (DELETE_LOGS_OLDER_THAN)`
  return fallback('replica_set', 'a standalone server, not a replica set: a stored event lives on this one server',
    `the collector's journal keeps each event ${kept} after MongoDB has it; use a replica set to survive losing the server`)
}

export async function checkReplicaSet (ctx: DoctorContext): Promise<CheckResult> {
  try {
    const hello = await ctx.sink.client.db('admin').command({ hello: 1 })
    const result = replicaSetVerdict(hello, ctx.config.deleteLogsOlderThanDays)
    ctx.replicaSet = typeof hello.setName === 'string' || hello.msg === 'isdbgrid'
    return result
  } catch (err) {
    return failed('replica_set', err, 'run hello', 'admin', 'the collector could not tell which server takes its writes')
  }
}

/** The write concern the collector's inserts use, as MONGODB_URI sets it. */
export function describeWriteConcern (wc: WriteConcern | undefined): string {
  const parts: string[] = []
  if (wc?.w !== undefined) parts.push(`w=${String(wc.w)}`)
  if (wc?.journal !== undefined) parts.push(`journal=${String(wc.journal)}`)
  if (wc?.wtimeoutMS !== undefined) parts.push(`wtimeoutMS=${wc.wtimeoutMS}`)
  return parts.length === 0 ? 'the server\'s default write concern (MONGODB_URI sets none)' : `${parts.join(', ')} (from MONGODB_URI)`
}

export function writeConcernVerdict (collectorWc: WriteConcern | undefined, replicaSet: boolean, err: unknown, ns: string): CheckResult {
  const theirs = `the collector writes with ${describeWriteConcern(collectorWc)}`
  if (err === undefined) {
    if (!replicaSet) return ok('write_concern', `an insert with w=majority was acknowledged (on a standalone server that is this server); ${theirs}`)
    return collectorWc?.w === 'majority'
      ? ok('write_concern', `an insert with w=majority was acknowledged by a majority of the replica set; ${theirs}`)
      : ok('write_concern', `an insert with w=majority was acknowledged by a majority of the replica set; ${theirs}`,
        'add w=majority to MONGODB_URI so that a confirmed flush survives a failover')
  }
  const code = serverErrorOf(err)?.code
  if (!(err instanceof MongoWriteConcernError) && !(typeof code === 'number' && WRITE_CONCERN_CODES.has(code))) {
    return failed('write_concern', err, 'insert', ns, 'no event would reach MongoDB: they would wait in the journal')
  }
  if (collectorWc?.w === 'majority') {
    return fail('write_concern', `w=majority was not acknowledged within ${MAJORITY_TIMEOUT_MS / 1000} s (${reasonOf(err)}); ${theirs}`,
      'every flush would fail and the events wait in the journal: bring the replica set\'s members back, or set another w in MONGODB_URI')
  }
  return fallback('write_concern', `w=majority was not acknowledged within ${MAJORITY_TIMEOUT_MS / 1000} s (${reasonOf(err)})`,
    `${theirs}: a flush confirmed that way can be rolled back by a failover, while the journal keeps the events`)
}

export async function checkWriteConcern (ctx: DoctorContext): Promise<CheckResult> {
  let error: unknown
  try {
    await ctx.scratch.insertOne({ _id: new ObjectId(), doctor: 'write_concern' }, { writeConcern: { w: 'majority', wtimeoutMS: MAJORITY_TIMEOUT_MS } })
  } catch (err) {
    error = err
  }
  return writeConcernVerdict(ctx.sink.collection.writeConcern, ctx.replicaSet, error, ctx.scratchNs)
}
