// Fuzz: random, truncated and mutated bytes never crash, hang or 500 — the decoder throws only its own
// OtlpDecodeError, and the route answers 200 or 400. Deterministic (seeded), so a failure reproduces.
import t from 'tap'
import { decodeLogsProtobuf } from '../../src/otlp/protobuf'
import { decodeLogsJson } from '../../src/otlp/json'
import { OtlpDecodeError } from '../../src/otlp/model'
import { buildTestApp } from '../helpers'
import { encodeJson, encodeProtobuf, sdkRecords, VARIED } from './fixtures'
import { rng } from './encode'

function decodesOrRefuses (buf: Buffer): 'ok' | 'refused' {
  try {
    decodeLogsProtobuf(buf, 20)
    return 'ok'
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'refused'
    throw err
  }
}

/** AnyValue{array_value{values: …}} nested `levels` deep, as a one-record request (built in one pass). */
function nestedArrays (levels: number): Buffer {
  const varint = (n: number): number[] => { const out: number[] = []; while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7 } out.push(n); return out }
  // sizes[i]: bytes of the AnyValue at level i (0 = the innermost string_value "x").
  const sizes = [3]
  const arrays = [0]
  for (let i = 1; i <= levels; i++) {
    arrays[i] = 1 + varint(sizes[i - 1]!).length + sizes[i - 1]!
    sizes[i] = 1 + varint(arrays[i]!).length + arrays[i]!
  }
  const bytes: number[] = []
  for (let i = levels; i >= 1; i--) bytes.push(0x2a, ...varint(arrays[i]!), 0x0a, ...varint(sizes[i - 1]!))
  bytes.push(0x0a, 0x01, 0x78)
  let out = Buffer.from(bytes)
  for (const field of [5, 2, 2, 1]) out = Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(out.length)]), out]) // body, log_records, scope_logs, resource_logs
  return out
}

t.test('truncations, bit flips and random bytes: decoded or refused, never another error', async t => {
  const valid = encodeProtobuf(await sdkRecords(VARIED))
  const random = rng(12)
  let refused = 0
  for (let cut = 0; cut < valid.length; cut++) if (decodesOrRefuses(valid.subarray(0, cut)) === 'refused') refused++
  t.ok(refused > valid.length / 2, `most truncations are refused (${refused} of ${valid.length})`)
  for (let i = 0; i < 3000; i++) {
    const m = Buffer.from(valid)
    const flips = 1 + Math.floor(random() * 4)
    for (let f = 0; f < flips; f++) m[Math.floor(random() * m.length)] = Math.floor(random() * 256)
    decodesOrRefuses(m)
  }
  for (let i = 0; i < 2000; i++) {
    const r = Buffer.alloc(Math.floor(random() * 300))
    for (let j = 0; j < r.length; j++) r[j] = Math.floor(random() * 256)
    decodesOrRefuses(r)
  }
  t.equal(decodesOrRefuses(Buffer.from([0x0b])), 'refused', 'a group wire type')
  t.equal(decodesOrRefuses(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), 'refused', 'an 11-byte varint')
  t.equal(decodesOrRefuses(Buffer.from([0x0d, 1, 2])), 'refused', 'a truncated fixed32')
  t.equal(decodesOrRefuses(Buffer.from([0x18, 0x01, 0x21, 1, 2, 3, 4, 5, 6, 7, 8])), 'ok', 'unknown varint and fixed64 fields are skipped')
})

t.test('nesting far past the cap is skipped, not recursed into, and refuses only its record', async t => {
  const deep = nestedArrays(50_000)
  const [res] = decodeLogsProtobuf(deep, 20)
  t.equal(res!.scopes[0]!.records[0]!.tooDeep, true)
  t.equal(decodeLogsProtobuf(nestedArrays(19), 20)[0]!.scopes[0]!.records[0]!.tooDeep, false)
  let json: unknown = { stringValue: 'x' }
  for (let i = 0; i < 50_000; i++) json = { arrayValue: { values: [json] } }
  const [jres] = decodeLogsJson({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: json }] }] }] }, 20)
  t.equal(jres!.scopes[0]!.records[0]!.tooDeep, true)
})

t.test('through the route: mutated protobuf and JSON bodies answer 200 or 400, never 500', async t => {
  const { app } = await buildTestApp(t)
  const records = await sdkRecords(VARIED)
  const valid = encodeProtobuf(records)
  const validJson = JSON.stringify(encodeJson(records))
  const random = rng(99)
  const seen = new Map<number, number>()
  for (let i = 0; i < 300; i++) {
    const m = Buffer.from(valid)
    if (i % 3 === 0) m.subarray(Math.floor(random() * m.length)).fill(0)
    else for (let f = 0; f < 3; f++) m[Math.floor(random() * m.length)] = Math.floor(random() * 256)
    const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/x-protobuf' }, payload: m })
    seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
  }
  for (let i = 0; i < 200; i++) {
    const chars = validJson.split('')
    for (let f = 0; f < 2; f++) chars[Math.floor(random() * chars.length)] = '{}[]":,0a-'[Math.floor(random() * 10)]!
    const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json' }, payload: chars.join('') })
    seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
  }
  const deep = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/x-protobuf' }, payload: nestedArrays(50_000) })
  t.equal(deep.statusCode, 200, 'a too-deep record is a partial success')
  t.same([...seen.keys()].filter(s => s !== 200 && s !== 400), [], `statuses seen: ${JSON.stringify([...seen])}`)
  t.ok(seen.get(400)! > 0 && seen.get(200)! > 0, 'both outcomes occur')
})
