// winston → @maap-event-logger/winston-transport (worker thread) → real collector → MongoDB.
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import winston from 'winston'
import { MaapTransport } from '@maap-event-logger/winston-transport'
import { startCollector } from './helpers/collector'
import { journaled } from './helpers/journal'
import { connectTestClient, testMongoUri, uniqueDbName } from './helpers/mongo'
import { flushCollector, startApp } from './helpers/ship'

const exitApp = resolve(__dirname, '..', 'transports', 'winston', 'test', 'fixtures', 'app.js')

async function setup (t: Tap.Test, name: string, extraEnv: Record<string, string> = {}) {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName(name)
  t.teardown(() => client.db(dbName).dropDatabase())
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, MONGODB_COLLECTION: 'logs', FLUSH_INTERVAL: '0.2', LOG_BUFFER_SIZE: '5000', ...extraEnv }
  const collector = await startCollector(t, { env })
  return { client, collector, coll: client.db(dbName).collection('logs'), env }
}

async function ended (logger: winston.Logger): Promise<void> {
  const finished = once(logger, 'finish')
  logger.end()
  await finished
}

t.test('several formats: json, timestamp, errors with stack, splat and metadata, child, defaultMeta', async t => {
  const { collector, coll } = await setup(t, 'wfmt')
  const logger = winston.createLogger({
    level: 'debug',
    defaultMeta: { service: 'billing' },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.splat(),
      winston.format.timestamp({ format: () => '2026-01-02T03:04:05.678Z' }),
      winston.format.json()
    ),
    transports: [new MaapTransport({ url: collector.url, appName: 'e2e-winston' })]
  })
  logger.info('user %s signed in', 'ana', { userId: 42, tags: ['a', 'b'], nested: { deep: true } })
  logger.child({ requestId: 'req-7' }).warn('slow request', { ms: 1200 })
  logger.error(new Error('boom'))
  logger.error('payment failed', new Error('card declined'))
  logger.debug('details', { err: new TypeError('inner', { cause: new Error('root') }) })
  await ended(logger)
  await flushCollector(collector)

  const docs = await coll.find({}).sort({ _id: 1 }).toArray()
  t.equal(docs.length, 5)
  const [info, warn, boom, payment, debug] = docs
  t.match(info, { level: 'INFO', message: 'user ana signed in', app_name: 'e2e-winston', service: 'billing', userId: 42, tags: ['a', 'b'], nested: { deep: true } })
  t.same(info!.timestamp, new Date('2026-01-02T03:04:05.678Z'), 'timestamp from format.timestamp()')
  t.match(warn, { level: 'WARNING', message: 'slow request', requestId: 'req-7', ms: 1200 })
  t.match(boom, { level: 'ERROR', message: 'boom', stack: /^Error: boom\n\s+at /, app_name: 'e2e-winston' })
  // winston itself appends an Error meta's message to the message; the stack is the error's.
  t.match(payment, { level: 'ERROR', message: 'payment failed card declined', stack: /^Error: card declined\n/ })
  t.match(debug, { level: 'DEBUG', err: { name: 'TypeError', message: 'inner', stack: /^TypeError: inner/, cause: { message: 'root' } } })
})

t.test('an Error without format.errors(): message and stack kept', async t => {
  const { collector, coll } = await setup(t, 'werr')
  const logger = winston.createLogger({ transports: [new MaapTransport({ url: collector.url, appName: 'errs' })] })
  const err = Object.assign(new RangeError('out of range'), { code: 'E_RANGE' })
  logger.error(err)
  logger.warn('while charging', new Error('declined'))
  await ended(logger)
  await flushCollector(collector)
  const docs = await coll.find({}).sort({ _id: 1 }).toArray()
  t.match(docs, [
    { level: 'ERROR', message: 'out of range', stack: /^RangeError: out of range\n\s+at /, code: 'E_RANGE' },
    { level: 'WARNING', message: 'while charging declined', stack: /^Error: declined/ }
  ])
  t.ok(docs[0]!.timestamp instanceof Date, 'stamped at log time without format.timestamp()')
})

