// The MongoDB half of doctor, in order: reach the server, then do in a scratch collection of its own
// (<MONGODB_COLLECTION>_doctor_<random>, dropped at the end) what the collector does, then list the real
// collection's indexes. A check that fails because the server went away stops the rest.
import { randomBytes } from 'node:crypto'
import type { CollectorConfig } from '../config'
import { MongoSink } from '../sink/mongo-sink'
import { fail, reasonOf, type CheckResult } from './check'
import type { DoctorContext, MongoCheck } from './context'
import { checkHistogram, checkTtl } from './features'
import { probeEvents } from './probe-events'
import { checkReadIndexes } from './read-indexes'
import { checkConnection, checkReplicaSet, checkWriteConcern } from './server'
import { uriHosts } from './uri'
import { checkCreateIndex, checkDelete, checkInsert, checkLease, checkReplay } from './writes'

const CHECKS: MongoCheck[] = [
  checkReplicaSet, checkWriteConcern, checkInsert, checkReplay, checkCreateIndex, checkTtl, checkHistogram,
  checkDelete, checkLease, async ctx => await checkReadIndexes(ctx.real, ctx.realNs)
]

export interface MongoReport {
  checks: CheckResult[]
  /** What doctor could not clean up (the scratch collection), for a warning. */
  leftovers: string[]
}

async function reachable (ctx: DoctorContext): Promise<boolean> {
  return await ctx.sink.client.db('admin').command({ ping: 1 }).then(() => true, () => false)
}

/** Runs `checks` in order over a connected context, then drops the scratch collection. */
export async function runMongoChecks (ctx: DoctorContext, checks: readonly MongoCheck[] = CHECKS): Promise<MongoReport> {
  const report: MongoReport = { checks: [], leftovers: [] }
  try {
    for (const check of checks) {
      const result = await check(ctx)
      if (result === undefined) continue
      report.checks.push(result)
      if (result.status === 'fail' && !(await reachable(ctx))) {
        report.checks.push(fail('connection', `lost MongoDB at ${ctx.hosts} during the checks`, 'the checks after this line did not run: run doctor again'))
        break
      }
    }
  } finally {
    await ctx.scratch.drop().catch((err: unknown) => {
      report.leftovers.push(`could not drop the scratch collection ${ctx.scratchNs} (${reasonOf(err)}): drop it by hand`)
    })
  }
  return report
}

/** A context for `sink` (its collection being the scratch one), before any check has run. */
export function doctorContext (config: Readonly<CollectorConfig>, sink: MongoSink, hosts: string): DoctorContext {
  return {
    config, sink, hosts,
    scratch: sink.collection, scratchNs: `${sink.collection.dbName}.${sink.collection.collectionName}`,
    real: sink.client.db(config.mongodbDbName).collection(config.mongodbCollection),
    realNs: `${config.mongodbDbName}.${config.mongodbCollection}`,
    probe: probeEvents(), replicaSet: false, inserted: false
  }
}

export async function mongoChecks (config: Readonly<CollectorConfig>, uri: string): Promise<MongoReport> {
  const hosts = uriHosts(uri)
  const sink = new MongoSink(uri, config.mongodbDbName, `${config.mongodbCollection}_doctor_${randomBytes(4).toString('hex')}`)
  try {
    const connection = await checkConnection(sink, hosts)
    if (connection.status === 'fail') return { checks: [connection], leftovers: [] }
    const report = await runMongoChecks(doctorContext(config, sink, hosts))
    return { ...report, checks: [connection, ...report.checks] }
  } finally {
    await sink.close()
  }
}
