import t from 'tap'
import { mapLine, mapRecord } from '@maap-event-logger/shipper'
import { pinoLevelName } from '../src/levels'
import { canonicalLevel } from '@maap-event-logger/collector'

t.test('pino records: msg, time, numeric level, name and bindings', async t => {
  const ev = mapRecord({ level: 30, time: 1700000000000, msg: 'hi', pid: 1, hostname: 'h', name: 'api', reqId: 'r1' })
  t.same(ev, { level: 'info', message: 'hi', timestamp: 1700000000000, pid: 1, hostname: 'h', name: 'api', reqId: 'r1', app_name: 'api' })
})

t.test('appName option wins over pino name; a record app_name wins over both', async t => {
  t.equal(mapRecord({ msg: 'x', name: 'pino-name' }, { appName: 'opt' }).app_name, 'opt')
  t.equal(mapRecord({ msg: 'x', app_name: 'own' }, { appName: 'opt' }).app_name, 'own')
  t.type(mapRecord({ msg: 'x' }).app_name, 'string')
  t.not(mapRecord({ msg: 'x' }).app_name, '')
})

t.test('errors keep type, message and stack; an err-only record takes its message', async t => {
  const err = { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x' }
  const ev = mapRecord({ level: 50, err })
  t.same(ev.err, err)
  t.equal(ev.message, 'boom')
  t.equal(ev.level, 'error')
})

t.test('winston records pass through with their names', async t => {
  const ev = mapRecord({ level: 'warn', message: 'w', timestamp: '2026-11-27T00:00:00.000Z', service: 's' }, { appName: 'a' })
  t.same(ev, { level: 'warn', message: 'w', timestamp: '2026-11-27T00:00:00.000Z', service: 's', app_name: 'a' })
})

t.test('odd shapes never lose information', async t => {
  t.equal(mapRecord({ msg: 'a', message: 'b' }).msg, 'a', 'msg kept when message exists')
  t.equal(mapRecord({ message: { a: 1 } }).message, '{"a":1}', 'non-string message stringified')
  t.equal(mapRecord({ msg: 42 }).message, '42')
  t.equal(mapRecord({}).message, '')
  t.equal(mapRecord({}).level, 'info')
  const both = mapRecord({ time: 1, timestamp: 2 })
  t.equal(both.timestamp, 2)
  t.equal(both.time, 1)
})

t.test('numeric levels, custom ones included', async t => {
  t.same([10, 20, 30, 40, 50, 60, 35, 5, 99].map(pinoLevelName), ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'info', 'trace', 'fatal'])
})

t.test('lines: JSON objects mapped, anything else shipped as its message, blanks skipped', async t => {
  t.same(JSON.parse(mapLine('{"level":40,"msg":"m","time":5}', { appName: 'a' })!), { level: 'warn', message: 'm', timestamp: 5, app_name: 'a' })
  t.same(JSON.parse(mapLine('plain text here', { appName: 'a' })!), { level: 'info', message: 'plain text here', app_name: 'a' })
  t.same(JSON.parse(mapLine('{broken', { appName: 'a' })!).message, '{broken')
  t.same(JSON.parse(mapLine('[1,2]', { appName: 'a' })!).message, '[1,2]')
  t.same(JSON.parse(mapLine('42', { appName: 'a' })!).message, '42')
  t.same(JSON.parse(mapLine('{"message":"crlf"}\r', { appName: 'a' })!).message, 'crlf')
  t.equal(mapLine('   '), null)
  t.equal(mapLine(''), null)
})

t.test('levels and timestamps the collector would refuse are kept aside, not lost', async t => {
  t.match(mapRecord({ level: 'audit', msg: 'a' }), { level: 'info', level_raw: 'audit' })
  t.match(mapRecord({ level: 'WARNING', msg: 'a' }), { level: 'WARNING' })
  t.notOk('level_raw' in mapRecord({ level: 'WARNING', msg: 'a' }))
  const custom = mapRecord({ msg: 'a', timestamp: '27/11/2026 07:00' })
  t.equal(custom.timestamp, undefined)
  t.equal(custom.timestamp_raw, '27/11/2026 07:00')
  t.equal(mapRecord({ msg: 'a', time: '2026-11-27T07:00:00.000Z' }).timestamp, '2026-11-27T07:00:00.000Z')
  t.ok(Number.isNaN(mapRecord({ msg: 'a', time: NaN }).timestamp_raw))
})

