// The direct path (src/otlp/direct-lines.ts) against the decoded path (decoder → mapping → normaliseEvent),
// which the parity test ties to the official serializers: on the same request, both must journal the same
// lines (ids aside), accept and refuse the same records, and refuse the same malformed bodies. Requests
// are the SDK's own and generated ones (seeded: a failure reproduces), under several limits.
import t from 'tap'
import { requestLines, type RequestLines } from '../../src/otlp/journal-lines'
import { OtlpDecodeError } from '../../src/otlp/model'
import type { IngestContext } from '../../src/normalise/normalise'
import {
  array, bool, bytes, cat, double, fixed32Field, fixed64Field, int, keyValue, kvlist, lenField, logRecord, request,
  resourceLogs, rng, scopeLogs, str, varintField, type Bytes
} from './encode'
import { encodeProtobuf, sdkRecords, T0, VARIED } from './fixtures'

const LIMITS = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
const ctxOf = (over: Partial<IngestContext['limits']> = {}, appName?: string): IngestContext =>
  ({ limits: { ...LIMITS, ...over }, receivedAt: '2026-12-02T10:00:00.000Z', ...(appName === undefined ? {} : { appName }) })

type Outcome = 'refused' | (Omit<RequestLines, 'lines' | 'direct'> & { lines: string[] })

const ID = /"_id":"[0-9a-f]{24}"/g

function run (body: Buffer, ctx: IngestContext, direct: boolean): { outcome: Outcome, direct: number, ids: string[] } {
  try {
    const r = requestLines(body, ctx, { maxDepth: ctx.limits.maxDepth, maxBytes: 64 << 20, direct })
    const text = r.lines.toString('utf8')
    const lines = text === '' ? [] : text.slice(0, -1).split('\n')
    return {
      outcome: { accepted: r.accepted, rejected: r.rejected, firstError: r.firstError, lines: lines.map(l => l.replace(ID, '"_id":"…"')) },
      direct: r.direct,
      ids: lines.map(l => JSON.parse(l)._id)
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError) return { outcome: 'refused', direct: 0, ids: [] }
    throw err
  }
}

/** Runs both paths; returns the first difference (or undefined) and how many records went direct. */
function compare (body: Buffer, ctx: IngestContext): { diff?: string, direct: number, declined: number } {
  const d = run(body, ctx, true)
  const ref = run(body, ctx, false)
  const declined = ref.outcome === 'refused' ? 0 : ref.outcome.accepted + ref.outcome.rejected - d.direct
  if (ref.outcome === 'refused' || d.outcome === 'refused') {
    return { diff: d.outcome === ref.outcome ? undefined : `direct ${JSON.stringify(d.outcome)}, decoded ${JSON.stringify(ref.outcome)}`, direct: 0, declined }
  }
  if (new Set(d.ids).size !== d.ids.length || !d.ids.every(id => /^[0-9a-f]{24}$/.test(id))) return { diff: `ids ${d.ids.join(',')}`, direct: d.direct, declined }
  for (let i = 0; i < Math.max(d.outcome.lines.length, ref.outcome.lines.length); i++) {
    if (d.outcome.lines[i] !== ref.outcome.lines[i]) return { diff: `line ${i}:\n direct  ${d.outcome.lines[i]}\n decoded ${ref.outcome.lines[i]}`, direct: d.direct, declined }
  }
  const { lines: _a, ...dc } = d.outcome
  const { lines: _b, ...rc } = ref.outcome
  return { diff: JSON.stringify(dc) === JSON.stringify(rc) ? undefined : `${JSON.stringify(dc)} vs ${JSON.stringify(rc)}`, direct: d.direct, declined }
}

// ── generated requests ──
const T0_NS = BigInt(T0) * 1000000n
const INVALID_UTF8 = Uint8Array.from([0x41, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x42])
const TEXTS: Array<string | Bytes> = ['user signed in', '', 'GET /api/login', 'a "quoted" \\ one', 'tab\there', 'ctl \u0001 \u001f', 'café é',
  'emoji \ud83d\ude00', INVALID_UTF8, 'x'.repeat(40), 'line one\nline two', 'INFO', 'warn', 'ERROR', 'nonsense', '{"level":"x"}']
// Keys most records carry in this order (so the per-index key memory hits), and the odd ones.
const COMMON_KEYS = ['user_id', 'route', 'duration_ms', 'seq']
// Dotted, as OpenTelemetry's semantic conventions name attributes: nested by the dots.
const DOTTED_KEYS = ['http.request.method', 'http.response.status_code', 'url.path', 'user_id', 'http.route', 'code.function.name']
const ODD_KEYS: Array<string | Bytes> = ['a', 'http.method', 'a.b', 'a.b.c', 'a.b.c.d', 'x..y', '.lead', 'trail.', 'a.$b', 'a.1', 'log.level', 'message.x', 'x._id', '$where', '', '__proto__', 'message', 'level', 'resource',
  'attributes', '_id', 'received_at', '1st', '42', 'k'.repeat(30), 'k'.repeat(300), 'é', 'k"q', 'nul\u0000', Uint8Array.from([0xff]), 'user_id']

