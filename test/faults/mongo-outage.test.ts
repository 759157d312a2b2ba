// MongoDB stopped under load (30 s by default; TEST_MONGO_OUTAGE_MS sets it), then started again on the same
// data directory: every acknowledged event is stored exactly once, the journal drains, and the collector's
// memory stays bounded meanwhile.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { collectorStatus, drained, startCollector, untilStatus, assertExactlyOnce, seqCounts, batchClient, newLoad, untilAcked, peakRssMb } from '../support'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, restartableKind, startMongoServer } = require('../mongo/server.mjs')

/** Long enough for the driver's server selection to fail many times over and the journal to hold a backlog. */
const OUTAGE_MS = Number(process.env.TEST_MONGO_OUTAGE_MS ?? 30_000)

t.test(`MongoDB down for ${OUTAGE_MS} ms under load`, { timeout: 210_000 + OUTAGE_MS }, async t => {
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

  await server.stop()
  const ackedBefore = load.acked.size
  await new Promise(resolve => setTimeout(resolve, OUTAGE_MS)) // the outage itself, under load
  const duringOutage = load.acked.size - ackedBefore
  t.ok(duringOutage > 0, `ingest went on during the outage (${duringOutage} events acknowledged)`)
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
