// winston → @maap-event-logger/winston-transport → real collector → MongoDB, when it gets hard: 20,000
// records then process.exit(), and the collector down for a while, with and without a spool.
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import winston from 'winston'
import { MaapTransport } from '@maap-event-logger/winston-transport'
import { startCollector, ended, setupMongoCollector, fieldCounts, flushCollector, startApp, totalOf, winstonApp } from './support'

// 20,000 documents into FerretDB and two outages can take over the default 120 s per file on a loaded
// 2-core machine (a CI run measured 80 s for the first test alone when it logged 50,000).
t.setTimeout(360_000)

/**
 * The exit path end to end: 20,000 records span twenty-odd batches of the shipper's 1,000, each a round
 * trip from the transport's worker that the exit flush must complete. 50,000 records (and the exit flush
 * alone) are transports/winston/test/exit.test.ts's, against a collector without MongoDB: here more only
 * made FerretDB store more documents.
 */
const EXIT_RECORDS = 20_000

/** Batches the collector took at POST /logs (its request counter in GET /metrics). */
async function postedBatches (url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const m = /^maap_http_request_duration_seconds_count\{(?=[^}]*route="\/logs")(?=[^}]*method="POST")(?=[^}]*status_code="200")[^}]*\} (\d+)$/m.exec(metrics)
  return Number(m?.[1] ?? 0)
}

t.test('winston.info() × 20,000 then process.exit(): all 20,000 stored', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'wexit')
  // This asserts delivery at exit, not the deadline (closeTimeout's 8 s default): a CI machine at load 25
  // took longer than that for 50,000 records, and the rest was dropped as the deadline says.
  const app = startApp(winstonApp, { MAAP_TEST_URL: collector.url, N: String(EXIT_RECORDS), MODE: 'exit', CLOSE_TIMEOUT: '120000' })
  t.equal(await app.exited, 0, app.stderr())
  t.ok(await postedBatches(collector.url) >= 10, 'the records went in many batches (at most 1,000 records each)')
  await flushCollector(collector)
  // One scan for the count and every record's multiplicity: FerretDB scans for a count as well, and a
  // second query would scan again.
  const counts = await fieldCounts<number>(coll, 'i')
  t.equal(totalOf(counts), EXIT_RECORDS)
  t.ok([...counts.keys()].every(i => Number.isInteger(i) && i >= 0 && i < EXIT_RECORDS), 'only records 0 … 19,999')
  t.equal(counts.size, EXIT_RECORDS, 'each record once')
  t.match(await coll.findOne({ i: 0 }), { app_name: 'exit-app', requestId: 'req-1', message: 'record 0', level: 'INFO' })
})

async function outage (t: Tap.Test, name: string, spool: boolean) {
  const { collector, coll, env } = await setupMongoCollector(t, name)
  const spoolDir = spool ? mkdtempSync(join(tmpdir(), 'maap-winston-spool-')) : undefined
  const transport = new MaapTransport({ url: collector.url, appName: name, spoolDir, maxBufferBytes: 80_000, batchSize: 100, retryBaseMs: 50, retryMaxMs: 200, closeTimeout: 120_000 })
  const warnings: Array<{ code?: string }> = []
  transport.on('warn', (err: { code?: string }) => warnings.push(err))
  const logger = winston.createLogger({ transports: [transport] })
  const log = (from: number, to: number): void => { for (let i = from; i < to; i++) logger.info(`record ${i}`, { i }) }

  log(0, 500)
  t.match(await transport.flush(), { sent: 500 })
  await collector.stop()
  // Past the 80 kB memory bound the oldest batches go to the spool, or are dropped and counted.
  const overflow = once(transport, spool ? 'spooled' : 'dropped')
  log(500, 3500)
  await overflow
  const back = await startCollector(t, { env, port: collector.port, logDir: collector.logDir })
  await ended(logger)
  // close() resolves once everything (the spool's replay included) is delivered; the long deadline is only
  // there so a loaded machine's slow fdatasyncs cannot turn into spilled records.
  const stats = await transport.close()
  await flushCollector(back)
  return { coll, stats, warnings, spoolDir }
}

t.test('collector down for a while, then back: with a spool nothing is lost', async t => {
  const { coll, stats, warnings, spoolDir } = await outage(t, 'wspool', true)
  const counts = await fieldCounts(coll, 'i')
  t.equal(totalOf(counts), 3500)
  t.equal(counts.size, 3500, 'each record once')
  t.equal(stats.dropped, 0)
  t.ok(stats.spooled > 0, `spooled while the collector was down (${stats.spooled})`)
  t.same(readdirSync(spoolDir!).filter(f => f.endsWith('.ndjson')), [], 'spool replayed and emptied')
  t.ok(warnings.some(w => w.code === 'MAAP_SHIP_RETRY'), "failed sends surface as 'warn'")
})

t.test('collector down without a spool: drops are counted and reported, everything else stored', async t => {
  const { coll, stats, warnings } = await outage(t, 'wdrop', false)
  t.ok(stats.dropped > 0, `drops counted (${stats.dropped})`)
  t.equal(await coll.countDocuments({}), 3500 - stats.dropped, 'stored + dropped = logged')
  t.equal(stats.sent, 3500 - stats.dropped)
  t.ok(warnings.some(w => w.code === 'MAAP_SHIP_DROPPED'), "drops surface as 'warn'")
})
