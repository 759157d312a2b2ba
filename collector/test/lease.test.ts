// The sweeper lease against the real test server (mongod or FerretDB): one holder at a time, also when
// many processes race for a lease that has just run out, which a filtered findOneAndUpdate cannot promise
// on FerretDB.
import t from 'tap'
import type { Collection } from 'mongodb'
import { Lease, LEASE_COLLECTION, type LeaseDocument } from '../src/retention/lease'
import { sweepCollection } from '../src/retention/sweeper'
import { connectTestClient, uniqueDbName } from '../../test/support'

const TTL = 60_000

async function locks (t: { teardown: (fn: () => unknown) => void }): Promise<Collection<LeaseDocument>> {
  const client = await connectTestClient(t)
  const db = client.db(uniqueDbName('lease'))
  t.teardown(() => db.dropDatabase())
  return db.collection<LeaseDocument>(LEASE_COLLECTION)
}

t.test('one holder; the others see who holds it; the holder renews', async t => {
  const coll = await locks(t)
  const a = new Lease(coll, 'retention:db.logs', { ttlMs: TTL, owner: 'a' })
  const b = new Lease(coll, 'retention:db.logs', { ttlMs: TTL, owner: 'b' })
  t.equal(await a.acquire(), true)
  t.equal(a.held, true)
  t.equal(await b.acquire(), false)
  t.equal(b.held, false)
  t.equal(b.holder, 'a')
  const before = (await coll.findOne({ lease: 'retention:db.logs' }))!.expiresAt.getTime()
  t.equal(await a.acquire(), true, 'renewed')
  const doc = (await coll.findOne({ lease: 'retention:db.logs' }))!
  t.equal(doc.owner, 'a')
  t.equal(doc.term, 1, 'a renewal keeps the term')
  t.ok(doc.expiresAt.getTime() >= before)
  t.equal(await new Lease(coll, 'retention:db.other', { ttlMs: TTL, owner: 'b' }).acquire(), true, 'leases are per name')
})

t.test('many contenders at once: exactly one wins a fresh lease, and exactly one each time it runs out', async t => {
  const coll = await locks(t)
  let clock = Date.now()
  const contenders = Array.from({ length: 8 }, (_, i) => new Lease(coll, 'retention:db.logs', { ttlMs: TTL, owner: `c${i}`, now: () => clock }))
  const winners = async (): Promise<string[]> => {
    const held = await Promise.all(contenders.map(async c => await c.acquire()))
    return contenders.filter((_, i) => held[i]).map(c => c.owner)
  }
  t.equal((await winners()).length, 1, 'a fresh lease')
  let rounds = 0
  let single = 0
  for (let r = 0; r < 20; r++) {
    clock += TTL + 1 // the holder is gone: its term has run out for everyone
    const won = await winners()
    rounds++
    if (won.length === 1) single++
  }
  t.equal(single, rounds, 'every take-over of an expired term has one winner')
  t.ok(await coll.countDocuments() <= 3, 'old terms are cleaned up')
})

t.test('a holder whose clock passed its term stops claiming it; release lets another take over at once', async t => {
  const coll = await locks(t)
  let clock = Date.now()
  const a = new Lease(coll, 'l', { ttlMs: TTL, owner: 'a', now: () => clock })
  const b = new Lease(coll, 'l', { ttlMs: TTL, owner: 'b', now: () => clock })
  t.equal(await a.acquire(), true)
  clock += TTL * 0.8 // within the term by the server's record, but past the holder's safety margin
  t.equal(a.held, false, 'not trusted so close to the end of its term')
  t.equal(await b.acquire(), false, 'still someone else\'s for the others')
  t.equal(await a.acquire(), true, 'the holder takes a new term')
  t.equal((await coll.findOne({}, { sort: { term: -1 } }))!.term, 2)
  await a.release()
  t.equal(a.held, false)
  t.equal(await b.acquire(), true, 'released: taken at once')
  await a.release() // not held: nothing to do
  t.equal(await a.acquire(), false)
  t.equal(a.holder, 'b')
})

t.test('two sweepers guarded by the lease never trim below MAX_DOCUMENTS', async t => {
  const client = await connectTestClient(t)
  const db = client.db(uniqueDbName('guarded'))
  t.teardown(() => db.dropDatabase())
  const logs = db.collection('logs')
  const base = Date.now() - 3_600_000
  await logs.insertMany(Array.from({ length: 300 }, (_, i) => ({ timestamp: new Date(base + i), n: i })))
  const limits = { retentionDays: 0, maxDocuments: 100, maxCollectionSize: 0 }
  // Different chunk sizes keep the two from picking the same _ids in lockstep, which would hide the race.
  const sweeper = async (owner: string, chunkSize: number): Promise<boolean> => {
    const lease = new Lease(db.collection<LeaseDocument>(LEASE_COLLECTION), 'retention:logs', { ttlMs: TTL, owner })
    if (!(await lease.acquire())) return false
    await sweepCollection(logs, { ...limits, chunkSize })
    await lease.release()
    return true
  }
  // The second starts while the first is deleting: without the lease it would count its own excess from a
  // collection the first is still trimming, and both would delete that many.
  const first = sweeper('a', 5)
  while (await logs.estimatedDocumentCount() === 300) await new Promise(resolve => setImmediate(resolve))
  const swept = await Promise.all([first, sweeper('b', 7)])
  t.equal(swept.filter(Boolean).length, 1, 'one of them swept')
  t.equal(await logs.countDocuments(), 100)
  t.same((await logs.find().sort({ n: 1 }).limit(1).toArray())[0]!.n, 200, 'the newest 100 are kept')
})
