// winston → @maap-event-logger/winston-transport (worker thread) → real collector → MongoDB.
import t from 'tap'
import winston from 'winston'
import { MaapTransport } from '@maap-event-logger/winston-transport'
import { journaled, ended, setupMongoCollector, flushCollector } from './support'

t.test('several formats: json, timestamp, errors with stack, splat and metadata, child, defaultMeta', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'wfmt')
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
  const { collector, coll } = await setupMongoCollector(t, 'werr')
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
  const { collector, coll } = await setupMongoCollector(t, 'wlvl')
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
  const { collector, coll } = await setupMongoCollector(t, 'wfin', { FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '1000000' })
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
