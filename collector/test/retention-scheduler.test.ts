// Retention as the running collector does it: the sweeper trims MongoDB to MAX_DOCUMENTS, and only the
// collector's own segments, once replayed into MongoDB, are deleted from LOG_DIR.
import t from 'tap'
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, loadConfig } from '@maap-event-logger/collector'
import { connectTestClient, testMongoUri, uniqueDbName, poll } from '../../test/support'

t.test('the sweeper enforces MAX_DOCUMENTS and old own segments go once confirmed', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('sweep')
  t.teardown(() => client.db(dbName).dropDatabase())
  const logDir = mkdtempSync(join(tmpdir(), 'maap-sweep-'))
  // A segment left by an earlier run, a month old, not yet in MongoDB; and files that are not ours.
  const oldSegment = 'maap-20200101T000000Z-000001.ndjson'
  writeFileSync(join(logDir, oldSegment), JSON.stringify({ _id: '5e0be1000000000000000001', timestamp: '2020-01-01T00:00:00.000Z', received_at: '2020-01-01T00:00:00.000Z', level: 'INFO', app_name: 'old', message: 'from 2020' }) + '\n')
  writeFileSync(join(logDir, 'app.log'), 'someone else\'s file\n')
  const monthAgo = new Date(Date.now() - 31 * 86_400_000)
  for (const f of [oldSegment, 'app.log']) utimesSync(join(logDir, f), monthAgo, monthAgo)

  const app = await build(loadConfig({
    LOG_DIR: logDir, MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, MAX_DOCUMENTS: '30',
    LOG_RETENTION_DAYS: '0', RETENTION_SWEEP_INTERVAL: '0.05', FLUSH_INTERVAL: '3600'
  }))
  t.teardown(() => app.close())
  const coll = client.db(dbName).collection('logs')
  t.equal(await coll.countDocuments({ message: 'from 2020' }), 1, 'the old segment was replayed before start-up finished')

  const body = Array.from({ length: 50 }, (_, i) => JSON.stringify({ message: `m${i}`, app_name: 'a', timestamp: 1700000000000 + i })).join('\n')
  await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: body })
  await app.inject({ method: 'POST', url: '/force-flush' })
  await poll(async () => (await coll.countDocuments()) === 30) // the sweeper runs on its own timer
  const kept = await coll.find().sort({ timestamp: 1 }).toArray()
  t.same(kept.map(d => d.message), Array.from({ length: 30 }, (_, i) => `m${i + 20}`), 'the newest 30 are kept')

  await poll(() => !existsSync(join(logDir, oldSegment)))
  t.ok(existsSync(join(logDir, 'app.log')), 'a file that is not the collector\'s is never touched')
  t.ok(existsSync(join(logDir, 'maap-checkpoint.json')))
  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.type(status.retention.at, 'string')
})
