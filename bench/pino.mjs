// npm run bench:pino — what the pino transport costs the application and how fast it delivers, next to
// the baselines in the same run, same machine, same record shape:
//   1. main-thread cost: logger.info() calls/s, our transport vs pino → pino/file (same worker mechanism);
//      bar ≥ 0.9×
//   2. delivery: records acknowledged by a local collector per second (first call → logger.flush(cb));
//      bar ≥ 100,000/s
//   3. end to end into MongoDB: records stored per second through the collector, judged against the
//      server's own bulk ceiling for these documents measured in the same run (an insertMany loop before
//      and after; the higher counts) into a collection with the indexes the collector creates (like
//      with like: on FerretDB they cost a third of the insert rate): goal ≥ 0.8× (E2E_GOAL). No
//      end-to-end rate can pass that ceiling, so it, not a peer, is the bar. The bare ceiling (no index
//      but _id) is printed too, and the CPU each process used during the run (2 cores: the app, the
//      collector and the server share them). Beside it, pino-mongodb (one insert per record) into the
//      same server, and our ratio to it — the server caps that ratio, so it is printed, not judged.
// Load stays on 127.0.0.1. BENCH_N (default 200000) records for 1–2, BENCH_MONGO_N (default 100000)
// for 3, BENCH_PINO_MONGODB_N (default 3000) for pino-mongodb, BENCH_RUNS (default 3) runs of 1.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { ceilingAround, cpuSplit, E2E_BATCH, fmt, median, peerRate, perSec, ratio, runBenchApp, startServer, storedThroughCollector, uriWithDb, verdict } from './lib.mjs'
import { startMongoServer } from '../test/mongo/server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const app = join(here, 'pino-app.cjs')
const N = Number(process.env.BENCH_N ?? 200_000)
const MONGO_N = Number(process.env.BENCH_MONGO_N ?? 100_000)
const PM_N = Number(process.env.BENCH_PINO_MONGODB_N ?? 3000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

const runApp = env => runBenchApp(app, env)


async function mainThreadAndDelivery () {
  const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-pino-')) })
  const fileRates = []
  const maapRates = []
  const delivered = []
  for (let r = 0; r < RUNS; r++) {
    const f = await runApp({ BENCH_TARGET: 'file', BENCH_N: String(N), BENCH_OPTIONS: JSON.stringify({ destination: '/dev/null' }) })
    await f.exited
    fileRates.push(perSec(N, f.loopMs))
    const m = await runApp({ BENCH_TARGET: 'maap', BENCH_N: String(N), BENCH_OPTIONS: JSON.stringify({ url: `http://127.0.0.1:${collector.port}`, appName: 'bench' }) })
    await m.exited
    if (m.err) throw new Error(`flush failed: ${m.err}`)
    maapRates.push(perSec(N, m.loopMs))
    delivered.push(perSec(N, m.deliveredMs))
  }
  const status = await (await fetch(`http://127.0.0.1:${collector.port}/status`)).json()
  await collector.stop()
  console.log('\n1. main-thread cost, %s logger.info() calls, median of %d runs', fmt(N), RUNS)
  console.log('   pino → pino/file (worker) : %s calls/s', fmt(median(fileRates)))
  console.log('   pino → maap transport     : %s calls/s  (%s pino/file; bar ≥ 0.90×)', fmt(median(maapRates)), ratio(median(maapRates), median(fileRates)))
  console.log('\n2. delivery to a local collector (embedded journal), first call → flush callback')
  console.log('   %s records/s acknowledged, median of %d runs  (bar ≥ 100,000/s)', fmt(median(delivered)), RUNS)
  console.log('   collector accepted_total %s = %d runs × %s', fmt(status.accepted_total), RUNS, fmt(N))
}

async function endToEnd () {
  const server = await startMongoServer({ kind: process.env.MONGODB_URI ? 'external' : undefined })
  const client = new MongoClient(server.uri)
  try {
    // pino-mongodb: one insertOne per record, straight from its worker.
    const peer = async () => {
      const { stored, rate, app: pm } = await peerRate({
        runApp, coll: client.db('bench_pino_mongodb').collection('logs'), n: PM_N,
        options: { uri: uriWithDb(server.uri, 'bench_pino_mongodb'), database: 'bench_pino_mongodb', collection: 'logs' }
      })
      pm.child.kill('SIGKILL')
      await pm.exited
      return { stored, rate }
    }
    // Ours: pino → transport → collector (journal) → MongoDB, between the two ceiling readings.
    const ours = () => storedThroughCollector({ collectorBin, server, client, dbName: 'bench_maap_e2e', n: MONGO_N, runApp })
    const { result: [pm, e2e], before, after, ceiling, indexed } = await ceilingAround(client, 'bench_pino_bare', async () => [await peer(), await ours()])
    const { stored, rate } = e2e

    console.log('\n3. end to end into MongoDB (%s at %s), first call → all documents counted', process.env.MONGODB_URI ? 'external' : 'provisioned server', server.uri)
    console.log('   server ceiling            : %s docs/s by a bare insertMany(%s) loop, no collector (before %s, after %s)', fmt(ceiling), fmt(E2E_BATCH), fmt(before), fmt(after))
    console.log('   indexed ceiling           : %s docs/s, the same loop into a collection with the collector\'s indexes (%s; before %s, after %s)', fmt(indexed.ceiling), indexed.names.join(', '), fmt(indexed.before), fmt(indexed.after))
    console.log('   pino → maap → collector   : %s of %s stored, %s records/s  (%s)', fmt(stored), fmt(MONGO_N), fmt(rate), verdict(rate, indexed.ceiling, ceiling))
    console.log('   CPU-seconds               : %s', cpuSplit(e2e))
    console.log('   pino-mongodb 5            : %s of %s stored, %s records/s  (ours: %s pino-mongodb; the ceiling: %s)', fmt(pm.stored), fmt(PM_N), fmt(pm.rate), ratio(rate, pm.rate), ratio(ceiling, pm.rate))
  } finally {
    await client.close()
    await server.stop()
  }
}

await mainThreadAndDelivery()
await endToEnd()
