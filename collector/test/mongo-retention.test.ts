// Retention in MongoDB against the real wire server the test run provisioned (FerretDB or mongod): the
// timestamp index (TTL where the server has it), and the sweeper's expiry, MAX_DOCUMENTS and
// MAX_COLLECTION_SIZE trims. Each test uses a database of its own; `now` is injected.
import t from 'tap'
import { ObjectId, type Collection, type Document, type MongoClient } from 'mongodb'
import { connectTestClient, uniqueDbName } from '../../test/helpers/mongo'
import {
  PLAIN_INDEX_NAME, TTL_INDEX_NAME, collectionSize, ensureRetentionIndexes, sweepCollection, type RetentionLimits
} from '../src/retention/mongo-retention'

const DAY = 86_400_000
const HOUR = 3_600_000
const NOW = new Date('2026-11-27T08:00:00.000Z')
const NO_LIMITS: RetentionLimits = { retentionDays: 0, maxDocuments: 0, maxCollectionSize: 0 }

type Test = { teardown: (fn: () => unknown) => void }

async function freshCollection (t: Test): Promise<{ client: MongoClient, coll: Collection<Document> }> {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('retention')
  t.teardown(() => client.db(dbName).dropDatabase())
  return { client, coll: client.db(dbName).collection('logs') }
}

/** Whether the server under test has TTL indexes: mongod does, FerretDB does not; an external server says. */
async function serverHasTtl (client: MongoClient): Promise<boolean> {
  const kind = process.env.TEST_MONGO_KIND
  if (kind === 'ferretdb') return false
  if (kind === 'mongod') return true
  const info = await client.db('admin').command({ buildInfo: 1 })
  return info.ferretdbVersion === undefined
}

function logDoc (timestamp: Date | undefined, i: number, extra: Document = {}): Document {
  const doc: Document = { _id: new ObjectId(), received_at: NOW, level: 'INFO', app_name: 'svc', message: `event ${i}`, seq: i, ...extra }
  if (timestamp !== undefined) doc.timestamp = timestamp
  return doc
}

async function timestampIndexes (coll: Collection<Document>): Promise<Document[]> {
  return (await coll.listIndexes().toArray()).filter(ix => Object.keys(ix.key).join() === 'timestamp')
}

async function seqs (coll: Collection<Document>): Promise<number[]> {
  return (await coll.find({}, { projection: { seq: 1 } }).toArray()).map(d => d.seq as number).sort((a, b) => a - b)
}

function range (from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i)
}

t.test('ensureRetentionIndexes: TTL index where the server has TTL, else a plain index and the reason', async t => {
  const { client, coll } = await freshCollection(t)
  const ttlServer = await serverHasTtl(client)
  const limits = { retentionDays: 60, maxDocuments: 100_000, maxCollectionSize: 1 << 30 }

  const first = await ensureRetentionIndexes(coll, limits)
  const [ix, ...more] = await timestampIndexes(coll)
  t.same(more, [], 'exactly one index on { timestamp: 1 }')
  if (ttlServer) {
    t.match(first, { ttl: true, action: 'created', index: TTL_INDEX_NAME })
    t.equal(first.reason, undefined)
    t.match(ix, { name: TTL_INDEX_NAME, key: { timestamp: 1 }, expireAfterSeconds: 60 * 86400 })
  } else {
    t.match(first, { ttl: false, action: 'created', index: PLAIN_INDEX_NAME })
    t.match(first.reason, /refused a TTL index \(code 238 NotImplemented: .*expireAfterSeconds.*\).*sweeper/)
    t.match(ix, { name: PLAIN_INDEX_NAME, key: { timestamp: 1 } })
    t.equal(ix?.expireAfterSeconds, undefined, 'no TTL option')
  }

  // Idempotent: a second start changes nothing and reports the same.
  const before = await coll.listIndexes().toArray()
  const second = await ensureRetentionIndexes(coll, limits)
  t.same({ ...second, action: undefined, reason: undefined }, { ...first, action: undefined, reason: undefined })
  t.equal(second.action, 'unchanged')
  t.equal(second.ttl, first.ttl)
  if (!second.ttl) t.match(second.reason, /238/)
  t.same(await coll.listIndexes().toArray(), before)
})

