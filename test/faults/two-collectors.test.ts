// Two collectors (separate LOG_DIRs and ports, as on two hosts) in front of one MongoDB database: they share
// nothing else. One SIGKILLed under load and restarted on its own journal → every acknowledged event stored
// exactly once; both sweeping one collection with MAX_DOCUMENTS → only the lease holder trims, never below the cap.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCollector, untilStatus, type RunningCollector, assertExactlyOnce, seqCounts, batchClient, newLoad, singleEventClient, untilAcked, connectTestClient, testMongoUri, uniqueDbName, poll } from '../support'

interface Status { retention: null | { lease?: { held: boolean, holder: string | null } } }

async function forceFlush (c: RunningCollector): Promise<number> {
  return (await fetch(`${c.url}/force-flush`, { method: 'POST' })).status
}

t.test('two collectors, one SIGKILLed under load and restarted: every acknowledged event stored exactly once', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('two')
  t.teardown(() => client.db(dbName).dropDatabase())
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '0.1', LOG_BUFFER_SIZE: '200' }
  const dirA = mkdtempSync(join(tmpdir(), 'maap-two-a-'))
  const [a, b] = await Promise.all([startCollector(t, { logDir: dirA, env }), startCollector(t, { env })])
  const load = newLoad()
  const clients = [
    singleEventClient(a.url, load), batchClient(a.url, load, 50),
    singleEventClient(b.url, load), batchClient(b.url, load, 50)
  ]
  await untilAcked(load, 3000)
  t.equal(await a.stop('SIGKILL'), 'SIGKILL')
  // Same journal, same port: A's clients find it again; B went on meanwhile.
  const a2 = await startCollector(t, { logDir: dirA, port: a.port, env })
  await untilAcked(load, load.acked.size + 2000)
  load.stopped = true
  await Promise.all(clients)

  t.equal(await forceFlush(a2), 200)
  t.equal(await forceFlush(b), 200)
  assertExactlyOnce(t, load.acked, await seqCounts(client.db(dbName).collection('logs')))
  t.equal(await a2.stop('SIGTERM'), 0)
  t.equal(await b.stop('SIGTERM'), 0)
})

t.test('two sweepers with MAX_DOCUMENTS: one holds the lease, the collection never drops below the cap', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('sweepers')
  t.teardown(() => client.db(dbName).dropDatabase())
  const logs = client.db(dbName).collection('logs')
  const MAX = 500
  const env = {
    MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '0.1', LOG_BUFFER_SIZE: '200',
    MAX_DOCUMENTS: String(MAX), MAX_COLLECTION_SIZE: '0', LOG_RETENTION_DAYS: '0', RETENTION_SWEEP_INTERVAL: '0.05'
  }
  const collectors = await Promise.all([startCollector(t, { env }), startCollector(t, { env })])
  const load = newLoad()
  // Paced, so that the sweeps keep the collection near the cap while events keep arriving.
  const clients = collectors.map(c => batchClient(c.url, load, 10, 20))
  // Sampled while both sweep under load: once past the cap, the count must never be seen below it.
  let lowest = Infinity
  let passedCap = false
  while (load.acked.size < 3000) {
    const n = await logs.estimatedDocumentCount()
    if (n > MAX) passedCap = true
    if (passedCap) lowest = Math.min(lowest, n)
  }
  load.stopped = true
  await Promise.all(clients)
  for (const c of collectors) t.equal(await forceFlush(c), 200)
  t.ok(passedCap, 'the collection went past MAX_DOCUMENTS under load')
  t.ok(lowest >= MAX, `never below MAX_DOCUMENTS while both swept (lowest seen: ${lowest})`)

  // Every event is in MongoDB now; the next pass of the lease holder trims to exactly the cap.
  await poll(async () => await logs.countDocuments() <= MAX)
  t.equal(await logs.countDocuments(), MAX, 'trimmed to exactly MAX_DOCUMENTS, not below')

  const [s0, s1] = await Promise.all(collectors.map(async c => await untilStatus<Status>(c, s => s.retention?.lease !== undefined)))
  const leases = [s0!.retention!.lease!, s1!.retention!.lease!]
  t.equal(leases.filter(l => l.held).length, 1, 'exactly one collector holds the sweeper lease')
  const holder = leases[0]!.held ? 0 : 1
  t.equal(leases[1 - holder]!.holder, leases[holder]!.holder, 'the other one names the holder')
  const latest = await client.db(dbName).collection('maap_locks').findOne({ lease: `retention:${dbName}.logs` }, { sort: { term: -1 } })
  t.equal(latest?.owner, leases[holder]!.holder)

  // The holder stops and releases the lease: the other takes over the sweep at once, not after the term.
  t.equal(await collectors[holder]!.stop('SIGTERM'), 0)
  const other = collectors[1 - holder]!
  await untilStatus<Status>(other, s => s.retention?.lease?.held === true)
  t.pass('the other collector took the lease over after the release')
  t.equal(await other.stop('SIGTERM'), 0)
})
