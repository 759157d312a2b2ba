import t from 'tap'
import { canonicalLevel, CANONICAL_LEVELS, normaliseEvent } from '@maap-event-logger/collector'
import { ObjectId } from 'mongodb'
import { isoFromMillis } from '../src/normalise/iso-time'
import { newObjectIdHex } from '../src/normalise/object-id'
import { spliceLine } from '../src/normalise/splice'

const ctx = { limits: { maxDepth: 5, maxFields: 20, maxFieldNameLength: 16 }, receivedAt: '2026-01-02T03:04:05.000Z' }

function ok (raw: unknown, c = ctx): Record<string, unknown> {
  const r = normaliseEvent(raw, c)
  if (!r.ok) throw new Error(r.error)
  return JSON.parse(r.line)
}

function error (raw: unknown): string {
  const r = normaliseEvent(raw, ctx)
  if (r.ok) throw new Error('expected a rejection')
  return r.error
}

t.test('levels from the original service, pino and winston map to one canonical name', async t => {
  const cases: Array<[unknown, string]> = [
    ['DEBUG', 'DEBUG'], ['info', 'INFO'], ['Warning', 'WARNING'], ['ERROR', 'ERROR'], ['critical', 'CRITICAL'],
    ['trace', 'TRACE'], ['warn', 'WARNING'], ['fatal', 'CRITICAL'],
    [10, 'TRACE'], [20, 'DEBUG'], [30, 'INFO'], [40, 'WARNING'], [50, 'ERROR'], [60, 'CRITICAL'], ['30', 'INFO'],
    ['http', 'INFO'], ['verbose', 'DEBUG'], ['silly', 'TRACE'],
    ['emerg', 'CRITICAL'], ['alert', 'CRITICAL'], ['crit', 'CRITICAL'], ['notice', 'INFO']
  ]
  for (const [input, want] of cases) t.equal(canonicalLevel(input), want, String(input))
  for (const bad of ['loud', 35, '35', null, {}, '']) t.equal(canonicalLevel(bad), undefined, `rejects ${JSON.stringify(bad)}`)
  t.same(CANONICAL_LEVELS, ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])
})

t.test('level defaults to INFO; timestamp from ISO or epoch ms, else server time', async t => {
  t.equal(ok({ message: 'm', app_name: 'a' }).level, 'INFO')
  t.equal(ok({ message: 'm', app_name: 'a' }).timestamp, ctx.receivedAt)
  t.equal(ok({ message: 'm', app_name: 'a', timestamp: 0 }).timestamp, '1970-01-01T00:00:00.000Z')
  t.equal(ok({ message: 'm', app_name: 'a', timestamp: '2025-05-05T10:00:00+02:00' }).timestamp, '2025-05-05T08:00:00.000Z')
  for (const bad of ['soon', -1, 1e20, true, {}, 'x'.repeat(100)]) {
    t.match(error({ message: 'm', app_name: 'a', timestamp: bad }), /'timestamp'/, `rejects ${JSON.stringify(bad).slice(0, 20)}`)
  }
})

t.test('unsafe field names are renamed by the documented rule, never dropped', async t => {
  const raw = JSON.parse('{"message":"m","app_name":"a","$where":1,"a.b":2,"__proto__":{"polluted":true},' +
    '"nested":{"$x":{"c.d":3},"list":[{"$y":4}]},"":5,"_id":"mine","received_at":"client","_$where":"taken"}')
  const doc = ok(raw)
  t.equal(doc._$where, 'taken', 'an existing field keeps its name')
  t.equal(doc._$where_2, 1, 'a renamed field that collides gets a suffix')
  t.equal(doc.a_b, 2)
  t.same(doc._proto__, { polluted: true })
  t.same(doc.nested, { _$x: { c_d: 3 }, list: [{ _$y: 4 }] })
  t.equal(doc._empty, 5)
  t.equal(doc.client__id, 'mine')
  t.equal(doc.client_received_at, 'client')
  t.match(doc._id, /^[0-9a-f]{24}$/)
  t.equal(doc.received_at, ctx.receivedAt)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
  t.equal(Object.getPrototypeOf(doc), Object.prototype)
})

t.test('NUL in a field name is replaced', async t => {
  t.equal(ok({ message: 'm', app_name: 'a', 'x\u0000y': 1 }).x_y, 1)
})

t.test('limits: depth, field count and field-name length', async t => {
  let deep: Record<string, unknown> = { leaf: 1 }
  for (let i = 0; i < 6; i++) deep = { d: deep }
  t.match(error({ message: 'm', app_name: 'a', deep }), /nests deeper than 5/)
  const many: Record<string, number> = {}
  for (let i = 0; i < 25; i++) many[`f${i}`] = i
  t.match(error({ message: 'm', app_name: 'a', ...many }), /more than 20 fields/)
  t.match(error({ message: 'm', app_name: 'a', ['k'.repeat(17)]: 1 }), /longer than 16/)
})

t.test('required fields and types', async t => {
  t.match(error('text'), /JSON object/)
  t.match(error(null), /JSON object/)
  t.match(error({ app_name: 'a' }), /missing required field 'message'/)
  t.match(error({ message: 'm' }), /missing required field 'app_name'/)
  t.match(error({ message: 'm', app_name: '' }), /non-empty string/)
  t.match(error({ message: 'm', app_name: 7 }), /non-empty string/)
})