function generator (seed: number) {
  const random = rng(seed)
  const chance = (p: number): boolean => random() < p
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const randomBytes = (n: number): Bytes => Uint8Array.from({ length: n }, () => Math.floor(random() * 256))

  const scalar = (): Buffer => pick([
    () => str(pick(TEXTS)), () => bool(chance(0.5)),
    () => int(pick<number | bigint>([0, 7, 4242, -1, 2 ** 31, 2 ** 53 - 1, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n - 1n, 999999999999999, 10 ** 15])),
    () => double(pick([12.5, -0, 0.1, 1e300, 5e-324, 1e21, NaN, Infinity, -Infinity, 3])), () => bytes(randomBytes(Math.floor(random() * 6)))
  ])()
  const anyValue = (): Buffer => {
    const x = random()
    if (x < 0.75) return scalar()
    if (x < 0.8) return Buffer.alloc(0) // an empty AnyValue
    if (x < 0.85) return kvlist(keyValue('k', str('v')), keyValue('n', int(1)))
    if (x < 0.9) return array(int(1), str('two'))
    if (x < 0.95) return cat(str('first'), int(2)) // the last field wins
    return cat(varintField(9, 1), scalar()) // an unknown field first
  }
  const attribute = (key: string | Bytes): Buffer => {
    const x = random()
    if (x < 0.9) return lenField(6, keyValue(key, anyValue()))
    if (x < 0.93) return lenField(6, keyValue(key)) // no value
    if (x < 0.96) return lenField(6, cat(lenField(1, key), lenField(2, scalar()), lenField(2, scalar()))) // two values
    return lenField(6, cat(varintField(3, 1), keyValue(key, scalar()))) // an unknown field
  }
  const record = (): Buffer => {
    const fields: Buffer[] = []
    const time = T0_NS + BigInt(Math.floor(random() * 5e9))
    if (chance(0.75)) fields.push(fixed64Field(1, chance(0.03) ? 2n ** 64n - 1n : chance(0.05) ? 1n : time))
    if (chance(0.5)) fields.push(fixed64Field(11, chance(0.5) ? time : time + BigInt(Math.floor(random() * 3e6))))
    if (chance(0.7)) fields.push(varintField(2, pick([0, 1, 4, 5, 9, 10, 13, 17, 18, 21, 24, 25, 200, -1])))
    if (chance(0.4)) fields.push(lenField(3, pick(['INFO', 'info', 'warn', 'ERROR', 'fatal', 'nonsense', '', '30', 'é'])))
    if (chance(0.85)) {
      const x = random()
      fields.push(lenField(5, x < 0.7 ? str(pick(TEXTS)) : x < 0.75 ? Buffer.alloc(0) : anyValue()))
      if (chance(0.03)) fields.push(lenField(5, str('second body')))
    }
    const n = Math.floor(random() * 7)
    const keys = chance(0.6) ? COMMON_KEYS : DOTTED_KEYS
    for (let i = 0; i < n; i++) fields.push(attribute(chance(0.85) ? keys[i % keys.length]! : pick(ODD_KEYS)))
    if (chance(0.2)) fields.push(varintField(7, pick([0, 3])))
    if (chance(0.3)) fields.push(fixed32Field(8, pick([0, 1, 0x101])))
    if (chance(0.4)) fields.push(lenField(9, randomBytes(chance(0.9) ? 16 : pick([0, 3]))))
    if (chance(0.4)) fields.push(lenField(10, randomBytes(chance(0.9) ? 8 : 0)))
    if (chance(0.2)) fields.push(lenField(12, pick(TEXTS)))
    if (chance(0.1)) fields.push(varintField(20, 7), lenField(4, 'unknown'))
    if (chance(0.3)) fields.sort(() => random() - 0.5)
    return logRecord(...fields)
  }
  const resource = (): Buffer => {
    const attrs: Buffer[] = []
    const x = random()
    if (x < 0.7) attrs.push(keyValue('service.name', str('checkout')))
    else if (x < 0.75) attrs.push(keyValue('service.name', str('')))
    else if (x < 0.8) attrs.push(keyValue('service.name', int(5)))
    else if (x < 0.85) attrs.push(keyValue('service.name', str('s'.repeat(300))))
    if (chance(0.5)) attrs.push(keyValue('host.name', str('web-1')), keyValue('deployment.environment', str('prod')))
    if (chance(0.05)) attrs.push(keyValue('$bad', str('renamed')))
    if (chance(0.05)) attrs.push(keyValue('deep', kvlist(keyValue('a', kvlist(keyValue('b', str('c')))))))
    if (chance(0.05)) attrs.push(keyValue('big', str('b'.repeat(3000)))) // lines far longer than the request
    return cat(...attrs.map(a => lenField(1, a)))
  }
  const scope = (): Buffer => cat(
    ...(chance(0.8) ? [lenField(1, pick(['bench', 'my-lib', '', 'n'.repeat(300)]))] : []),
    ...(chance(0.5) ? [lenField(2, '1.2.3')] : []),
    ...(chance(0.1) ? [lenField(3, keyValue(pick(['lib.kind', '$x', 'level']), str('v')))] : []))
  return (): Buffer => request(...Array.from({ length: 1 + Math.floor(random() * 2) }, () =>
    resourceLogs(resource(), Array.from({ length: 1 + Math.floor(random() * 2) }, () =>
      scopeLogs(scope(), Array.from({ length: 1 + Math.floor(random() * 25) }, record))))))
}

