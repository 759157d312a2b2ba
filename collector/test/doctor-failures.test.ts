// doctor's MongoDB checks when every operation fails, run in process against a port nobody listens on
// (the driver gives up after the URI's short serverSelectionTimeoutMS): each check turns the error into
// a FAIL line that names the operation, and the run stops at the first one once the server is gone, then
// says it could not drop its scratch collection.
import t from 'tap'
import { createServer } from 'node:net'
import { loadConfig } from '../src/config'
import { checkHistogram, checkTtl } from '../src/doctor/features'
import { doctorContext, runMongoChecks } from '../src/doctor/mongo'
import { checkReadIndexes } from '../src/doctor/read-indexes'
import { checkConnection, checkReplicaSet, checkWriteConcern } from '../src/doctor/server'
import { checkCreateIndex, checkDelete, checkInsert, checkLease, checkReplay } from '../src/doctor/writes'
import { MongoSink } from '../src/sink/mongo-sink'

async function closedPort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as { port: number }
  await new Promise(resolve => srv.close(resolve))
  return port
}

async function deadContext (t: { teardown: (fn: () => unknown) => void }) {
  const port = await closedPort()
  const uri = `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=200`
  const config = loadConfig({ MONGODB_URI: uri, LOG_DIR: '/nonexistent-unused' })
  const sink = new MongoSink(uri, config.mongodbDbName, 'logs_doctor_test')
  t.teardown(() => sink.close())
  return { ctx: doctorContext(config, sink, `127.0.0.1:${port}`), port }
}

t.test('every check turns a failed operation into a FAIL line naming it', async t => {
  const { ctx, port } = await deadContext(t)
  t.match(await checkConnection(ctx.sink, ctx.hosts), { status: 'fail', detail: new RegExp(`^MongoDB at 127\\.0\\.0\\.1:${port} did not answer within 0\\.2 s \\(.*ECONNREFUSED`) })
  t.match(await checkReplicaSet(ctx), { name: 'replica_set', status: 'fail', detail: /^run hello on admin failed: / })
  t.match(await checkWriteConcern(ctx), { name: 'write_concern', status: 'fail', detail: /^insert on event_logs\.logs_doctor_test failed: / })
  t.match(await checkInsert(ctx), { name: 'insert', status: 'fail', detail: /^insert on event_logs\.logs_doctor_test failed: .*ECONNREFUSED/ })
  t.equal(ctx.inserted, false)
  t.equal(await checkReplay(ctx), undefined, 'nothing to replay when the insert failed')
  t.equal(await checkHistogram(ctx), undefined, 'nothing to count either')
  ctx.inserted = true
  t.match(await checkReplay(ctx), { name: 'replay', status: 'fail', detail: /^insert and find on / })
  t.match(await checkHistogram(ctx), { name: 'histogram', status: 'fallback', detail: /\$group failed/, action: /journal alone/ })
  t.match(await checkCreateIndex(ctx), { name: 'create_index', status: 'fail', detail: /^createIndex on / })
  t.match(await checkTtl(ctx), { name: 'ttl', status: 'fail', detail: /^createIndex and listIndexes on / })
  t.match(await checkDelete(ctx), { name: 'delete', status: 'fail', detail: /^remove on /, action: /would not be enforced/ })
  t.match(await checkLease(ctx), { name: 'lease', status: 'fail', detail: /^insert, find, update and remove on /, action: /maap_locks and would never run/ })
  t.match(await checkReadIndexes(ctx.real, ctx.realNs), { name: 'read_indexes', status: 'fail', detail: /^listIndexes on event_logs\.logs failed/ })
})

t.test('the run stops at the first failure once the server is gone, and reports the scratch collection it could not drop', async t => {
  const { ctx, port } = await deadContext(t)
  const report = await runMongoChecks(ctx)
  t.same(report.checks.map(c => [c.name, c.status]), [['replica_set', 'fail'], ['connection', 'fail']])
  t.match(report.checks[1], { detail: `lost MongoDB at 127.0.0.1:${port} during the checks`, action: /did not run: run doctor again/ })
  t.match(report.leftovers, [/^could not drop the scratch collection event_logs\.logs_doctor_test \(.*\): drop it by hand$/])
})

t.test('a check that had nothing to check is left out of the report', async t => {
  const { ctx } = await deadContext(t)
  const report = await runMongoChecks(ctx, [async () => undefined])
  t.same(report.checks, [])
  t.equal(report.leftovers.length, 1)
})