t.test('a pino number written as a string is read as the collector reads it', async t => {
  t.same(mapRecord({ level: '50', msg: 'a' }, { appName: 'x' }), { level: 'error', message: 'a', app_name: 'x' })
  t.equal(JSON.parse(mapLine('{"level":"60","msg":"m"}', { appName: 'a' })!).level, 'fatal')
  // The collector accepts exactly two digits naming a standard level; anything else stays info + level_raw.
  for (const refused of ['35', '050', ' 50', '5', '70']) {
    t.match(mapRecord({ level: refused, msg: 'a' }), { level: 'info', level_raw: refused }, JSON.stringify(refused))
  }
})

t.test("every string level maps to what the collector makes of it, or is kept aside where it refuses it", async t => {
  const samples = ['10', '20', '30', '40', '50', '60', '35', '00', '99', '050', 'info', 'WARN', 'Error', 'notice', 'silly', 'audit', '']
  for (const level of samples) {
    const ev = mapRecord({ level, msg: 'a' })
    const collector = canonicalLevel(level)
    if (collector === undefined) t.match(ev, { level: 'info', level_raw: level }, `${JSON.stringify(level)} refused by the collector`)
    else t.equal(canonicalLevel(ev.level), collector, `${JSON.stringify(level)} → ${collector}`)
  }
})

t.test("pino's own lines take a string-level fast path with exactly the general path's result", async t => {
  const ctx = { appName: 'fast' }
  const lines = [
    '{"level":30,"time":1700000000000,"pid":1,"hostname":"h","msg":"plain"}',
    '{"level":50,"time":1,"pid":1,"err":{"type":"Error","message":"boom","stack":"Error: boom\\n at x"},"msg":"with \\"quotes\\" and ,\\"msg\\":\\"inside"}',
    '{"level":35,"time":2,"nested":{"msg":"not top level"},"msg":"top"}',
    '{"level":30,"time":3,"requestId":"r","msg":""}',
    '{"level":30,"time":4,"name":"svc","msg":"named"}'
  ]
  for (const line of lines) {
    const general = mapRecord(JSON.parse(line), ctx)
    t.same(JSON.parse(mapLine(line, ctx)!), general, line)
  }
  // Lines the fast path must leave to the general one, and still map right.
  const others: Array<[string, object]> = [
    ['{"level":30,"time":5,"nested":{"msg":"only nested"}}', { message: '', nested: { msg: 'only nested' } }],
    ['{"level":30,"time":6,"message":"own","msg":"m"}', { message: 'own', msg: 'm' }],
    ['{"level":30,"time":"2026-11-27T00:00:00.000Z","msg":"iso"}', { timestamp: '2026-11-27T00:00:00.000Z', message: 'iso' }],
    ['{"level":30,"time":7,"a":{"msg":"x"},"b":1}', { message: '', a: { msg: 'x' } }],
    ['{"level":30,"time":8,"app_name":"own-app","msg":"m"}', { app_name: 'own-app', message: 'm' }],
    ['{"level":30,"time":9,"timestamp":"2026-11-27T00:00:00.000Z","msg":"m"}', { timestamp: '2026-11-27T00:00:00.000Z', time: 9 }]
  ]
  for (const [line, want] of others) t.match(JSON.parse(mapLine(line, ctx)!), want, line)
  // Another shipper's app name is not mixed up with the last one's.
  t.equal(JSON.parse(mapLine(lines[0]!, { appName: 'other' })!).app_name, 'other')
  t.equal(JSON.parse(mapLine(lines[0]!, ctx)!).app_name, 'fast')
})
