// The read API's parameters: every accepted form, and a 400-worthy error naming the parameter otherwise.
import t from 'tap'
import { decodeCursor, encodeCursor } from '../src/read/cursor'
import { QueryParameterError, parseReadQuery, parseTime } from '../src/read/query'
import { decodePosition, encodePosition } from '../src/read/tail-position'

const NOW = Date.parse('2026-12-01T12:00:00.000Z')

t.test('times: ISO 8601, epoch milliseconds and relative to now', async t => {
  t.equal(parseTime('from', '2026-11-30T10:00:00+01:00', NOW), '2026-11-30T09:00:00.000Z')
  t.equal(parseTime('from', '2026-11-30', NOW), '2026-11-30T00:00:00.000Z')
  t.equal(parseTime('from', '1764590400000', NOW), '2025-12-01T12:00:00.000Z')
  t.equal(parseTime('from', '15m', NOW), '2026-12-01T11:45:00.000Z')
  t.equal(parseTime('from', '2h', NOW), '2026-12-01T10:00:00.000Z')
  t.equal(parseTime('from', '7d', NOW), '2026-11-24T12:00:00.000Z')
  t.equal(parseTime('from', '30s', NOW), '2026-12-01T11:59:30.000Z')
  for (const bad of ['yesterday', '15x', '', '2026-13-45', '-5m', '1.5h']) {
    t.throws(() => parseTime('from', bad, NOW), { parameter: 'from' }, `"${bad}" is refused`)
  }
})

t.test('levels are a minimum, by any name or number ingest accepts', async t => {
  t.same(parseReadQuery({ level: 'WARNING' }).levels, ['WARNING', 'ERROR', 'CRITICAL'])
  t.same(parseReadQuery({ level: 'warn' }).levels, ['WARNING', 'ERROR', 'CRITICAL'])
  t.same(parseReadQuery({ level: '50' }).levels, ['ERROR', 'CRITICAL'])
  t.same(parseReadQuery({ level: 'trace' }).levels, ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])
  t.equal(parseReadQuery({}).levels, undefined)
  t.throws(() => parseReadQuery({ level: 'loud' }), { parameter: 'level', message: /unknown level "loud"/ })
})

t.test('apps, text, fields and limits', async t => {
  const q = parseReadQuery({ app_name: 'api, web', q: 'TimeOut', 'f.http.status': '500', 'f.ok': 'true', 'f.user': 'ann' })
  t.same(q.apps, ['api', 'web'])
  t.equal(q.text, 'timeout')
  t.same(q.fields, [
    { path: ['http', 'status'], text: '500', number: 500, boolean: undefined },
    { path: ['ok'], text: 'true', number: undefined, boolean: true },
    { path: ['user'], text: 'ann', number: undefined, boolean: undefined }
  ])
  t.equal(q.limit, 100)
  t.equal(parseReadQuery({ limit: '1000' }).limit, 1000)
  t.same(parseReadQuery({ app_name: 'x' }, { pinnedApp: 'billing' }).apps, ['billing'], 'a pinned read key wins')
  t.same(parseReadQuery({}, { pinnedApp: 'billing' }).apps, ['billing'])
  for (const [params, parameter] of [
    [{ limit: '0' }, 'limit'], [{ limit: '1001' }, 'limit'], [{ limit: 'ten' }, 'limit'], [{ limit: '5.5' }, 'limit'],
    [{ 'f.$where': '1' }, 'f.$where'], [{ 'f.a..b': '1' }, 'f.a..b'], [{ 'f.': '1' }, 'f.'],
    [{ app_name: ',' }, 'app_name'], [{ level: ['info', 'error'] }, 'level'],
    [{ from: '2h', to: '3h' }, 'from'], [{ cursor: 'bm90LWEtY3Vyc29y' }, 'cursor'], [{ cursor: '!!' }, 'cursor'],
    [{ q: 'x'.repeat(1025) }, 'q']
  ] as const) {
    t.throws(() => parseReadQuery(params as Record<string, unknown>, { now: NOW }), { parameter }, `${JSON.stringify(params).slice(0, 60)} → ${parameter}`)
  }
  t.equal(parseReadQuery({ limit: '5000' }, { maxLimit: 1e9 }).limit, 5000, 'an export takes any limit')
  t.type(new QueryParameterError('x', 'y'), Error)
})

t.test('cursors round-trip and anything else is not one', async t => {
  const c = { timestamp: '2026-12-01T10:00:00.000Z', id: '0123456789abcdef01234567', snapshot: '2026-12-01T11:00:00.000Z' }
  t.same(decodeCursor(encodeCursor(c)), c)
  t.same(parseReadQuery({ cursor: encodeCursor(c) }).after, c)
  const forged = Buffer.from('c1|2026-12-01T10:00:00.000Z|{"$gt":1}|2026-12-01T11:00:00.000Z').toString('base64url')
  t.equal(decodeCursor(forged), undefined, 'an operator in place of an id')
  t.equal(decodeCursor(Buffer.from('c2|a|b|c').toString('base64url')), undefined)
  t.equal(decodeCursor('x'.repeat(300)), undefined)
})

t.test('tail positions round-trip; anything else is refused', async t => {
  const one = new Map([['', { segment: 'maap-20261127T101500Z-000042.ndjson', offset: 1234 }]])
  t.equal(encodePosition(one), '20261127T101500Z-000042.1234')
  t.same(decodePosition(encodePosition(one)), one)
  const two = new Map([['1', { segment: 'maap-20261127T101500Z-000042.ndjson', offset: 0 }], ['2', { segment: 'maap-20261127T101502Z-000007.ndjson', offset: 88 }]])
  t.equal(encodePosition(two), '1~20261127T101500Z-000042.0_2~20261127T101502Z-000007.88')
  t.same(decodePosition(encodePosition(two)), two)
  for (const bad of ['', 'x', '20261127T101500Z-000042', '20261127T101500Z-000042.-1', '../../etc.1', 'a~20261127T101500Z-000042.1',
    '1~20261127T101500Z-000042.1_1~20261127T101500Z-000042.2', '20261127T101500Z-000042.1e3']) {
    t.equal(decodePosition(bad), undefined, `"${bad}"`)
  }
})
