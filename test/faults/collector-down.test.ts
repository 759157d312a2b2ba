// The collector down for a while (10 s by default; TEST_OUTAGE_MS sets it) while pino, winston and
// maap-ship keep shipping, each with a spool: every record is stored once it is back, and no
// application is blocked (each answers every command) or crashes.
import t from 'tap'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { startCollector, connectTestClient, testMongoUri, uniqueDbName, flushCollector, maapShip, pinoApp, poll, startApp, winstonApp } from '../support'

/** How long the collector stays down: long enough for every shipper to retry, spill and spool many times. */
const OUTAGE_MS = Number(process.env.TEST_OUTAGE_MS ?? 10_000)
/** Logging goes on in rounds, each PER_ROUND records per app, ROUND_MS apart, for the whole outage. */
const ROUND_MS = 500
const OUTAGE_ROUNDS = Math.max(1, Math.round(OUTAGE_MS / ROUND_MS))
const PER_ROUND = 100

t.test(`collector down for ${OUTAGE_MS} ms: pino, winston and maap-ship with a spool lose nothing`, { timeout: 300_000 + 2 * OUTAGE_MS }, async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('down')
  t.teardown(() => client.db(dbName).dropDatabase())
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '0.2' }
  const first = await startCollector(t, { env })
  const spool = (name: string): string => mkdtempSync(join(tmpdir(), `maap-down-${name}-`))
  // closeTimeout: an end resolves as soon as everything is delivered; the long deadline only keeps a
  // loaded machine's slow replay (one spool file at a time, each after the collector's fdatasync) from
  // being cut short, since what is tested is that nothing is lost, not how fast the spool replays.
  const core = { url: first.url, maxBufferBytes: 20_000, batchSize: 50, retryBaseMs: 50, retryMaxMs: 300, closeTimeout: 120_000 }
  const pinoSpool = spool('pino')

  const pino = startApp(pinoApp, { MAAP_TRANSPORT_OPTIONS: JSON.stringify({ ...core, appName: 'pino-app', spoolDir: pinoSpool }) })
  const winston = startApp(winstonApp, { MAAP_TRANSPORT_OPTIONS: JSON.stringify({ ...core, appName: 'winston-app', spoolDir: spool('winston') }) })
  const ship = spawn(process.execPath, [maapShip, '--url', first.url, '--app-name', 'ship-app', '--spool-dir', spool('ship'),
    '--max-buffer-bytes', '20000', '--batch-size', '50', '--retry-base-ms', '50', '--retry-max-ms', '300', '--close-timeout', '120000'], { stdio: ['pipe', 'ignore', 'pipe'] })
  let shipErr = ''
  ship.stderr.on('data', (c: Buffer) => { shipErr += c })
  const shipExit = once(ship, 'exit')
  let shipped = 0
  const shipLines = (n: number): void => {
    let text = ''
    for (let k = 0; k < n; k++) text += JSON.stringify({ level: 'info', message: `line ${shipped}`, i: shipped++ }) + '\n'
    ship.stdin.write(text)
  }

  t.equal(await pino.command(`log ${PER_ROUND}`), `logged ${PER_ROUND}`)
  t.equal(await winston.command(`log ${PER_ROUND}`), `logged ${PER_ROUND}`)
  shipLines(PER_ROUND)

  t.equal(await first.stop('SIGTERM'), 0)
  let total = PER_ROUND
  for (let round = 0; round < OUTAGE_ROUNDS; round++) {
    total += PER_ROUND
    // Each answer proves the application thread is not blocked by the outage.
    t.equal(await pino.command(`log ${PER_ROUND}`), `logged ${total}`, `pino answers during the outage (round ${round})`)
    t.equal(await winston.command(`log ${PER_ROUND}`), `logged ${total}`, `winston answers during the outage (round ${round})`)
    shipLines(PER_ROUND)
    await new Promise(resolve => setTimeout(resolve, ROUND_MS)) // pacing, not a wait for anything: the outage lasts OUTAGE_ROUNDS × ROUND_MS
  }

  const second = await startCollector(t, { env, logDir: first.logDir, port: first.port })
  // pino's worker gets ~10 s at process.exit (thread-stream), whatever closeTimeout says: the app exits
  // once its spool has replayed.
  await poll(() => readdirSync(pinoSpool).every(f => !f.endsWith('.ndjson')), 100)
  pino.child.stdin.write('exit\n')
  t.equal(await winston.command('end'), 'finish', "winston's 'finish' after delivery")
  ship.stdin.end()
  t.equal(await pino.exited, 0, pino.stderr())
  t.equal(await winston.exited, 0, winston.stderr())
  t.same(await shipExit, [0, null], shipErr)

  await flushCollector(second)
  const coll = client.db(dbName).collection('logs')
  for (const app of ['pino-app', 'winston-app', 'ship-app']) {
    t.equal(await coll.countDocuments({ app_name: app }), total, `${app}: all ${total} records stored`)
  }
})