// [name, context, whether some records can go direct under it]
const CONTEXTS: Array<[string, IngestContext, boolean]> = [
  ['default limits', ctxOf(), true],
  ['MAX_EVENT_FIELDS=12', ctxOf({ maxFields: 12 }), true],
  ['MAX_FIELD_NAME_LENGTH=28', ctxOf({ maxFieldNameLength: 28 }), true],
  ['MAX_FIELD_NAME_LENGTH=20, shorter than the event\'s own field names', ctxOf({ maxFieldNameLength: 20 }), false],
  ['MAX_EVENT_DEPTH=2', ctxOf({ maxDepth: 2 }), true],
  ['a key pinned to checkout', ctxOf({}, 'checkout'), true],
  ['a key pinned to another app (the event keeps client_app_name)', ctxOf({}, 'billing'), false]
]

t.test('SDK requests: the direct path writes the decoded path\'s lines, and takes the plain records', async t => {
  const plain = await sdkRecords(Array.from({ length: 50 }, (_, seq) => ({ body: 'user signed in', severityNumber: 9, attributes: { user_id: 4242, route: '/api/login', duration_ms: 12.5, seq } })))
  const plainBody = encodeProtobuf(plain)
  const c = compare(plainBody, ctxOf())
  t.equal(c.diff, undefined)
  t.equal(c.direct, 50, 'every plain record went direct')
  const varied = compare(encodeProtobuf(await sdkRecords(VARIED, { 'service.name': 'checkout', 'service.version': '9.9' })), ctxOf())
  t.equal(varied.diff, undefined)
  t.ok(varied.direct > 0 && varied.declined > 0, `both paths ran (${varied.direct} direct, ${varied.declined} decoded)`)
  t.equal(compare(plainBody, ctxOf({ maxFieldNameLength: 20 })).direct, 0, 'own field names longer than the limit: none direct')
})

t.test('generated requests, under each set of limits: the same lines, counts and refusals', async t => {
  for (const [name, ctx, someDirect] of CONTEXTS) {
    const next = generator(7)
    let direct = 0
    let declined = 0
    let firstDiff: string | undefined
    for (let i = 0; i < 150 && firstDiff === undefined; i++) {
      const c = compare(next(), ctx)
      direct += c.direct
      declined += c.declined
      if (c.diff !== undefined) firstDiff = `request ${i}: ${c.diff}`
    }
    t.equal(firstDiff, undefined, name)
    if (!someDirect) t.equal(direct, 0, `${name}: nothing direct`)
    else t.ok(direct > 200 && declined > 200, `${name}: both paths ran (${direct} direct, ${declined} decoded)`)
  }
})

t.test('mutated and truncated requests: both paths refuse the same bodies, and agree on the rest', async t => {
  const next = generator(11)
  const random = rng(5)
  let refused = 0
  let kept = 0
  let firstDiff: string | undefined
  for (let i = 0; i < 600 && firstDiff === undefined; i++) {
    const body = Buffer.from(next())
    const m = i % 4 === 0 ? body.subarray(0, Math.floor(random() * body.length)) : body
    if (i % 4 !== 0) for (let f = 0; f < 1 + Math.floor(random() * 3); f++) m[Math.floor(random() * m.length)] = Math.floor(random() * 256)
    const c = compare(m, ctxOf())
    if (c.diff !== undefined) firstDiff = `mutation ${i}: ${c.diff}`
    if (run(m, ctxOf(), true).outcome === 'refused') refused++
    else kept++
  }
  t.equal(firstDiff, undefined)
  t.ok(refused > 50 && kept > 50, `both outcomes occur (${refused} refused, ${kept} decoded)`)
})