t.test('ensureRetentionIndexes: a changed LOG_RETENTION_DAYS and foreign index options are brought in line', async t => {
  const { client, coll } = await freshCollection(t)
  const ttlServer = await serverHasTtl(client)
  const days = (retentionDays: number): RetentionLimits => ({ ...NO_LIMITS, retentionDays })

  await ensureRetentionIndexes(coll, days(60))
  const changed = await ensureRetentionIndexes(coll, days(30))
  let [ix, ...more] = await timestampIndexes(coll)
  t.same(more, [])
  if (ttlServer) {
    t.match(changed, { ttl: true, action: 'modified' })
    t.equal(ix?.expireAfterSeconds, 30 * 86400)
  } else {
    t.match(changed, { ttl: false, action: 'unchanged', index: PLAIN_INDEX_NAME, reason: /238/ })
    t.equal(ix?.expireAfterSeconds, undefined)
  }

  // 0 = keep forever: no TTL index, a plain one for the sweeper's queries.
  const forever = await ensureRetentionIndexes(coll, days(0))
  t.match(forever, { ttl: false, reason: 'LOG_RETENTION_DAYS is 0: documents are kept forever', action: ttlServer ? 'recreated' : 'unchanged' })
  ;[ix, ...more] = await timestampIndexes(coll)
  t.same(more, [])
  t.equal(ix?.expireAfterSeconds, undefined, 'the TTL index is gone')

  // Back to a retention: TTL again where possible.
  const back = await ensureRetentionIndexes(coll, days(0.5))
  ;[ix, ...more] = await timestampIndexes(coll)
  t.same(more, [])
  t.equal(back.ttl, ttlServer)
  t.equal(ix?.expireAfterSeconds, ttlServer ? 43_200 : undefined, 'fractional days in whole seconds')

  // Longer than a TTL index can express: no TTL, the sweeper enforces it.
  const tooLong = await ensureRetentionIndexes(coll, days(30_000))
  t.match(tooLong, { ttl: false, reason: /beyond what a TTL index can express/ })
  ;[ix, ...more] = await timestampIndexes(coll)
  t.same(more, [])
  t.equal(ix?.expireAfterSeconds, undefined)

  await t.rejects(ensureRetentionIndexes(coll, days(-1)), RangeError)
  await t.rejects(ensureRetentionIndexes(coll, { ...days(1), chunkSize: 0 }), RangeError)
})

t.test('ensureRetentionIndexes replaces a { timestamp: 1 } index with other options and frees its own names', async t => {
  const { client, coll } = await freshCollection(t)
  const ttlServer = await serverHasTtl(client)
  await coll.insertOne(logDoc(new Date(), 0)) // current, so no TTL monitor removes it during the test
  // A unique index on timestamp someone made (FerretDB keeps `unique`), and our TTL name on another key.
  await coll.createIndex({ timestamp: 1 }, { name: 'timestamp_1', unique: true })
  await coll.createIndex({ received_at: 1 }, { name: TTL_INDEX_NAME })
  t.match(await timestampIndexes(coll), [{ name: 'timestamp_1', unique: true }], 'precondition: the server kept the unique option')

  const res = await ensureRetentionIndexes(coll, { ...NO_LIMITS, retentionDays: 7 })
  t.match(res, { ttl: ttlServer, action: 'recreated', index: ttlServer ? TTL_INDEX_NAME : PLAIN_INDEX_NAME })
  const [ix, ...more] = await timestampIndexes(coll)
  t.same(more, [])
  t.equal(ix?.unique, undefined, 'no longer unique')
  t.equal(ix?.expireAfterSeconds, ttlServer ? 7 * 86400 : undefined)
  const names = (await coll.listIndexes().toArray()).map(i => i.name).sort()
  t.same(names, ['_id_', ttlServer ? TTL_INDEX_NAME : PLAIN_INDEX_NAME].sort(), `the old ${TTL_INDEX_NAME} on received_at was dropped`)
  t.equal(await coll.countDocuments(), 1, 'documents are untouched')
  t.match(await ensureRetentionIndexes(coll, { ...NO_LIMITS, retentionDays: 7 }), { action: 'unchanged' })
})

t.test('ensureRetentionIndexes on a plain index made by hand', async t => {
  const { client, coll } = await freshCollection(t)
  const ttlServer = await serverHasTtl(client)
  await coll.createIndex({ timestamp: 1 }) // 'timestamp_1', no options
  const res = await ensureRetentionIndexes(coll, { ...NO_LIMITS, retentionDays: 2 })
  const [ix, ...more] = await timestampIndexes(coll)
  t.same(more, [])
  if (ttlServer) {
    t.match(res, { ttl: true, action: /modified|recreated/ })
    t.equal(ix?.expireAfterSeconds, 2 * 86400)
  } else {
    // A server without TTL keeps the plain index it has rather than rebuilding it on every start.
    t.match(res, { ttl: false, action: 'unchanged', index: 'timestamp_1', reason: /238/ })
    t.match(ix, { name: 'timestamp_1' })
  }
  t.match(await ensureRetentionIndexes(coll, { ...NO_LIMITS, retentionDays: 0 }), { ttl: false, action: ttlServer ? 'recreated' : 'unchanged' })
})

