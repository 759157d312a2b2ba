// npm run bench:winston — what MaapTransport costs the application and how fast it stores, next to the
// baselines in the same run, same machine, same record shape and format (timestamp + json):
//   1. main-thread cost of N logger.info() calls: MaapTransport → local collector (embedded journal) vs
//      winston → transports.File; bar ≥ 1.0×. A no-op transport gives winston's own cost, so each
//      transport's share per call is printed too. Three measures, first call → the logger's 'finish':
//      - CPU time of the main thread (the bar): what the application's thread really spends. File does
//        most of its work after the loop returns, on the same thread; MaapTransport hands it to its worker.
//      - event-loop busy time (wall clock): on a machine with fewer free cores than busy threads it also
//        counts the time the main thread waited for a core while the worker and the collector ran.
//      - the synchronous loop alone. For transports.File this is little more than winston queueing the
//        info objects: the File stream pushes back at once, so the logger formats them later.
//   2. end to end into MongoDB: records stored per second, first call → all in MongoDB, through the
//      collector (MONGODB_URI), judged against the server's own bulk ceiling for these documents
//      measured in the same run (an insertMany loop before and after; the higher counts) into a
//      collection with the collector's indexes (the bare ceiling beside it): goal ≥ 0.8× (E2E_GOAL).
//      No end-to-end rate can pass that ceiling, so it, not a peer, is the bar.
//      Beside it, winston-mongodb (one insert per record) into the same server, and our ratio to it —
//      the server caps that ratio, so it is printed, not judged.
// Load stays on 127.0.0.1. BENCH_N (default 200000) records for 1, BENCH_RUNS (default 5) runs of 1,
// BENCH_MONGO_N (default 100000) for 2, BENCH_WINSTON_MONGODB_N (default 3000) for winston-mongodb.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { ceilingAround, cpuSplit, E2E_BATCH, fmt, median, peerRate, perSec, ratio, runBenchApp, startServer, storedThroughCollector, uriWithDb, verdict, WINSTON_RECORD } from './lib.mjs'
import { startMongoServer } from '../test/mongo/server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const app = join(here, 'winston-app.cjs')
const N = Number(process.env.BENCH_N ?? 200_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const MONGO_N = Number(process.env.BENCH_MONGO_N ?? 100_000)
const WM_N = Number(process.env.BENCH_WINSTON_MONGODB_N ?? 3000)

const runApp = env => runBenchApp(app, env)


async function mainThread () {
  const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-winston-')) })
  const fileDir = mkdtempSync(join(tmpdir(), 'bench-winston-file-'))
  const targets = {
    noop: () => ({}),
    file: r => ({ filename: join(fileDir, `app-${r}.log`) }),
    maap: () => ({ url: `http://127.0.0.1:${collector.port}`, appName: 'bench' })
  }
  const runs = { noop: [], file: [], maap: [] }
  for (let r = 0; r < RUNS; r++) {
    for (const [target, options] of Object.entries(targets)) {
      const run = await runApp({ BENCH_TARGET: target, BENCH_N: String(N), BENCH_OPTIONS: JSON.stringify(options(r)) })
      await run.exited
      runs[target].push(run)
    }
  }
  const status = await (await fetch(`http://127.0.0.1:${collector.port}/status`)).json()
  await collector.stop()
  const rate = (target, key) => median(runs[target].map(run => perSec(N, run[key])))
  const line = (label, key, withAdded) => {
    const [o, f, m] = ['noop', 'file', 'maap'].map(target => rate(target, key))
    const added = r => withAdded ? `+${(1e6 / r - 1e6 / o).toFixed(1)} µs per call over winston itself; ` : ''
    console.log('   %s', label)
    if (withAdded) console.log('     winston itself (no-op transport) : %s calls/s', fmt(o))
    console.log('     transports.File                  : %s calls/s%s', fmt(f), withAdded ? `  (${added(f).slice(0, -2)})` : '')
    console.log('     MaapTransport                    : %s calls/s  (%s%s transports.File%s)', fmt(m), added(m), ratio(m, f), withAdded ? '; bar ≥ 1.00×' : '')
  }
  console.log('\n1. main-thread cost, %s logger.info() calls, median of %d runs', fmt(N), RUNS)
  line("CPU time of the application's main thread, first call → 'finish' (Linux /proc)", 'cpuMs', true)
  line('event-loop busy time, first call → finish (wall clock: includes waiting for a core)', 'busyMs', false)
  line('the synchronous loop of calls alone (File defers its work past it)', 'loopMs', false)
  console.log('   MaapTransport delivery to the local collector, first call → finish: %s records/s acknowledged', fmt(rate('maap', 'deliveredMs')))
  console.log('   collector accepted_total %s = %d runs × %s', fmt(status.accepted_total), RUNS, fmt(N))
}

async function endToEnd () {
  const server = await startMongoServer({ kind: process.env.MONGODB_URI ? 'external' : undefined })
  const client = new MongoClient(server.uri)
  try {
    const peer = async () => {
      // winston-mongodb: one insert per record from the application's own thread.
      const wmDb = 'bench_winston_mongodb'
      const { stored: wmStored, rate: wmRate, app: wm } = await peerRate({
        runApp, coll: client.db(wmDb).collection('logs'), n: WM_N, options: { db: uriWithDb(server.uri, wmDb), collection: 'logs' }
      })
      // Then ask it to close: it has been seen to crash there ("Cannot read properties of null").
      const closing = wm.nextLine()
      wm.child.stdin.write('end\n')
      let guard
      const closed = await Promise.race([
        closing.then(r => r.closed),
        wm.exited.then(e => `exited (${e.code ?? e.signal}) ${e.stderr.trim().split('\n').pop() ?? ''}`),
        new Promise(resolve => { guard = setTimeout(resolve, 15_000, 'no answer within 15 s') })
      ])
      clearTimeout(guard)
      wm.child.kill('SIGKILL')
      await wm.exited
      return { stored: wmStored, rate: wmRate, closed }
    }
    // Ours: winston → MaapTransport (worker) → collector (journal) → MongoDB, between the two ceiling readings.
    const ours = () => storedThroughCollector({ collectorBin, server, client, dbName: 'bench_winston_maap_e2e', n: MONGO_N, runApp })
    const { result: [wm, e2e], before, after, ceiling, indexed } = await ceilingAround(client, 'bench_winston_bare', async () => [await peer(), await ours()], WINSTON_RECORD)
    const { stored, rate } = e2e

    console.log('\n2. end to end into MongoDB (%s at %s), first call → all documents stored', server.kind ?? 'provisioned server', server.uri)
    console.log('   server ceiling             : %s docs/s by a bare insertMany(%s) loop, no collector (before %s, after %s)', fmt(ceiling), fmt(E2E_BATCH), fmt(before), fmt(after))
    console.log('   indexed ceiling            : %s docs/s, the same loop into a collection with the collector\'s indexes (%s; before %s, after %s)', fmt(indexed.ceiling), indexed.names.join(', '), fmt(indexed.before), fmt(indexed.after))
    console.log('   winston → maap → collector : %s of %s stored, %s records/s  (%s)', fmt(stored), fmt(MONGO_N), fmt(rate), verdict(rate, indexed.ceiling, ceiling))
    console.log('   CPU-seconds                : %s', cpuSplit(e2e))
    console.log('   winston-mongodb 7          : %s of %s stored, %s records/s  (ours: %s winston-mongodb; the ceiling: %s; logger.end() + close(): %s)', fmt(wm.stored), fmt(WM_N), fmt(wm.rate), ratio(rate, wm.rate), ratio(ceiling, wm.rate), wm.closed)
  } finally {
    await client.close()
    await server.stop()
  }
}

await mainThread()
await endToEnd()