t.test('custom levels and syslog levels map to levels the collector knows; the original is kept', async t => {
  const { collector, coll } = await setup(t, 'wlvl')
  const custom = winston.createLogger({
    levels: { panic: 0, error: 1, notice: 2, info: 3, chatty: 4 },
    level: 'chatty',
    transports: [new MaapTransport({ url: collector.url, appName: 'levels' })]
  }) as winston.Logger & Record<'panic' | 'chatty' | 'notice', winston.LeveledLogMethod>
  custom.panic('p')
  custom.notice('n')
  custom.chatty('c')
  const syslog = winston.createLogger({
    levels: winston.config.syslog.levels,
    level: 'debug',
    transports: [new MaapTransport({ url: collector.url, appName: 'levels' })]
  })
  syslog.emerg('e')
  syslog.warning('w')
  await Promise.all([ended(custom), ended(syslog)])
  await flushCollector(collector)
  const byMessage = Object.fromEntries((await coll.find({}).toArray()).map(d => [d.message, d]))
  t.match(byMessage.p, { level: 'ERROR', level_raw: 'panic' }, 'panic → its nearest known neighbour, error')
  t.match(byMessage.n, { level: 'INFO' })
  t.notOk('level_raw' in byMessage.n!, 'a known name keeps no level_raw')
  t.match(byMessage.c, { level: 'INFO', level_raw: 'chatty' })
  t.match(byMessage.e, { level: 'CRITICAL' })
  t.match(byMessage.w, { level: 'WARNING' })
})

t.test("'finish' only after delivery: at 'finish' the collector has journaled every record", async t => {
  // MongoDB flushes only when asked, so what the collector holds at 'finish' is its journal, read
  // synchronously inside the 'finish' listener. A transport that lets 'finish' through before its
  // records are acknowledged (winston#1250) finds far fewer there: its worker has not even sent them.
  const { collector, coll } = await setup(t, 'wfin', { FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '1000000' })
  const n = 5000
  const logger = winston.createLogger({ transports: [new MaapTransport({ url: collector.url, appName: 'finish' })] })
  for (let i = 0; i < n; i++) logger.info('record', { i })
  let atFinish = -1
  logger.on('finish', () => { atFinish = journaled(collector.logDir).filter(e => e.app_name === 'finish').length })
  await ended(logger)
  t.equal(atFinish, n, `all ${n} acknowledged (journaled) by the collector when 'finish' fired`)
  await flushCollector(collector)
  t.equal(await coll.countDocuments({}), n, 'and all of them reach MongoDB')
})

t.test('winston.info() × 50,000 then process.exit(): all 50,000 stored', async t => {
  const { collector, coll } = await setup(t, 'wexit')
  const app = startApp(exitApp, { MAAP_TEST_URL: collector.url, N: '50000', MODE: 'exit' })
  t.equal(await app.exited, 0, app.stderr())
  await flushCollector(collector)
  t.equal(await coll.countDocuments({}), 50_000)
  t.equal(await coll.countDocuments({ i: { $in: [0, 49_999] } }), 2, 'first and last record stored once each')
  t.match(await coll.findOne({ i: 0 }), { app_name: 'exit-app', requestId: 'req-1', message: 'record 0', level: 'INFO' })
})

async function outage (t: Tap.Test, name: string, spool: boolean) {
  const { collector, coll, env } = await setup(t, name)
  const spoolDir = spool ? mkdtempSync(join(tmpdir(), 'maap-winston-spool-')) : undefined
  const transport = new MaapTransport({ url: collector.url, appName: name, spoolDir, maxBufferBytes: 80_000, batchSize: 100, retryBaseMs: 50, retryMaxMs: 200 })
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
  const stats = await transport.close()
  await flushCollector(back)
  return { coll, stats, warnings, spoolDir }
}

t.test('collector down for a while, then back: with a spool nothing is lost', async t => {
  const { coll, stats, warnings, spoolDir } = await outage(t, 'wspool', true)
  t.equal(await coll.countDocuments({}), 3500)
  t.equal((await coll.distinct('i')).length, 3500, 'each record once')
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
