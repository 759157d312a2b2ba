// MaapTransport against a real collector (embedded mode: its journal is what it acknowledged) through
// the real worker thread: mapping, flush/close, options, errors surfacing as 'warn'.
import t from 'tap'
import { once } from 'node:events'
import winston from 'winston'
import TransportStream from 'winston-transport'
import { MaapTransport, ShipperError } from '@maap-event-logger/winston-transport'
import { startCollector, captureStderr, deadPort, journaled, type RunningCollector } from '../../../test/support'

const json = winston.format.json()

let shared: Promise<RunningCollector> | undefined
/**
 * The tests that need no settings of their own take turns on one collector (a process started per test
 * was over a second of each): each reads the journal from where it stood when the test took it, so what
 * a test checks is what it sent, none lost and nothing of another test's.
 */
async function sharedCollector (): Promise<{ url: string, journal: () => Array<Record<string, unknown>> }> {
  shared ??= startCollector(t)
  const collector = await shared
  const from = journaled(collector.logDir).length
  return { url: collector.url, journal: () => journaled(collector.logDir).slice(from) }
}

async function ended (logger: winston.Logger): Promise<void> {
  const finished = once(logger, 'finish')
  logger.end()
  await finished
}


t.test('is a winston-transport TransportStream that winston.add() takes', async t => {
  const collector = await sharedCollector()
  const transport = new MaapTransport({ url: collector.url, appName: 'add', level: 'warn' })
  t.ok(transport instanceof TransportStream)
  const logger = winston.createLogger({ level: 'debug', format: json })
  logger.add(transport)
  const logged = once(transport, 'logged')
  logger.warn('kept')
  t.match((await logged)[0], { message: 'kept' }, "'logged' emitted with the info")
  logger.info('below the transport level')
  await ended(logger)
  t.match(collector.journal(), [{ message: 'kept', level: 'WARNING', app_name: 'add' }])
  t.equal(collector.journal().length, 1, "the transport's own level filters")
})

t.test('log(info) without a callback, as winston\'s own transports allow: emits \'logged\' and the record is delivered', async t => {
  const collector = await sharedCollector()
  const transport = new MaapTransport({ url: collector.url, appName: 'nocb' })
  const logged = once(transport, 'logged')
  transport.log({ level: 'warn', message: 'called directly', [Symbol.for('level')]: 'warn' })
  t.match((await logged)[0], { message: 'called directly' })
  t.match(await transport.flush(), { sent: 1, dropped: 0, queued: 0 })
  t.match(collector.journal(), [{ message: 'called directly', level: 'WARNING', app_name: 'nocb' }])
  await transport.close()
})

t.test('mapping: colorized levels, Errors anywhere, circular and BigInt values, app_name rules', async t => {
  const collector = await sharedCollector()
  const logger = winston.createLogger({
    format: winston.format.combine(winston.format.colorize(), winston.format.simple()),
    transports: [new MaapTransport({ url: collector.url })]
  })
  const circular: Record<string, unknown> = { name: 'loop' }
  circular.self = circular
  logger.info('colour', { app_name: 'own-app' })
  logger.info('circular', { circular, big: 10n, app_name: 'own-app' })
  logger.log({ level: 'error', message: new Error('as message') as unknown as string, app_name: 'own-app' })
  logger.info('service names the app', { service: 'svc' })
  logger.info('user created', { name: 'Bob' })
  logger.info('empty app_name', { app_name: '', service: 'svc2' })
  // The logger's own format would stringify (and throw) first: this one passes the info through as is.
  const raw = winston.createLogger({ format: winston.format(info => info)(), transports: [new MaapTransport({ url: collector.url })] })
  raw.info('throws in toJSON', { app_name: 'own-app', bad: { toJSON () { throw new Error('no JSON') } } })
  await Promise.all([ended(logger), ended(raw)])
  const events = collector.journal()
  const by = Object.fromEntries(events.map(e => [e.message, e]))
  t.match(by.colour, { level: 'INFO', app_name: 'own-app' }, 'level from Symbol.for("level"), not the painted one')
  t.notOk('level_raw' in by.colour!)
  t.match(by.circular, { circular: { name: 'loop', self: '[Circular]' }, big: '10' })
  t.match(by['as message'], { level: 'ERROR', stack: /^Error: as message/ })
  t.match(by['service names the app'], { app_name: 'svc', service: 'svc' })
  // No appName anywhere: the main script's name — never a record's own `name` field.
  t.match(by['user created'], { name: 'Bob', app_name: String })
  t.not(by['user created']!.app_name, 'Bob')
  t.match(by['empty app_name'], { app_name: 'svc2' }, 'an empty app_name is replaced, not shipped twice')
  t.match(by['throws in toJSON'], { level: 'INFO', app_name: 'own-app', serialise_error: 'no JSON' })
  t.equal(events.length, 7, 'none lost')
})

