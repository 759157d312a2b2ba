// MaapTransport with the shipper in the application's thread (`worker: false`), and the fallback to it
// when the worker's file cannot be loaded (what a bundler does to it), against a real collector.
import { once } from 'node:events'
import { resolve } from 'node:path'
import t from 'tap'
import winston from 'winston'
import { MaapTransport } from '@maap-event-logger/winston-transport'
import { captureStderr, deadPort, journaled, runNode, startCollector } from '../../../test/support'

const dist = resolve(__dirname, '..', 'dist', 'index.js')

t.test('worker: false ships from this thread: flush() means delivered; events and warnings as with a worker', async t => {
  const collector = await startCollector(t)
  const transport = new MaapTransport({ url: collector.url, appName: 'inproc', worker: false, batchInterval: 3_600_000 })
  const logger = winston.createLogger({ transports: [transport] })
  const sent = once(transport, 'sent')
  for (let i = 0; i < 20; i++) logger.info('r', { i })
  const r = await transport.flush()
  t.match(r, { written: 20, delivered: 20, undelivered: 0, sent: 20 })
  t.equal((await sent)[0], 20, "the core's 'sent' is re-emitted")
  t.equal(journaled(collector.logDir).length, 20, 'in the collector when flush() resolves')
  logger.info('last')
  const finished = once(logger, 'finish')
  logger.end()
  await finished
  t.equal(journaled(collector.logDir).length, 21, "'finish' after delivery")
  t.equal(transport.close(), transport.close(), 'close is idempotent')
  t.match(await transport.flush(), { sent: 21 }, 'flush after close answers the close')
})

t.test('worker: false against a dead collector: flush resolves in its timeout with the count; errors come as warn', async t => {
  const port = await deadPort()
  const warned: string[] = []
  const transport = new MaapTransport({ url: `http://127.0.0.1:${port}`, worker: false, retryBaseMs: 10, retryMaxMs: 20, closeTimeout: 50, onError: e => warned.push(e.code) })
  transport.log({ level: 'info', message: 'a' })
  transport.log({ level: 'info', message: 'b' })
  t.match(await transport.flush(200), { written: 2, undelivered: 2, notDelivered: { pending: 2 } })
  t.ok(warned.includes('MAAP_SHIP_RETRY'))
  const stderr = captureStderr(t)
  t.match(await transport.close(), { undelivered: 2, notDelivered: { dropped: 2 } })
  stderr.stop()
  t.match(stderr.lines.join(''), /maap-winston: dropped 2 records/)
})

t.test('a bad option still throws in this mode', async t => {
  t.throws(() => new MaapTransport({ worker: false, batchSize: -1 }), { code: 'MAAP_SHIP_INVALID_OPTION', message: /batchSize/ })
})

t.test('the worker file cannot be loaded: one notice, then shipping from this thread; a natural end delivers', async t => {
  const collector = await startCollector(t)
  // What a bundle does to the worker's file: it is simply not there to resolve.
  const script = `
    const Module = require('node:module')
    const resolveFilename = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (/[\\\\/]thread[\\\\/]entry$|^\\.\\/entry$/.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' })
      return resolveFilename.call(this, request, ...rest)
    }
    const winston = require('winston')
    const { MaapTransport } = require(${JSON.stringify(dist)})
    const logger = winston.createLogger({ transports: [new MaapTransport({ url: ${JSON.stringify(collector.url)}, appName: 'fallback' }), new MaapTransport({ url: ${JSON.stringify(collector.url)}, appName: 'fallback2' })] })
    for (let i = 0; i < 5; i++) logger.info('no worker', { i })
  `
  const run = await runNode(['-e', script])
  t.equal(run.code, 0)
  const notices = run.stderr.split('\n').filter(l => l.includes('could not be started'))
  t.equal(notices.length, 1, 'one notice for the process')
  t.match(notices[0], /^maap-winston: the shipper's worker thread could not be started \(Cannot find module '\.\/entry'\); shipping from the application thread instead/)
  const events = journaled(collector.logDir)
  t.equal(events.filter(e => e.app_name === 'fallback').length, 5, 'delivered when the loop ran empty')
  t.equal(events.filter(e => e.app_name === 'fallback2').length, 5)
})
