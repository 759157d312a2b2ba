// Redaction at ingest on every way in, through the real app: POST /log, /logs (JSON array, NDJSON, a
// shipper's mapping), OTLP /v1/logs (protobuf, whose direct path is held off, and JSON), and MongoDB.
// The proof is the bytes: no file under LOG_DIR, and no stored document, holds a secret. Also: the
// splice fast path kept when nothing matched and left when something did; /status and /metrics counts.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { buildTestApp } from './helpers'
import { connectTestClient, journaled, testMongoUri, uniqueDbName } from '../../test/support'
import { normaliseEvent, type IngestContext } from '../src/normalise/normalise'
import { requestLines } from '../src/otlp/journal-lines'
import { Redactor, REDACTED } from '../src/redact/redactor'
import { encodeJson, encodeProtobuf, sdkRecords } from './otlp/fixtures'

const ENV = { REDACT_FIELDS: 'password,Authorization,*.token,card.cvc', REDACT_PATTERNS: 'email,card,bearer,jwt' }
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'
// Every secret the events below carry; none may be found in any byte the collector writes.
const SECRETS = ['hunter2-pw', 'ada@example.org', '4111111111111111', '4111 1111 1111 1111', 'sk_live_12345678', JWT, 'tok-777', 'cvc-123']

/** An event holding every kind of secret, in values, nested fields and message. */
function secretEvent (i: number): Record<string, unknown> {
  return {
    level: 'info',
    timestamp: 1796158800000 + i,
    message: `login by ada@example.org with card 4111 1111 1111 1111 #${i}`,
    app_name: 'shop',
    PASSWORD: 'hunter2-pw',
    headers: { authorization: 'Bearer sk_live_12345678', accept: 'json' },
    session: { token: 'tok-777', jwt: JWT },
    card: { number: 4111111111111111, cvc: 'cvc-123' },
    seq: i
  }
}

/** Every file under `dir`, read as text, concatenated: what a look at the disk would find. */
function diskText (dir: string): string {
  let out = ''
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    out += statSync(path).isDirectory() ? diskText(path) : readFileSync(path, 'latin1')
  }
  return out
}

function assertNoSecret (t: { notOk: (v: unknown, m: string) => void }, text: string, where: string): void {
  for (const s of SECRETS) t.notOk(text.includes(s), `${where} does not hold ${s.slice(0, 12)}…`)
}

t.test('POST /log, /logs (array, NDJSON, a shipper mapping): no secret reaches the journal', async t => {
  const { app, logDir } = await buildTestApp(t, ENV)
  const one = await app.inject({ method: 'POST', url: '/log', payload: secretEvent(0) })
  t.equal(one.statusCode, 201)
  const array = await app.inject({ method: 'POST', url: '/logs', payload: [secretEvent(1), secretEvent(2)] })
  t.match(array.json(), { accepted: 2 })
  const ndjson = await app.inject({
    method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: [3, 4].map(i => JSON.stringify(secretEvent(i))).join('\n')
  })
  t.match(ndjson.json(), { accepted: 2 })
  // Fluent Bit's shape: the line under `log`, mapped to message before redaction.
  const mapped = await app.inject({
    method: 'POST', url: '/logs?app_name=nginx&message_field=log', payload: [{ log: 'GET /?email=ada@example.org Authorization: Bearer sk_live_12345678', password: 'hunter2-pw' }]
  })
  t.match(mapped.json(), { accepted: 1 })

  const events = journaled(logDir)
  t.equal(events.length, 6)
  t.match(events[0], {
    message: `login by ${REDACTED} with card ${REDACTED} #0`,
    PASSWORD: REDACTED,
    headers: { authorization: REDACTED, accept: 'json' },
    session: { token: REDACTED, jwt: REDACTED },
    card: { number: REDACTED, cvc: REDACTED },
    seq: 0,
    level: 'INFO',
    app_name: 'shop'
  })
  t.same(events.slice(1, 5).map(e => e.seq), [1, 2, 3, 4])
  for (const e of events.slice(1, 5)) t.same(e.session, { token: REDACTED, jwt: REDACTED })
  t.match(events[5], { app_name: 'nginx', message: `GET /?email=${REDACTED} Authorization: Bearer ${REDACTED}`, password: REDACTED })
  assertNoSecret(t, diskText(logDir), 'LOG_DIR')

  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.same(status.redaction.rules, ['field:password', 'field:authorization', 'field:*.token', 'field:card.cvc', 'pattern:email', 'pattern:card', 'pattern:bearer', 'pattern:jwt'])
  // Five secret events: 5 passwords, 5 authorizations, 5 tokens, 5 cvcs; e-mails, cards (text and number) and JWTs in each.
  t.same(status.redaction.redacted_by_rule, {
    'field:password': 6, 'field:authorization': 5, 'field:*.token': 5, 'field:card.cvc': 5, 'pattern:email': 6, 'pattern:card': 10, 'pattern:bearer': 1, 'pattern:jwt': 5
  })
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /maap_redactions_total\{rule="field:password"\} 6/)
  t.match(metrics, /maap_redactions_total\{rule="pattern:card"\} 10/)
})

