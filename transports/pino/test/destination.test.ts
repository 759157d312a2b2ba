// maapDestination: the core in the application's process, under a real pino logger and a real HTTP
// server; its exit behaviour in child processes.
import { resolve } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { maapDestination, type FlushResult } from '@maap-event-logger/pino-transport'
import { deadPort, runNode, startStub } from '../../../test/support'

const dist = resolve(__dirname, '..', 'dist', 'index.js')

t.test('pino(opts, dest) and pino(dest): every record delivered when flush() resolves', async t => {
  const stub = await startStub(t)
  const dest = maapDestination({ url: stub.url, appName: 'fn', batchInterval: 3_600_000 })
  const logger = pino({ base: { region: 'eu' } }, dest)
  for (let i = 0; i < 50; i++) logger.info({ i }, 'hello')
  const bare = pino(dest)
  bare.warn('bare')
  const r = await dest.flush()
  t.match(r, { written: 51, delivered: 51, undelivered: 0, sent: 51 })
  t.equal(stub.accepted.length, 51)
  t.match(stub.accepted[0], { app_name: 'fn', message: 'hello', level: 'info', region: 'eu', i: 0 })
  t.match(stub.accepted[50], { message: 'bare', level: 'warn' })
  t.match(await dest.close(), { undelivered: 0 })
  t.equal(dest.close(), dest.close(), 'close is idempotent')
  t.match(await dest.flush(), { undelivered: 0 }, 'flush after close answers the close')
  dest.end()
})

t.test('logger.flush(cb) calls back after delivery, with the result', async t => {
  const stub = await startStub(t)
  const dest = maapDestination({ url: stub.url, appName: 'fn', batchInterval: 3_600_000 })
  const logger = pino({}, dest)
  logger.info('via pino')
  await new Promise<void>((resolve, reject) => logger.flush((err?: Error) => err ? reject(err) : resolve()))
  t.equal(stub.accepted.length, 1, 'delivered when logger.flush calls back')
  logger.info('via the callback form')
  const result = await new Promise<FlushResult | undefined>((resolve, reject) => dest.flush((err, r) => err ? reject(err) : resolve(r)))
  t.match(result, { written: 1, delivered: 1, undelivered: 0 })
  await dest.close()
})

t.test('a flush against a dead collector resolves within its timeout, reporting what is pending', async t => {
  const port = await deadPort()
  const dest = maapDestination({ url: `http://127.0.0.1:${port}`, appName: 'fn', flushTimeout: 300, retryBaseMs: 10, retryMaxMs: 50, closeTimeout: 50, onError: () => {} })
  const logger = pino({}, dest)
  for (let i = 0; i < 7; i++) logger.info({ i }, 'lost?')
  t.match(await dest.flush(), { written: 7, delivered: 0, undelivered: 7, notDelivered: { pending: 7 } })
  t.match(await dest.flush(50), { written: 0, undelivered: 7 }, 'still pending at the next flush')
  t.match(await dest.close(), { undelivered: 7, notDelivered: { dropped: 7 } })
})

t.test('flushTimeout must be a positive integer', async t => {
  t.throws(() => maapDestination({ flushTimeout: 0 }), { code: 'MAAP_SHIP_INVALID_OPTION', message: /flushTimeout/ })
})

t.test('a script that ends on its own delivers; process.exit() with records pending says so on stderr', async t => {
  const stub = await startStub(t)
  const script = (exit: boolean): string => `
    const pino = require('pino')
    const { maapDestination } = require(${JSON.stringify(dist)})
    const logger = pino({}, maapDestination({ url: ${JSON.stringify(stub.url)}, appName: 'script', batchInterval: 3600000 }))
    for (let i = 0; i < 10; i++) logger.info({ i, exit: ${exit} }, 'bye')
    ${exit ? 'process.exit(0)' : ''}
  `
  const natural = await runNode(['-e', script(false)])
  t.equal(natural.code, 0)
  t.equal(stub.accepted.filter(e => e.exit === false).length, 10, 'the natural end delivered everything')
  const exited = await runNode(['-e', script(true)])
  t.equal(exited.code, 0)
  t.match(exited.stderr, /maap-pino: process exited with 10 records not delivered; await flush\(\) before exiting/)
})

t.test('a flush callback that throws is told on stderr; it does not crash the process as an unhandled rejection', async t => {
  const stub = await startStub(t)
  const run = await runNode(['-e', `
    const pino = require('pino')
    const { maapDestination } = require(${JSON.stringify(dist)})
    const dest = maapDestination({ url: ${JSON.stringify(stub.url)}, appName: 'throwing-cb' })
    const logger = pino({}, dest)
    logger.info('one')
    logger.flush(() => { throw new Error('the callback broke') })
    dest.flush().then(r => { process.stdout.write('after ' + r.undelivered + '\\n') })
  `])
  t.equal(run.code, 0, 'the process ends normally')
  t.match(run.stderr, /maap-pino: the flush callback threw: the callback broke/)
  t.match(run.stdout, /after 0/)
})
