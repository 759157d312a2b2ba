// maapTransmit with pino's real browser build (pino/browser.js runs in Node too): what pino hands to
// transmit.send arrives as our events, with pino's time, level and child bindings.
import t from 'tap'
import { createRequire } from 'node:module'
import { createLoggerWith } from '../src/logger.js'
import { maapTransmit } from '../src/transmit.js'
import { FakePage } from './fake-page.js'

const pino = createRequire(import.meta.url)('pino/browser.js') as (opts: object) => any

t.test('pino\'s browser transmit: messages, objects, errors, bindings and levels', async t => {
  const page = new FakePage()
  const maap = createLoggerWith({ url: 'http://localhost:9', key: 'pk_shop_3f9a2c1d', appName: 'shop-web', level: 'fatal' }, page.env)
  const logger = pino({ level: 'trace', browser: { write: () => {}, transmit: maapTransmit(maap) } })
  logger.info('plain %s', 'arg')
  logger.child({ view: 'cart' }).warn({ items: 3 }, 'cart shown')
  logger.error(new Error('boom'))
  logger.error(Object.assign(new TypeError('bad'), { code: 'E_BAD' }), 'while paying')
  logger.trace({ only: 'fields' })
  logger.fatal({ a: 1 }, 'two', 'parts')
  await maap.flush()
  t.match(page.requests.flatMap(r => r.lines), [
    { level: 'INFO', message: 'plain %s arg', app_name: 'shop-web' },
    { level: 'WARNING', message: 'cart shown', view: 'cart', items: 3 },
    { level: 'ERROR', message: 'boom', err: { name: 'Error', message: 'boom', stack: /boom/ } },
    { level: 'ERROR', message: 'while paying', err: { name: 'TypeError', message: 'bad', code: 'E_BAD' } },
    { level: 'TRACE', message: '', only: 'fields' },
    { level: 'CRITICAL', message: 'two parts', a: 1 }
  ], 'pino decides the level: the maap logger\'s own (fatal) does not filter again')
  t.ok(page.requests.flatMap(r => r.lines).every(l => typeof l.timestamp === 'string'))
})

t.test('the level option goes to pino; logEvent fields may be missing', async t => {
  const page = new FakePage()
  const maap = createLoggerWith({ url: 'http://localhost:9', key: 'pk_shop_3f9a2c1d', appName: 'a' }, page.env)
  t.same(Object.keys(maapTransmit(maap)), ['send'])
  const transmit = maapTransmit(maap, { level: 'warn' })
  t.equal(transmit.level, 'warn')
  transmit.send('custom', { messages: ['m'], level: { label: 'custom', value: 45 }, ts: Date.parse('2026-01-01T00:00:00Z') })
  transmit.send('info', { messages: undefined as never, level: undefined as never })
  await maap.flush()
  t.match(page.requests.flatMap(r => r.lines), [
    { level: 'WARNING', message: 'm', timestamp: '2026-01-01T00:00:00.000Z' },
    { level: 'INFO', message: '' }
  ])
})

t.test('maapTransmit needs a logger from createLogger', async t => {
  t.throws(() => maapTransmit({} as never), { message: /needs a logger from createLogger/ })
})
