// GET /logs with MongoDB: confirmed events come from MongoDB, the journal's unconfirmed tail is merged in
// (read your writes before any flush), an event in both is answered once, answers agree with the
// driver's own find(), the read indexes exist, and while MongoDB is down the journal answers.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ObjectId } from 'mongodb'
import { connectTestClient, testMongoUri, uniqueDbName } from '../../test/support'
import { buildTestApp } from './helpers'
import { allPages, postEvents as post, search } from './read-helpers'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, restartableKind, startMongoServer } = require('../../test/mongo/server.mjs')

const T0 = Date.parse('2026-11-30T00:00:00.000Z')

const noFlush = { FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', LOG_RETENTION_DAYS: '0', MAX_DOCUMENTS: '0', MAX_COLLECTION_SIZE: '0' }

t.test('read your writes: unflushed, flushed and half-flushed events, each once and in order', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('read')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, ...noFlush })
  const coll = client.db(dbName).collection('logs')

  await post(app, Array.from({ length: 120 }, (_, i) => ({ message: `first ${i}`, app_name: i % 2 === 0 ? 'api' : 'web', seq: i, timestamp: T0 + i * 1000 })))
  const unflushed = await search(app, 'limit=1000')
  t.equal(unflushed.source, 'mongodb')
  t.equal(await coll.countDocuments(), 0, 'nothing is in MongoDB yet')
  t.equal(unflushed.events.length, 120, 'yet every acknowledged event is found')

  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  t.equal(await coll.countDocuments(), 120)
  await post(app, Array.from({ length: 80 }, (_, i) => ({ message: `second ${i}`, app_name: 'api', seq: 120 + i, timestamp: T0 + 500 + i * 1000 })))
  // An event stored in MongoDB whose journal line is not checkpointed yet (a flush cut short): in both.
  const { events: [newest] } = await search(app, 'q=second&limit=1')
  await coll.insertOne({ ...newest, _id: ObjectId.createFromHexString(newest._id), timestamp: new Date(newest.timestamp), received_at: new Date(newest.received_at) })

  const pages = await allPages(app, 'limit=33')
  const seqs = pages.map(e => e.seq)
  t.equal(seqs.length, 200, 'every event')
  t.equal(new Set(seqs).size, 200, 'each once')
  const sorted = [...pages].sort((a, b) => a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : a._id < b._id ? 1 : -1)
  t.same(pages.map(e => e._id), sorted.map(e => e._id), 'newest first, ties by _id')

  // The same question through the API and through the driver.
  const viaApi = (await search(app, 'app_name=api&q=SECOND%201&limit=1000')).events
  await app.inject({ method: 'POST', url: '/force-flush' })
  const viaDriver = await coll.find({ app_name: 'api', message: { $regex: 'second 1', $options: 'i' } }).sort({ timestamp: -1, _id: -1 }).toArray()
  t.same(viaApi.map(e => e._id), viaDriver.map(d => (d._id as ObjectId).toHexString()))
  t.same(viaApi[0], { ...viaDriver[0], _id: (viaDriver[0]!._id as ObjectId).toHexString(), timestamp: (viaDriver[0]!.timestamp as Date).toISOString(), received_at: (viaDriver[0]!.received_at as Date).toISOString() }, 'an event as stored')

  const indexes = (await coll.listIndexes().toArray()).map(i => i.name)
  for (const name of ['maap_read_time', 'maap_read_app_time', 'maap_read_level_time']) t.ok(indexes.includes(name), `index ${name}`)

  const exported = await app.inject({ method: 'GET', url: '/logs?app_name=web', headers: { accept: 'application/x-ndjson' } })
  t.equal(exported.headers['x-maap-source'], 'mongodb')
  t.equal(exported.body.trimEnd().split('\n').length, 60)
})

t.test('while MongoDB is down, search answers from the journal', { timeout: 120_000 }, async t => {
  const port = await freePort()
  const dbDir = mkdtempSync(join(tmpdir(), 'maap-read-outage-'))
  const server = await startMongoServer({ kind: restartableKind(), dir: dbDir, port })
  let stopped = false
  t.teardown(async () => { if (!stopped) await server.stop() })
  const { app } = await buildTestApp(t, { MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`, MONGODB_DB_NAME: 'readoutage', ...noFlush })
  await post(app, Array.from({ length: 30 }, (_, i) => ({ message: `stored ${i}`, app_name: 'api', seq: i })))
  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  await server.stop()
  stopped = true
  await post(app, Array.from({ length: 20 }, (_, i) => ({ message: `during ${i}`, app_name: 'api', seq: 30 + i })))
  const answer = await search(app, 'limit=1000')
  t.equal(answer.source, 'journal')
  t.type(answer.mongodb_error, 'string', 'says why MongoDB did not answer')
  t.same(answer.events.map(e => e.seq).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i), 'what was flushed before and what arrived during the outage')
})