t.test('sweep: expiry by age, in chunks, with an injected now', async t => {
  const { coll } = await freshCollection(t)
  await ensureRetentionIndexes(coll, NO_LIMITS) // the plain index the sweeper uses; no TTL monitor racing the test
  // 300 events, one an hour back from NOW; seq = hours ago. Plus two without a timestamp.
  await coll.insertMany(range(0, 300).map(i => logDoc(new Date(NOW.getTime() - i * HOUR), i)))
  await coll.insertMany([logDoc(undefined, 1000), logDoc(undefined, 1001)])
  const limits: RetentionLimits = { retentionDays: 5, maxDocuments: 0, maxCollectionSize: 0, chunkSize: 40 }

  const res = await sweepCollection(coll, limits, NOW)
  t.same(res, { expired: 179, trimmedByCount: 0, trimmedBySize: 0 }, 'everything strictly older than 120 hours')
  t.same(await seqs(coll), [...range(0, 121), 1000, 1001], 'the event exactly at the cut-off and those without a timestamp stay')

  t.same(await sweepCollection(coll, limits, NOW), { expired: 0, trimmedByCount: 0, trimmedBySize: 0 }, 'a second pass finds nothing')
  t.same(await sweepCollection(coll, limits, new Date(NOW.getTime() + HOUR)), { expired: 1, trimmedByCount: 0, trimmedBySize: 0 })
  t.same(await sweepCollection(coll, { ...limits, retentionDays: 0 }, new Date(NOW.getTime() + 1000 * DAY)),
    { expired: 0, trimmedByCount: 0, trimmedBySize: 0 }, 'retention 0 keeps everything')
  t.equal(await coll.countDocuments(), 122)

  // Without an injected now, the current time is used: these events are months old by now.
  const { coll: recent } = await freshCollection(t)
  await recent.insertMany([logDoc(new Date(Date.now() - 10 * DAY), 0), logDoc(new Date(Date.now() - HOUR), 1)])
  t.same(await sweepCollection(recent, { ...NO_LIMITS, retentionDays: 2 }), { expired: 1, trimmedByCount: 0, trimmedBySize: 0 })
  t.same(await seqs(recent), [1])
})

t.test('sweep: MAX_DOCUMENTS keeps exactly the newest N, ties on timestamp broken by _id', async t => {
  const { coll } = await freshCollection(t)
  await ensureRetentionIndexes(coll, NO_LIMITS)
  // 250 events in groups of 10 sharing a timestamp; _ids are random with respect to insertion order and
  // timestamps, so neither insertion nor natural order gives the right answer at a tie.
  const ids = range(0, 250).map(() => new ObjectId())
  const shuffled = [...ids].sort(() => Math.random() - 0.5)
  const docs = range(0, 250).map(i => logDoc(new Date(NOW.getTime() - 30 * DAY + Math.floor(i / 10) * 1000), i, { _id: shuffled[i] }))
  await coll.insertMany([...docs].sort(() => Math.random() - 0.5))
  const byAge = [...docs].sort((a, b) =>
    (a.timestamp as Date).getTime() - (b.timestamp as Date).getTime() || (a._id as ObjectId).toHexString().localeCompare((b._id as ObjectId).toHexString()))

  // 155 to go: 15 whole groups and half of the 16th; chunks of 40 end inside groups too.
  const res = await sweepCollection(coll, { ...NO_LIMITS, maxDocuments: 95, chunkSize: 40 }, NOW)
  t.same(res, { expired: 0, trimmedByCount: 155, trimmedBySize: 0 })
  const kept = (await coll.find({}, { projection: { _id: 1 } }).toArray()).map(d => (d._id as ObjectId).toHexString()).sort()
  t.same(kept, byAge.slice(155).map(d => (d._id as ObjectId).toHexString()).sort(), 'the newest 95 by (timestamp, _id)')

  t.same(await sweepCollection(coll, { ...NO_LIMITS, maxDocuments: 95 }, NOW), { expired: 0, trimmedByCount: 0, trimmedBySize: 0 }, 'at the cap: nothing to do')
  t.same(await sweepCollection(coll, { ...NO_LIMITS, maxDocuments: 1000 }, NOW), { expired: 0, trimmedByCount: 0, trimmedBySize: 0 })
  t.same(await sweepCollection(coll, { ...NO_LIMITS, maxDocuments: 3 }, NOW), { expired: 0, trimmedByCount: 92, trimmedBySize: 0 })
  t.same((await coll.find({}, { projection: { _id: 1 } }).toArray()).map(d => (d._id as ObjectId).toHexString()).sort(),
    byAge.slice(247).map(d => (d._id as ObjectId).toHexString()).sort())
})