t.test('levels: a custom scale without any known name ships as info, keeping the name', async t => {
  const collector = await sharedCollector()
  const logger = winston.createLogger({
    levels: { foo: 0, bar: 1 },
    level: 'bar',
    transports: [new MaapTransport({ url: collector.url, appName: 'lv' })]
  }) as winston.Logger & Record<'foo' | 'bar', winston.LeveledLogMethod>
  logger.foo('a')
  logger.bar('b')
  await ended(logger)
  t.match(collector.journal(), [
    { message: 'a', level: 'INFO', level_raw: 'foo' },
    { message: 'b', level: 'INFO', level_raw: 'bar' }
  ])
})

t.test('flush() resolves after delivery; close() is idempotent; records after close are counted by flush() and close() alike', async t => {
  const collector = await sharedCollector()
  const transport = new MaapTransport({ url: collector.url, appName: 'fl' })
  const logger = winston.createLogger({ transports: [transport] })
  for (let i = 0; i < 300; i++) logger.info('r', { i })
  const stats = await transport.flush()
  t.match(stats, { sent: 300, dropped: 0, queued: 0 })
  t.equal(collector.journal().length, 300, 'in the collector when flush() resolves')

  const closing = transport.close()
  t.equal(transport.close(), closing, 'the same promise')
  const stderr = captureStderr(t)
  const dropped = once(transport, 'dropped')
  const warned = once(transport, 'warn')
  logger.info('too late')
  t.match((await dropped)[0], { records: 1, reason: 'write after close' })
  t.match((await warned)[0], { code: 'MAAP_SHIP_DROPPED' })
  const closed = await closing
  t.match(closed, { sent: 300, dropped: 1 })
  t.same(await transport.flush(), closed, 'flush() after close() reports the same counters')
  logger.info('later still')
  t.match(await transport.flush(), { sent: 300, dropped: 2 })
  stderr.stop()
  t.same(stderr.lines, ['maap-winston: dropped 1 records: write after close (dropped so far: 1)\n'], 'the 1st drop on stderr at once, the 2nd not within the same second')
  t.equal(stderr.lines.length, 1)
})

