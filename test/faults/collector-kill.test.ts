// The collector's core promise, with real processes and a real MongoDB wire server: every acknowledged
// event reaches MongoDB exactly once, across SIGKILL, MongoDB outages and shutdown.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { collectorStatus as status, disconnected, drained, startCollector, untilStatus, connectTestClient, testMongoUri, uniqueDbName, assertExactlyOnce, seqCounts, batchClient, newLoad, singleEventClient, untilAcked, segments, segmentText } from '../support'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, restartableKind, startMongoServer } = require('../mongo/server.mjs')

t.test('SIGKILL under single-event and batch load, restart: every acknowledged event stored exactly once', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('kill')
  t.teardown(() => client.db(dbName).dropDatabase())
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '0.1', LOG_BUFFER_SIZE: '200' }
  const logDir = mkdtempSync(join(tmpdir(), 'maap-kill-'))
  const first = await startCollector(t, { logDir, env })
  const load = newLoad()
  const clients = [singleEventClient(first.url, load), singleEventClient(first.url, load), batchClient(first.url, load, 50), batchClient(first.url, load, 50)]
  await untilAcked(load, 3000)
  t.equal(await first.stop('SIGKILL'), 'SIGKILL')
  load.stopped = true
  await Promise.all(clients)

  const second = await startCollector(t, { logDir, env })
  const flush = await fetch(`${second.url}/force-flush`, { method: 'POST' })
  t.equal(flush.status, 200)
  assertExactlyOnce(t, load.acked, await seqCounts(client.db(dbName).collection('logs')))
  await second.stop()
})

t.test('SIGTERM flushes what waits, then exits 0', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('term')
  t.teardown(() => client.db(dbName).dropDatabase())
  const c = await startCollector(t, { env: { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600' } })
  const load = newLoad()
  const clients = [batchClient(c.url, load, 100)]
  await untilAcked(load, 1000)
  load.stopped = true
  await Promise.all(clients)
  t.equal(await c.stop('SIGTERM'), 0)
  assertExactlyOnce(t, load.acked, await seqCounts(client.db(dbName).collection('logs')))
})

t.test('MongoDB unreachable at start: events are accepted into the journal and drain once it is up', async t => {
  const port = await freePort()
  const dbDir = mkdtempSync(join(tmpdir(), 'maap-late-mongo-'))
  const c = await startCollector(t, {
    env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=300`, MONGODB_DB_NAME: 'late', FLUSH_INTERVAL: '0.1' }
  })
  const load = newLoad()
  const clients = [batchClient(c.url, load, 25), singleEventClient(c.url, load)]
  await untilAcked(load, 500)
  load.stopped = true
  await Promise.all(clients)
  t.match(await untilStatus(c, disconnected), { last_error: /MongoDB/ }, 'the outage is visible in /status')

  const server = await startMongoServer({ kind: restartableKind(), dir: dbDir, port })
  t.teardown(() => server.stop())
  await untilStatus(c, drained)
  const { MongoClient } = await import('mongodb')
  const mc = new MongoClient(server.uri)
  t.teardown(() => mc.close())
  assertExactlyOnce(t, load.acked, await seqCounts(mc.db('late').collection('logs')))
})

t.test('MongoDB stopped mid-run and started again on the same data: nothing acknowledged is lost', async t => {
  const port = await freePort()
  const dbDir = mkdtempSync(join(tmpdir(), 'maap-outage-'))
  const kind = restartableKind()
  let server = await startMongoServer({ kind, dir: dbDir, port })
  t.teardown(() => server.stop())
  const c = await startCollector(t, {
    env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=300`, MONGODB_DB_NAME: 'outage', FLUSH_INTERVAL: '0.1' }
  })
  const load = newLoad()
  let clients = [batchClient(c.url, load, 25)]
  await untilAcked(load, 300)
  await server.stop()
  await untilAcked(load, 1500)
  load.stopped = true
  await Promise.all(clients)
  t.match(await untilStatus(c, disconnected), { last_error: /MongoDB/ }, 'the outage is visible in /status')

  server = await startMongoServer({ kind, dir: dbDir, port })
  load.stopped = false
  clients = [batchClient(c.url, load, 25)]
  await untilAcked(load, 2000)
  load.stopped = true
  await Promise.all(clients)
  await untilStatus(c, drained)
  const { MongoClient } = await import('mongodb')
  const mc = new MongoClient(server.uri)
  t.teardown(() => mc.close())
  assertExactlyOnce(t, load.acked, await seqCounts(mc.db('outage').collection('logs')))
})

t.test('embedded mode: no MONGODB_URI, the journal is the store', async t => {
  const c = await startCollector(t)
  const res = await fetch(`${c.url}/log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'local', app_name: 'e' }) })
  t.equal(res.status, 201)
  t.equal((await status(c)).mongodb_status, 'not_configured')
  t.equal(await c.stop('SIGTERM'), 0)
  const text = segments(c.logDir).map(s => segmentText(c.logDir, s)).join('')
  t.match(text, /"message":"local"/)
})