t.test('OTLP /v1/logs, protobuf and JSON: records go the decoded way and are redacted', async t => {
  const { app, logDir } = await buildTestApp(t, ENV)
  const records = await sdkRecords([
    { body: 'reset sent to ada@example.org', attributes: { password: 'hunter2-pw', 'user.token': 'tok-777' } },
    { body: { text: `with ${JWT}`, card: '4111111111111111' } },
    { body: 'nothing secret here' }
  ])
  const proto = encodeProtobuf(records)
  const res = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/x-protobuf' }, payload: proto })
  t.equal(res.statusCode, 200)
  const json = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(encodeJson(records)) })
  t.equal(json.statusCode, 200)
  const events = journaled(logDir)
  t.equal(events.length, 6)
  t.equal(events[0]!.message, `reset sent to ${REDACTED}`)
  t.equal(events[2]!.message, 'nothing secret here')
  assertNoSecret(t, diskText(logDir), 'LOG_DIR')

  // The same request, without redaction, would have gone the direct way (the secrets written straight from the bytes).
  const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
  const plain: IngestContext = { limits, receivedAt: '2026-12-02T10:00:00.000Z' }
  const opts = { maxDepth: 20, maxBytes: 1 << 20 }
  const without = requestLines(proto, plain, opts)
  t.ok(without.direct > 0, 'without redaction some records are written directly')
  t.ok(without.lines.toString().includes('hunter2-pw'))
  const redacted = requestLines(proto, { ...plain, redactor: Redactor.compile(['password'], ['email'])! }, opts)
  t.equal(redacted.direct, 0, 'with redaction no record takes the direct path')
  t.equal(redacted.accepted, 3)
  t.notOk(redacted.lines.toString().includes('hunter2-pw'))
  t.notOk(redacted.lines.toString().includes('ada@example.org'))
})

t.test('the splice fast path: kept when nothing matched, left for serialisation when something did', async t => {
  const redactor = Redactor.compile(['password'], ['email'])!
  const ctx: IngestContext = { limits: { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }, receivedAt: '2026-12-02T10:00:00.000Z', redactor }
  // The splice copies the client's text as it is: its spaces and \u escapes show it was used.
  const clean = '{"level":"info","timestamp":1796158800000,"app_name":"a","message":"caf\\u00e9",  "n": 1}'
  const kept = normaliseEvent(JSON.parse(clean), ctx, clean)
  t.ok(kept.ok && kept.line.includes('"caf\\u00e9",  "n": 1'), 'spliced')
  // A secret behind an escape in the key, and one in a value: the text holds both, the line neither.
  const dirty = '{"level":"info","timestamp":1796158800000,"app_name":"a","message":"caf\\u00e9 ada@example.org",  "pass\\u0077ord": "hunter2-pw"}'
  const left = normaliseEvent(JSON.parse(dirty), ctx, dirty)
  t.ok(left.ok)
  const line = (left as { line: string }).line
  t.notOk(line.includes('hunter2-pw') || line.includes('ada@example.org'), 'no secret in the line')
  t.match(JSON.parse(line), { message: `café ${REDACTED}`, password: REDACTED })
  t.notOk(line.includes('\\u00e9'), 'serialised, not spliced')
  const onlyKey = '{"level":"info","timestamp":1796158800000,"app_name":"a","message":"m","password":"hunter2-pw"}'
  const keyLine = normaliseEvent(JSON.parse(onlyKey), ctx, onlyKey)
  t.ok(keyLine.ok && !keyLine.line.includes('hunter2-pw'), 'a redacted field alone leaves the fast path too')
  // A redacted message on the slow path (a field to rename) is the redacted one.
  const renamed = normaliseEvent({ message: 'to ada@example.org', app_name: 'a', 'x.y': 1 }, ctx)
  t.ok(renamed.ok && JSON.parse(renamed.line).message === `to ${REDACTED}` && JSON.parse(renamed.line).x_y === 1)
})

t.test('without rules: no redactor, /status.redaction is null, events stored as sent', async t => {
  const { app, logDir } = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/log', payload: { message: 'ada@example.org', app_name: 'a', password: 'p' } })
  t.match(journaled(logDir)[0], { message: 'ada@example.org', password: 'p' })
  t.equal((await app.inject({ method: 'GET', url: '/status' })).json().redaction, null)
})

t.test('MongoDB: the stored documents hold no secret', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('redact')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app, logDir } = await buildTestApp(t, { ...ENV, MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_RETENTION_DAYS: '0' })
  const res = await app.inject({ method: 'POST', url: '/logs', payload: [0, 1, 2].map(secretEvent) })
  t.match(res.json(), { accepted: 3 })
  const flush = await app.inject({ method: 'POST', url: '/force-flush' })
  t.equal(flush.statusCode, 200)
  const docs = await client.db(dbName).collection('logs').find({}).sort({ seq: 1 }).toArray()
  t.equal(docs.length, 3)
  t.match(docs[0], { PASSWORD: REDACTED, session: { token: REDACTED }, message: `login by ${REDACTED} with card ${REDACTED} #0` })
  assertNoSecret(t, JSON.stringify(docs), 'MongoDB')
  assertNoSecret(t, diskText(logDir), 'LOG_DIR')
})