t.test('options: a bad one throws at construction naming it; env fallbacks apply', async t => {
  t.throws(() => new MaapTransport({ batchSize: -1 }), { name: 'ShipperError', code: 'MAAP_SHIP_INVALID_OPTION', message: /batchSize/ })
  t.throws(() => new MaapTransport({ url: 'ftp://x' }), { code: 'MAAP_SHIP_INVALID_OPTION', message: /url/ })

  const collector = await sharedCollector()
  const saved = { url: process.env.MAAP_URL, app: process.env.MAAP_APP_NAME }
  process.env.MAAP_URL = collector.url
  process.env.MAAP_APP_NAME = 'from-env'
  t.teardown(() => {
    for (const [k, v] of [['MAAP_URL', saved.url], ['MAAP_APP_NAME', saved.app]] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  const logger = winston.createLogger({ transports: [new MaapTransport()] })
  logger.info('env', { service: 'ignored-for-app-name' })
  await ended(logger)
  t.match(collector.journal(), [{ message: 'env', app_name: 'from-env', service: 'ignored-for-app-name' }])
})

t.test('an API key is sent; a refusal surfaces as warn and onError, never as a throw', async t => {
  const collector = await startCollector(t, { env: { API_KEYS: 'secret-key-1' } })
  const good = new MaapTransport({ url: collector.url, apiKey: 'secret-key-1', appName: 'key' })
  const errors: ShipperError[] = []
  const bad = new MaapTransport({ url: collector.url, apiKey: 'wrong-key-1', appName: 'key', onError: err => { errors.push(err); throw new Error('ignored') } })
  const logger = winston.createLogger({ transports: [good, bad] })
  const rejected = once(bad, 'rejected')
  const warned = once(bad, 'warn')
  logger.info('with key')
  t.match((await rejected)[0], { records: 1, status: 403 })
  const [warning] = await warned
  t.ok(warning instanceof ShipperError)
  t.match(warning, { code: 'MAAP_SHIP_REJECTED', status: 403, records: 1 })
  await ended(logger)
  t.match(errors, [{ code: 'MAAP_SHIP_REJECTED' }], 'onError called (its exception swallowed)')
  t.match(journaled(collector.logDir), [{ message: 'with key' }])
  t.equal(journaled(collector.logDir).length, 1)
})

t.test("collector unreachable: retries and drops reach 'warn' on the logger; 'finish' still comes, within closeTimeout", async t => {
  const port = await deadPort()
  // The worker never holds the process, and nothing else here does while we wait for its events.
  const hold = setInterval(() => {}, 1 << 30)
  t.teardown(() => clearInterval(hold))
  const transport = new MaapTransport({ url: `http://127.0.0.1:${port}`, appName: 'down', closeTimeout: 300, retryBaseMs: 20, retryMaxMs: 50 })
  const logger = winston.createLogger({ transports: [transport] })
  const codes: string[] = []
  logger.on('warn', (err: ShipperError, from: unknown) => {
    t.equal(from, transport, 'winston names the transport')
    codes.push(err.code)
  })
  const retry = once(transport, 'retry')
  logger.info('lost')
  t.match((await retry)[0], { attempt: 1, records: 1 })
  await ended(logger)
  t.match(await transport.close(), { sent: 0, dropped: 1 })
  t.ok(codes.includes('MAAP_SHIP_RETRY'))
  t.ok(codes.includes('MAAP_SHIP_DROPPED'))
})

/** The stderr lines about failed sends while a transport retries 3 times against a collector that is down. */
async function retryLinesOnStderr (t: Tap.Test, listen: (transport: MaapTransport, logger: winston.Logger) => void, onError?: (err: ShipperError) => void): Promise<string[]> {
  const port = await deadPort()
  // The worker never holds the process, and nothing else here does while we wait for its events.
  const hold = setInterval(() => {}, 1 << 30)
  t.teardown(() => clearInterval(hold))
  const transport = new MaapTransport({ url: `http://127.0.0.1:${port}`, appName: 'quiet', closeTimeout: 200, retryBaseMs: 5, retryMaxMs: 10, ...(onError === undefined ? {} : { onError }) })
  const logger = winston.createLogger({ transports: [transport] })
  listen(transport, logger)
  const stderr = captureStderr(t)
  const thirdRetry = new Promise<void>(resolve => transport.on('retry', (r: { attempt: number }) => { if (r.attempt === 3) resolve() }))
  logger.info('lost')
  await thirdRetry
  await ended(logger)
  stderr.stop()
  return stderr.lines.filter(l => / records failed /.test(l))
}

t.test('nobody listens: a retry streak reaches stderr once, at its first failure', async t => {
  const printed = await retryLinesOnStderr(t, () => {})
  t.match(printed, [/^maap-winston: sending 1 records failed \(.*ECONNREFUSED.*\); retry 1 in \d+ ms/])
  t.equal(printed.length, 1)
})

t.test("someone listens — 'warn' on the logger or the transport, or onError: retries stay off stderr", async t => {
  t.same(await retryLinesOnStderr(t, (_, logger) => logger.on('warn', () => {})), [], "the logger's 'warn'")
  t.same(await retryLinesOnStderr(t, transport => transport.on('warn', () => {})), [], "the transport's 'warn'")
  t.same(await retryLinesOnStderr(t, () => {}, () => {}), [], 'onError')
})

t.test('logger.remove(transport) closes it (winston calls close() on unpipe)', async t => {
  const collector = await sharedCollector()
  const transport = new MaapTransport({ url: collector.url, appName: 'rm' })
  const logger = winston.createLogger({ transports: [transport] })
  logger.info('before remove')
  const sent = once(transport, 'sent')
  logger.remove(transport)
  t.same(await sent, [1])
  t.match(await transport.close(), { sent: 1 })
})