t.test('an app_name pinned by the API key wins and the client value is kept aside', async t => {
  const doc = ok({ message: 'm', app_name: 'spoofed' }, { ...ctx, appName: 'billing' })
  t.equal(doc.app_name, 'billing')
  t.equal(doc.client_app_name, 'spoofed')
})

t.test('isoFromMillis writes what Date#toISOString writes, fractions and second boundaries included', async t => {
  const samples = [0, 1, 999, 1000, 59_999, 86_399_999, 951_782_400_000, 1_700_000_000_000.75, 253_402_300_799_999]
  // Increasing and decreasing runs cross second boundaries in both directions, through the cached prefix.
  for (let ms = 1_764_000_000_000 - 1500; ms < 1_764_000_000_000 + 1500; ms += 7) samples.push(ms, 3_000_000_000_000 - ms)
  for (let i = 0; i < 2000; i++) samples.push(Math.random() * 253_402_300_799_999)
  let mismatches = 0
  for (const ms of samples) if (isoFromMillis(ms) !== new Date(ms).toISOString()) mismatches++
  t.equal(mismatches, 0, `${samples.length} samples`)
})

t.test('newObjectIdHex makes valid, distinct ObjectIds that carry their creation second', async t => {
  const now = Date.now()
  const ids = Array.from({ length: 5000 }, () => newObjectIdHex(now))
  t.equal(new Set(ids).size, ids.length, 'all distinct')
  for (const id of [ids[0]!, ids[4999]!]) {
    t.match(id, /^[0-9a-f]{24}$/)
    t.equal(ObjectId.createFromHexString(id).getTimestamp().getTime(), Math.floor(now / 1000) * 1000)
  }
  // Same process: the five random bytes stay, the counter moves on.
  t.equal(ids[0]!.slice(8, 18), ids[4999]!.slice(8, 18))
  t.not(newObjectIdHex(now + 1000).slice(0, 8), ids[0]!.slice(0, 8), 'a later second changes the time bytes')
  const line = normaliseEvent({ message: 'm', app_name: 'a' }, ctx)
  t.ok(line.ok && ObjectId.isValid(JSON.parse(line.line)._id), 'events get one')
})

t.test('a line spliced from the text a transport sent equals the serialised one, and text that could mislead is serialised', async t => {
  // Every text carries "q":1.50, which only a spliced line keeps as written (serialised: 1.5).
  const cases: Array<[string, boolean]> = [
    // Qualify: the transports' head, epoch ms or ISO text, nested objects, escapes, spaces before the brace.
    ['{"level":"info","timestamp":1700000000000,"pid":1,"msg":"a \\"quoted\\" \\u00e9 text","message":"m","app_name":"svc","q":1.50}', true],
    ['{"level":"warn","timestamp":"2026-11-27T07:00:00+01:00","req":{"id":7,"tags":["x",{"k":null}]},"message":"m","app_name":"svc","q":1.50 }', true],
    ['{"level":"ERROR","timestamp":1,"message":"m","app_name":"svc","big":12345678901234567890,"q":1.50}', true],
    // Do not: a later duplicate replaced a head value, or would override ours when the journal is read.
    ['{"level":"info","timestamp":1,"message":"m","app_name":"svc","q":1.50,"level":"error"}', false],
    ['{"level":"info","timestamp":1,"message":"m","app_name":"svc","q":1.50,"timestamp":2}', false],
    ['{"level":"info","timestamp":1,"message":"m","app_name":"svc","q":1.50,"level":"info"}', false],
    ['{"level":"info","timestamp":1,"message":"m","app_name":"svc","q":1.50,"nested":{"_id":1,"received_at":2}}', false],
    // JSON allows whitespace before a colon: still a key that would override ours.
    ['{"level":"info","timestamp":1,"message":"m","app_name":"svc","q":1.50,"level" :"error"}', false],
    ['{"level":"info","timestamp":1,"message":"m","app_name":"svc","q":1.50,"timestamp"\t: 2}', false],
    // Do not: another head, or a head value written another way.
    ['{"timestamp":1,"level":"info","message":"m","app_name":"svc","q":1.50}', false],
    ['{"level": "info","timestamp":1,"message":"m","app_name":"svc","q":1.50}', false],
    ['{"level":"info","timestamp":1e3,"message":"m","app_name":"svc","q":1.50}', false]
  ]
  const c = { ...ctx, limits: { ...ctx.limits, maxFieldNameLength: 64 } }
  for (const [text, spliced] of cases) {
    const viaText = normaliseEvent(JSON.parse(text), c, text)
    const viaObject = normaliseEvent(JSON.parse(text), c)
    if (!viaText.ok || !viaObject.ok) { t.fail(text); continue }
    t.equal(viaText.line.includes('"q":1.50'), spliced, `${spliced ? '' : 'not '}spliced: ${text}`)
    const a = JSON.parse(viaText.line)
    const b = JSON.parse(viaObject.line)
    t.match(a._id, /^[0-9a-f]{24}$/)
    delete a._id
    delete b._id
    t.same(a, b, text)
  }
  t.equal(spliceLine('{"level":"info","timestamp":1,"message":"m"} ', { level: 'info', timestamp: 1 }, { level: 'INFO', timestamp: 't', id: 'i', receivedAt: 'r' }), undefined, 'text after the closing brace')
})