t.test('a malformed value before a good one of the same field is refused by both paths', async t => {
  const truncatedInt = Uint8Array.from([0x18, 0x80]) // AnyValue int_value whose varint never ends
  const scope = (record: Buffer): Buffer => request(resourceLogs(lenField(1, keyValue('service.name', str('checkout'))), [scopeLogs(lenField(1, 'bench'), [record])]))
  const cases: Array<[string, Buffer]> = [
    ['two bodies', scope(logRecord(lenField(5, truncatedInt), lenField(5, str('good'))))],
    ['an attribute with two values', scope(logRecord(lenField(5, str('m')), lenField(6, cat(lenField(1, 'k'), lenField(2, truncatedInt), lenField(2, str('good'))))))]
  ]
  for (const [name, body] of cases) {
    t.equal(run(body, ctxOf(), true).outcome, 'refused', name)
    t.equal(compare(body, ctxOf()).diff, undefined, `${name}: as the decoded path`)
  }
})

t.test('records with different dotted keys each get their own nesting', async t => {
  // Key sequences that read the same when joined without a separator.
  const rec = (k1: string, k2: string): Buffer => logRecord(lenField(5, str('m')), lenField(6, keyValue(k1, int(1))), lenField(6, keyValue(k2, int(2))))
  const body = request(resourceLogs(lenField(1, keyValue('service.name', str('checkout'))),
    [scopeLogs(lenField(1, 'bench'), [rec('x.a', 'bc'), rec('x.ab', 'c'), rec('x.a', 'bc')])]))
  const c = compare(body, ctxOf())
  t.equal(c.diff, undefined)
  t.equal(c.direct, 3)
  const lines = requestLines(body, ctxOf(), { maxDepth: 20, maxBytes: 64 << 20 }).lines.toString().trim().split('\n').map(l => JSON.parse(l))
  t.same(lines.map(l => [l.x, l.bc, l.c]), [[{ a: 1 }, 2, undefined], [{ ab: 1 }, undefined, 2], [{ a: 1 }, 2, undefined]])
})

t.test('a record with many attributes, plain and dotted', async t => {
  const many = (key: (i: number) => string): Buffer => logRecord(lenField(5, str('m')), ...Array.from({ length: 70 }, (_, i) => lenField(6, keyValue(key(i), int(i)))))
  const body = request(resourceLogs(lenField(1, keyValue('service.name', str('checkout'))),
    [scopeLogs(lenField(1, 'bench'), [many(i => `k${i}`), many(i => `g${i % 7}.k${i}`)])]))
  const c = compare(body, ctxOf())
  t.equal(c.diff, undefined)
  t.equal(c.direct, 2)
  const [plain, dotted] = requestLines(body, ctxOf(), { maxDepth: 20, maxBytes: 64 << 20 }).lines.toString().trim().split('\n').map(l => JSON.parse(l))
  t.equal(plain.k69, 69)
  t.equal(dotted.g6.k69, 69)
})

t.test('nesting plans belong to their own keys, whatever the keys hold (a NUL, a dot)', async t => {
  // Joined with a NUL, ["a.b", "c.d"] and ["a.b\0c.d"] read the same; the second record must not get
  // the first one's plan (and with it a value of the first record's).
  const attr = (key: string, value: Buffer): Buffer => lenField(6, keyValue(key, value))
  const body = request(resourceLogs(Buffer.alloc(0), [scopeLogs(Buffer.alloc(0), [
    logRecord(attr('a.b', int(1)), attr('c.d', str('\u0001'.repeat(10000))), varintField(20, 1)),
    logRecord(attr('a.b\u0000c.d', int(5)))])]))
  const c = compare(body, ctxOf())
  t.equal(c.diff, undefined)
  const second = JSON.parse(requestLines(body, ctxOf(), { maxDepth: 20, maxBytes: 64 << 20 }).lines.toString().trim().split('\n')[1]!)
  t.same(second.a, { b_c: { d: 5 } })
  t.notOk('c' in second, 'nothing of the first record')
})

t.test('an arrival time the line head cannot hold as it is sends every record the decoded way', async t => {
  const body = request(resourceLogs(lenField(1, keyValue('service.name', str('checkout'))), [scopeLogs(lenField(1, 'bench'), [logRecord(lenField(5, str('m')))])]))
  for (const receivedAt of ['2026-12-02T10:00:00Z', '2026-12-02T10:00:00.000Z' + ' '.repeat(1000), '2026-12-02T10:00:00.000é']) {
    const ctx = { ...ctxOf(), receivedAt }
    const c = compare(body, ctx)
    t.equal(c.diff, undefined, JSON.stringify(receivedAt))
    t.equal(c.direct, 0)
  }
  t.equal(compare(body, ctxOf()).direct, 1, 'an ISO arrival time: direct')
})