t.test('sweep: expiry first, then the count cap, in one pass', async t => {
  const { coll } = await freshCollection(t)
  await coll.insertMany(range(0, 200).map(i => logDoc(new Date(NOW.getTime() - i * DAY), i)))
  const res = await sweepCollection(coll, { retentionDays: 100.5, maxDocuments: 60, maxCollectionSize: 0 }, NOW)
  t.same(res, { expired: 99, trimmedByCount: 41, trimmedBySize: 0 })
  t.same(await seqs(coll), range(0, 60))
})

t.test('sweep: MAX_COLLECTION_SIZE trims the oldest until the data size is under the cap', async t => {
  const { coll } = await freshCollection(t)
  await ensureRetentionIndexes(coll, NO_LIMITS)
  const pad = 'x'.repeat(900)
  await coll.insertMany(range(0, 300).map(i => logDoc(new Date(NOW.getTime() - (300 - i) * 1000), i, { pad })))
  const full = await collectionSize(coll)
  t.equal(full.count, 300)
  t.ok(full.size >= 300 * 900, `collStats size ${full.size} counts the documents' data`)
  const cap = Math.floor(full.size / 3)

  const res = await sweepCollection(coll, { ...NO_LIMITS, maxCollectionSize: cap, chunkSize: 50 }, NOW)
  const after = await collectionSize(coll)
  t.ok(after.size <= cap, `size ${after.size} <= cap ${cap}`)
  t.equal(res.expired, 0)
  t.equal(res.trimmedByCount, 0)
  t.equal(res.trimmedBySize, 300 - after.count)
  // The oldest went, and not (much) more than needed: a third of the data remains, give or take a page.
  t.same(await seqs(coll), range(300 - after.count, 300), 'the newest documents are the ones kept')
  t.ok(after.count >= 60 && after.count <= 100, `kept ${after.count} of 300 for a cap of a third`)

  t.same(await sweepCollection(coll, { ...NO_LIMITS, maxCollectionSize: cap }, NOW), { expired: 0, trimmedByCount: 0, trimmedBySize: 0 }, 'under the cap: nothing to do')
  const tiny = await sweepCollection(coll, { ...NO_LIMITS, maxCollectionSize: 1 }, NOW)
  t.equal(tiny.trimmedBySize, after.count, 'a cap below one document empties the collection')
  t.equal(await coll.countDocuments(), 0)
})

t.test('sweep: caps of 0 disable each rule', async t => {
  const { coll } = await freshCollection(t)
  await coll.insertMany(range(0, 120).map(i => logDoc(new Date(NOW.getTime() - (1000 + i) * DAY), i, { pad: 'y'.repeat(500) })))
  t.same(await sweepCollection(coll, NO_LIMITS, NOW), { expired: 0, trimmedByCount: 0, trimmedBySize: 0 })
  t.equal(await coll.countDocuments(), 120, 'ancient, many and large, but nothing is limited')
  t.same(await sweepCollection(coll, { ...NO_LIMITS, maxDocuments: 100 }, NOW), { expired: 0, trimmedByCount: 20, trimmedBySize: 0 })
  t.same(await seqs(coll), range(0, 100), 'the count cap alone: the 20 oldest went')
  await t.rejects(sweepCollection(coll, { ...NO_LIMITS, maxDocuments: Number.NaN }, NOW), RangeError)
})

t.test('sweep and index setup on a collection that does not exist yet', async t => {
  const { coll } = await freshCollection(t)
  t.same(await sweepCollection(coll, { retentionDays: 1, maxDocuments: 10, maxCollectionSize: 10 }, NOW), { expired: 0, trimmedByCount: 0, trimmedBySize: 0 })
  t.same(await collectionSize(coll), { size: 0, count: 0, avgObjSize: 0 })
  const res = await ensureRetentionIndexes(coll, { ...NO_LIMITS, retentionDays: 1 })
  t.equal(res.action, 'created')
  t.equal((await timestampIndexes(coll)).length, 1)
})
