import t from 'tap'
import { eventLine, splitArgs } from '../src/event.js'
import { collectorLevel, levelOf, threshold } from '../src/levels.js'

const T = Date.parse('2026-01-02T03:04:05.678Z')

t.test('pino argument order: (msg), (obj, msg), (obj), (err, msg?)', async t => {
  t.same(splitArgs('hello', undefined), { fields: undefined, message: 'hello' })
  t.same(splitArgs({ a: 1 }, 'hi'), { fields: { a: 1 }, message: 'hi' })
  t.same(splitArgs({ a: 1, message: 'from obj' }, undefined), { fields: { a: 1, message: 'from obj' }, message: 'from obj' })
  t.same(splitArgs({ msg: 'pino style' }, undefined).message, 'pino style')
  t.same(splitArgs({ a: 1 }, undefined).message, '')
  t.same(splitArgs(42, undefined), { fields: undefined, message: '42' })
  t.same(splitArgs(undefined, undefined), { fields: undefined, message: '' })
  t.same(splitArgs('a', 'b').message, 'a b', 'a second string is kept, not lost')
  t.same(splitArgs({ a: 1 }, 7).message, '7')
  const err = new Error('boom')
  t.same(splitArgs(err, undefined), { fields: { err }, message: 'boom' })
  t.same(splitArgs(err, 'while paying').message, 'while paying')
})

t.test('an event: the core fields first and always the logger\'s', async t => {
  const line = eventLine('INFO', T, 'shop-web', { release: '1.2', app_name: 'other' }, { cart: 3, level: 'x', timestamp: 1, message: 'no' }, 'checkout')
  t.equal(line, '{"timestamp":"2026-01-02T03:04:05.678Z","level":"INFO","message":"checkout","app_name":"shop-web","release":"1.2","cart":3}')
  t.same(JSON.parse(eventLine('ERROR', T, 'a', undefined, undefined, 'm')), { timestamp: '2026-01-02T03:04:05.678Z', level: 'ERROR', message: 'm', app_name: 'a' })
})

t.test('Errors (nested too) keep name, message, stack, own fields and cause; BigInt becomes a string', async t => {
  const cause = new TypeError('inner')
  const err = Object.assign(new RangeError('outer', { cause }), { code: 'E_OUT' })
  const e = JSON.parse(eventLine('ERROR', T, 'a', undefined, { err, n: 10n }, 'failed'))
  t.match(e.err, { name: 'RangeError', message: 'outer', code: 'E_OUT', stack: /outer/, cause: { name: 'TypeError', message: 'inner' } })
  t.equal(e.n, '10')
})

t.test('an object that cannot be serialised still gives its event, with the reason', async t => {
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const e = JSON.parse(eventLine('WARNING', T, 'a', undefined, cyclic, 'loop'))
  t.match(e, { level: 'WARNING', message: 'loop', app_name: 'a', maap_unserialisable: /circular/i })
  t.notOk('a' in e)
})

t.test('levels: the collector\'s names, thresholds, pino labels and custom numbers', async t => {
  t.same(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map(l => collectorLevel(l as 'info')), ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])
  t.equal(threshold('silent'), Infinity)
  t.equal(threshold('warn'), 40)
  t.equal(levelOf('error', 50), 'error')
  t.equal(levelOf('notice', 35), 'info', 'a custom level maps to the standard one below it')
  t.equal(levelOf('tiny', 1), 'trace')
  t.equal(levelOf('toString', 99), 'fatal', 'a name from Object.prototype is not a level')
})
