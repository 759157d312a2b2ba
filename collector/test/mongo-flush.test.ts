// The MongoDB path in process: flush triggers, document types, dead letters, and MongoDB unreachable.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ObjectId } from 'mongodb'
import { connectTestClient, testMongoUri, uniqueDbName, poll } from '../../test/support'
import { buildTestApp } from './helpers'

function ndjson (events: object[]): { method: 'POST', url: string, headers: Record<string, string>, payload: string } {
  return { method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: events.map(e => JSON.stringify(e)).join('\n') }
}

t.test('force-flush stores every event with BSON types and renamed keys', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('flush')
  t.teardown(() => client.db(dbName).dropDatabase())
  // A buffer larger than the batch, so that only force-flush moves these events.
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '5000', LOG_RETENTION_DAYS: '0' })
  const events = Array.from({ length: 2500 }, (_, i) => ({ level: 'info', message: `m${i}`, app_name: 'svc', seq: i, 'user.id': i, timestamp: 1700000000000 + i }))
  const res = await app.inject(ndjson(events))
  t.equal(res.json().accepted, 2500)
  const flush = await app.inject({ method: 'POST', url: '/force-flush' })
  t.equal(flush.statusCode, 200)
  t.same(flush.json(), { status: 'success', message: 'Flushed 2500 logs to MongoDB' })

  const coll = client.db(dbName).collection('logs')
  t.equal(await coll.countDocuments(), 2500)
  const doc = await coll.findOne({ seq: 7 })
  t.ok(doc!._id instanceof ObjectId, '_id is an ObjectId')
  t.ok(doc!.timestamp instanceof Date, 'timestamp is a Date')
  t.equal((doc!.timestamp as Date).getTime(), 1700000000007)
  t.ok(doc!.received_at instanceof Date, 'received_at is a Date')
  t.equal(doc!.user_id, 7)
  t.equal(doc!.level, 'INFO')

  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.match(status, { mongodb_status: 'connected', buffer_size: 0, flushed_total: 2500 })
  const again = await app.inject({ method: 'POST', url: '/force-flush' })
  t.same(again.json(), { status: 'success', message: 'Flushed 0 logs to MongoDB' })
})

t.test('LOG_BUFFER_SIZE waiting events start a flush without force-flush or the interval', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('buffer')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '10' })
  await app.inject(ndjson(Array.from({ length: 25 }, (_, i) => ({ message: `m${i}`, app_name: 'a' }))))
  const coll = client.db(dbName).collection('logs')
  await poll(async () => (await coll.countDocuments()) >= 20)
  t.ok(await coll.countDocuments() >= 20)
})

t.test('FLUSH_INTERVAL flushes a small buffer', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('interval')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '0.05' })
  await app.inject({ method: 'POST', url: '/log', payload: { message: 'lonely', app_name: 'a' } })
  const coll = client.db(dbName).collection('logs')
  await poll(async () => (await coll.countDocuments()) === 1)
  t.equal((await coll.findOne())!.message, 'lonely')
})

t.test('a document MongoDB rejects is dead-lettered with the reason; its neighbours are stored', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('dead')
  t.teardown(() => client.db(dbName).dropDatabase())
  const coll = client.db(dbName).collection('logs')
  await coll.createIndex({ message: 1 }, { unique: true })
  const { app, logDir } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600' })
  await app.inject(ndjson([{ message: 'one', app_name: 'a' }, { message: 'dup', app_name: 'a' }, { message: 'dup', app_name: 'a', n: 2 }, { message: 'two', app_name: 'a' }]))
  const flush = await app.inject({ method: 'POST', url: '/force-flush' })
  t.equal(flush.statusCode, 200)
  t.same((await coll.find().sort({ message: 1 }).toArray()).map(d => d.message), ['dup', 'one', 'two'])
  const dead = (await readFile(join(logDir, 'maap-dead-letter.ndjson'), 'utf8')).trim().split('\n').map(l => JSON.parse(l))
  t.equal(dead.length, 1)
  t.match(dead[0], { code: 11000, reason: /duplicate key/, event: { message: 'dup', app_name: 'a' } })
  t.match((await app.inject({ method: 'GET', url: '/status' })).json(), { dead_lettered: 1, dead_letter_file: join(logDir, 'maap-dead-letter.ndjson') })
})

t.test('force-flush answers 503 with the reason when MongoDB is unreachable, and keeps the events', async t => {
  const { app } = await buildTestApp(t, { MONGODB_URI: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200', FLUSH_INTERVAL: '3600' })
  const res = await app.inject({ method: 'POST', url: '/log', payload: { message: 'kept', app_name: 'a' } })
  t.equal(res.statusCode, 201, 'ingest still works: the journal is the store until MongoDB returns')
  const flush = await app.inject({ method: 'POST', url: '/force-flush' })
  t.equal(flush.statusCode, 503)
  t.equal(flush.headers['retry-after'], '1')
  t.match(flush.json(), { statusCode: 503, code: 'MAAP_MONGO_UNAVAILABLE', message: /flush failed: .*1 logs are kept in the journal/ })
  t.match((await app.inject({ method: 'GET', url: '/status' })).json(), { mongodb_status: 'disconnected', buffer_size: 1, last_error: /MongoDB/ })
})
