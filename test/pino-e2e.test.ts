// pino → @maap-event-logger/pino-transport (pino's worker thread) → real collector → MongoDB.
import t from 'tap'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCollector, flushCollector, type RunningCollector, setupMongoCollector, droppedOnStderr, fieldCounts, pinoApp, poll, startApp, totalOf } from './support'

// Tens of thousands of documents through the collector into FerretDB take tens of seconds on a loaded
// 2-core machine; the default 120 s per file is too close.
t.setTimeout(360_000)

/** Batches the collector took at POST /logs (its request counter in GET /metrics). */
async function postedBatches (collector: RunningCollector): Promise<number> {
  const metrics = await (await fetch(`${collector.url}/metrics`)).text()
  const m = /^maap_http_request_duration_seconds_count\{(?=[^}]*route="\/logs")(?=[^}]*method="POST")(?=[^}]*status_code="200")[^}]*\} (\d+)$/m.exec(metrics)
  return Number(m?.[1] ?? 0)
}

t.test('records stored with pino fields mapped and child bindings kept', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'map')
  const app = startApp(pinoApp, { MAAP_TRANSPORT_OPTIONS: JSON.stringify({ url: collector.url, appName: 'e2e-app' }) })
  t.equal(await app.command('log 3'), 'logged 3')
  app.child.stdin.write('exit\n')
  t.equal(await app.exited, 0, app.stderr())
  await flushCollector(collector)
  const docs = await coll.find({}).sort({ i: 1 }).toArray()
  t.equal(docs.length, 3)
  t.match(docs[0], { level: /^info$/i, message: 'record 0', app_name: 'e2e-app', requestId: 'req-1', i: 0, hostname: String })
  t.ok(docs[0]!.timestamp instanceof Date, 'pino time stored as a Date')
})

// The exit path end to end (a real collector, MongoDB): 20,000 records span twenty-odd batches of the
// shipper's 1,000, each a round trip from pino's worker that must complete within pino's exit window.
// The 100,000-record exit (past thread-stream's 4 MiB buffer, so the logging thread waits on the worker) is
// transports/pino/test/exit.test.ts's, against a stub: here it only made FerretDB store 5× the documents.
const EXIT_RECORDS = 20_000

t.test('logger.info() × 20,000 then process.exit(): all 20,000 stored', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'exit')
  const app = startApp(pinoApp, { MODE: 'exit', N: String(EXIT_RECORDS), MAAP_TRANSPORT_OPTIONS: JSON.stringify({ url: collector.url, appName: 'exit' }) })
  t.equal(await app.exited, 0, app.stderr())
  t.ok(await postedBatches(collector) >= 10, 'the records went in many batches (at most 1,000 records each)')
  await flushCollector(collector)
  // One scan gives the count and every record's multiplicity: FerretDB scans for a count as well, and a
  // second query (or a distinct() of every value) would scan again.
  const counts = await fieldCounts<number>(coll, 'i')
  t.equal(totalOf(counts), EXIT_RECORDS)
  t.ok([...counts.keys()].every(i => Number.isInteger(i) && i >= 0 && i < EXIT_RECORDS), 'only records 0 … 19,999')
  t.equal(counts.size, EXIT_RECORDS, 'each record once')
})

t.test('collector down for a while, then back: with a spool nothing is lost', async t => {
  const { collector, coll, env } = await setupMongoCollector(t, 'spool')
  const spoolDir = mkdtempSync(join(tmpdir(), 'maap-e2e-spool-'))
  const options = { url: collector.url, appName: 'spool', spoolDir, maxBufferBytes: 50_000, batchSize: 100, retryBaseMs: 50, retryMaxMs: 200 }
  const app = startApp(pinoApp, { MAAP_TRANSPORT_OPTIONS: JSON.stringify(options) })
  t.equal(await app.command('log 300'), 'logged 300')
  t.equal(await app.command('flush'), 'flushed')
  await collector.stop()
  // ~20 kB a batch against a 50 kB bound: all but two batches of these spill, one spool file each, and the
  // spool replays one file at a time (each acknowledged after an fdatasync), so every 100 records here
  // cost a replay round trip later; 1,000 spill plenty.
  t.equal(await app.command('log 1000'), 'logged 1300')
  // The shipper keeps ~50 kB in memory; the rest of these go to disk — in pino's worker thread, which
  // may still be taking the lines in when the app thread has answered.
  t.ok(await poll(() => readdirSync(spoolDir).some(f => f.endsWith('.ndjson')), 50), 'spilled to the spool while the collector was down')
  const back = await startCollector(t, { env, port: collector.port, logDir: collector.logDir })
  t.equal(await app.command('flush'), 'flushed')
  // The spool replays in the background, one file at a time, each acknowledged after the collector's
  // fdatasync: on a loaded machine that outlasts the ~10 s pino gives its worker at exit. What is tested
  // here is that nothing is lost, not how fast replay is, so the app exits once the spool is empty.
  await poll(() => readdirSync(spoolDir).every(f => !f.endsWith('.ndjson')), 100)
  app.child.stdin.write('exit\n')
  t.equal(await app.exited, 0, app.stderr())
  await flushCollector(back)
  const counts = await fieldCounts(coll, 'i')
  t.equal(totalOf(counts), 1300)
  t.equal(counts.size, 1300, 'each record once')
  t.same(readdirSync(spoolDir).filter(f => f.endsWith('.ndjson')), [], 'spool replayed and emptied')
  t.equal(droppedOnStderr(app.stderr()), 0)
})

t.test('collector down without a spool: drops are counted on stderr, everything else stored', async t => {
  const { collector, coll, env } = await setupMongoCollector(t, 'drop')
  const options = { url: collector.url, appName: 'drop', maxBufferBytes: 50_000, batchSize: 100, retryBaseMs: 50, retryMaxMs: 200 }
  const app = startApp(pinoApp, { MAAP_TRANSPORT_OPTIONS: JSON.stringify(options) })
  t.equal(await app.command('log 500'), 'logged 500')
  t.equal(await app.command('flush'), 'flushed')
  await collector.stop()
  t.equal(await app.command('log 3000'), 'logged 3500')
  const back = await startCollector(t, { env, port: collector.port, logDir: collector.logDir })
  t.equal(await app.command('flush'), 'flushed')
  app.child.stdin.write('exit\n')
  t.equal(await app.exited, 0)
  await flushCollector(back)
  const dropped = droppedOnStderr(app.stderr())
  t.ok(dropped > 0, `drops reported (${dropped})`)
  t.equal(await coll.countDocuments({}), 3500 - dropped, 'stored + dropped = logged')
})
