// MongoDB stopped under load until the collector's flushes have failed many times over and a backlog waits
// in its journal (TEST_MONGO_OUTAGE_MS makes it last at least that long too), then started again on the same
// data directory: every acknowledged event is stored exactly once, the journal drains, and the collector's
// memory stays bounded meanwhile.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { collectorStatus, drained, startCollector, untilStatus, assertExactlyOnce, seqCounts, batchClient, newLoad, untilAcked, peakRssMb, poll } from '../support'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, restartableKind, startMongoServer } = require('../mongo/server.mjs')

/**
 * What the outage is for, waited for rather than timed: the driver's server selection failing many times
 * over (each failed flush is logged, then retried with a backoff of 0.5 s doubling to 5 s), and a backlog
 * in the journal. A fixed 30 s gave the same on a fast machine and kept a core busy with load for longer.
 */
const FAILED_FLUSHES = 5
const BACKLOG = 10_000
/** A least length for the outage, for a longer run; by default the two conditions above end it. */
const OUTAGE_MS = Number(process.env.TEST_MONGO_OUTAGE_MS ?? 0)
const FLUSH_FAILED = { msg: 'flush to MongoDB failed; will retry' }

t.test(`MongoDB down under load: ${FAILED_FLUSHES} failed flushes, ${BACKLOG} events waiting${OUTAGE_MS > 0 ? `, ${OUTAGE_MS} ms at least` : ''}`, { timeout: 210_000 + OUTAGE_MS }, async t => {
  const port = await freePort()
  const dbDir = mkdtempSync(join(tmpdir(), 'maap-outage30-'))
  const kind = restartableKind()
  let server = await startMongoServer({ kind, dir: dbDir, port })
  t.teardown(() => server.stop())
  const c = await startCollector(t, {
    env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`, MONGODB_DB_NAME: 'outage30', FLUSH_INTERVAL: '0.2' }
  })
  const load = newLoad()
  const clients = [batchClient(c.url, load, 100, 100), batchClient(c.url, load, 100, 100)]
  await untilAcked(load, 2000)

  const from = c.output.length
  await server.stop()
  const ackedBefore = load.acked.size
  const stoppedAt = Date.now()
  // The outage itself, under load, for as long as it takes the collector to get there.
  await poll(() => c.logs(FLUSH_FAILED, from).length >= FAILED_FLUSHES && load.acked.size - ackedBefore >= BACKLOG &&
    Date.now() - stoppedAt >= OUTAGE_MS, 100)
  const duringOutage = load.acked.size - ackedBefore
  t.ok(duringOutage > 0, `ingest went on during the outage (${duringOutage} events acknowledged)`)
  t.ok(c.logs(FLUSH_FAILED, from).length >= FAILED_FLUSHES, 'each failed flush was logged, and retried')
  const status = await collectorStatus(c)
  t.match(status, { mongodb_status: 'disconnected' })
  t.ok((status.buffer_size as number) >= duringOutage, 'what arrived during the outage waits in the journal')

  server = await startMongoServer({ kind, dir: dbDir, port })
  await untilAcked(load, load.acked.size + 1000)
  load.stopped = true
  await Promise.all(clients)
  await untilStatus(c, drained)
  const rss = peakRssMb(c.child.pid!)
  t.ok(rss < 250, `collector peak RSS ${rss.toFixed(0)} MB stays under 250 MB`)

  const mc = new MongoClient(server.uri)
  t.teardown(() => mc.close())
  assertExactlyOnce(t, load.acked, await seqCounts(mc.db('outage30').collection('logs')))
})
