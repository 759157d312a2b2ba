// Every error a client can cause, whoever raises it (our routes, Fastify's body reading and parsers,
// @fastify/compress, the rate limiter, under-pressure, the router), answers with a MAAP_ code documented in
// the README and a message that names the problem — never an FST_ code, never a 500. On the ingest routes
// each refused body is counted: one event received and rejected by reason, in /metrics and /status.
import t from 'tap'
import { STATUS_CODES } from 'node:http'
import { resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { poll, undocumentedCodes } from '../../test/support'
import { buildTestApp } from './helpers'

const README = resolve(__dirname, '..', 'README.md')
const JSON_CT = { 'content-type': 'application/json' }
const INGEST = ['/log', '/logs', '/v1/logs'] as const
type Route = typeof INGEST[number]

interface Counted { received: number, rejected: Record<string, number>, total: number }

/** The route's received and rejected-by-reason counters, and /status.rejected_total. */
async function counted (app: FastifyInstance, route: Route): Promise<Counted> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const rejected: Record<string, number> = {}
  for (const m of text.matchAll(/^maap_events_rejected_total\{route="([^"]+)",reason="(\w+)"\} (\d+)$/gm)) {
    if (m[1] === route) rejected[m[2]!] = Number(m[3])
  }
  const received = new RegExp(`^maap_events_received_total\\{route="${route}"\\} (\\d+)$`, 'm').exec(text)
  const total = (await app.inject({ method: 'GET', url: '/status' })).json().rejected_total as number
  return { received: Number(received?.[1]), rejected, total }
}

/** A JSON error answer of ours: a documented MAAP_ code, the status's reason phrase, a message. */
function isOurAnswer (t: typeof import('tap').default, res: LightMyRequestResponse, name: string): { code: string, message: string } {
  const body = res.json()
  t.match(body.code, /^MAAP_[A-Z_]+$/, `${name}: a MAAP_ code (${String(body.code)})`)
  t.same(undocumentedCodes(README, [String(body.code)]), [], `${name}: ${String(body.code)} is in the README's Errors table`)
  t.equal(body.statusCode, res.statusCode, `${name}: statusCode in the body`)
  t.equal(body.error, STATUS_CODES[res.statusCode], `${name}: the status's reason phrase`)
  return body
}

interface BadBody {
  name: string
  req: Omit<InjectOptions, 'url' | 'method'> & { query?: string }
  status: number
  code: string
  message: RegExp
  /** The reason it is counted under; undefined: not counted (no event in it). */
  reason?: string
  /** Where /v1/logs answers differently (it reads other media types). */
  otlp?: { status: number, message: RegExp, reason: string }
  routes?: readonly Route[]
}

const tooLarge = JSON.stringify({ message: 'x'.repeat(5000), app_name: 'a' })
const bad: BadBody[] = [
  { name: 'malformed JSON', req: { headers: JSON_CT, payload: '{"message":' }, status: 400, code: 'MAAP_INVALID_JSON', message: /^the body is not valid JSON: \S/, reason: 'invalid_json' },
  {
    name: 'a JSON array without a Content-Type that does not parse', req: { payload: '[{"message":' }, status: 400, code: 'MAAP_INVALID_JSON', message: /^the body is not valid JSON: \S/, reason: 'invalid_json',
    otlp: { status: 415, message: /Content-Type \(none\) is not accepted on \/v1\/logs: send application\/x-protobuf or application\/json/, reason: 'unsupported_media_type' }
  },
  { name: 'over BODY_LIMIT', req: { headers: JSON_CT, payload: tooLarge }, status: 413, code: 'MAAP_BODY_TOO_LARGE', message: /over 2048 bytes \(BODY_LIMIT/, reason: 'body_too_large' },
  { name: 'gzip that inflates past BODY_LIMIT', req: { headers: { ...JSON_CT, 'content-encoding': 'gzip' }, payload: gzipSync(tooLarge) }, status: 413, code: 'MAAP_BODY_TOO_LARGE', message: /over 2048 bytes/, reason: 'body_too_large' },
  { name: 'not gzip although it says so', req: { headers: { ...JSON_CT, 'content-encoding': 'gzip' }, payload: '{"message":"m"}' }, status: 400, code: 'MAAP_INVALID_COMPRESSION', message: /does not decompress as Content-Encoding "gzip" says: \S/, reason: 'bad_encoding' },
  { name: 'an unsupported Content-Encoding', req: { headers: { ...JSON_CT, 'content-encoding': 'br' }, payload: 'x' }, status: 415, code: 'MAAP_UNSUPPORTED_ENCODING', message: /Content-Encoding "br" is not accepted: send gzip, deflate/, reason: 'bad_encoding' },
  {
    name: 'a Content-Type the route does not read', req: { headers: { 'content-type': 'text/plain' }, payload: 'hello' }, status: 415, code: 'MAAP_UNSUPPORTED_MEDIA_TYPE', message: /Content-Type "text\/plain" is not accepted: send application\/json/, reason: 'unsupported_media_type',
    otlp: { status: 415, message: /Content-Type "text\/plain" is not accepted on \/v1\/logs/, reason: 'unsupported_media_type' }
  },
  { name: 'a Content-Type that does not parse', req: { headers: { 'content-type': ';;;' }, payload: 'x' }, status: 415, code: 'MAAP_UNSUPPORTED_MEDIA_TYPE', message: /Content-Type ";;;" is not a media type/, reason: 'unsupported_media_type' },
  { name: 'a body longer than its Content-Length', req: { headers: { ...JSON_CT, 'content-length': '5' }, payload: '{"message":"m","app_name":"a"}' }, status: 400, code: 'MAAP_INCOMPLETE_BODY', message: /Content-Length \(5 bytes\)/, reason: 'incomplete_body' },
  { name: 'an empty JSON body', req: { headers: JSON_CT, payload: '' }, status: 400, code: 'MAAP_NO_EVENTS', message: /no events/ },
  { name: 'an invalid shipper mapping', req: { query: '?app_name=', headers: JSON_CT, payload: '{"message":"m"}' }, status: 400, code: 'MAAP_INVALID_MAPPING', message: /app_name/, reason: 'invalid_mapping', routes: ['/logs'] },
  {
    name: 'a body that is not OTLP', req: { headers: JSON_CT, payload: '{"resourceLogs":{}}' }, status: 400, code: 'MAAP_OTLP_UNDECODABLE', message: /not an OTLP ExportLogsServiceRequest/, reason: 'invalid_otlp', routes: ['/v1/logs']
  }
]

t.test('each kind of bad body, at every ingest route: a documented MAAP_ code (a Status on /v1/logs), a message naming the problem, and counted', async t => {
  const { app } = await buildTestApp(t, { BODY_LIMIT: '2048' })
  for (const b of bad) {
    for (const route of b.routes ?? INGEST) {
      const name = `${route}, ${b.name}`
      const expected = route === '/v1/logs' && b.otlp !== undefined ? b.otlp : b
      const before = await counted(app, route)
      const { query, ...req } = b.req
      const res = await app.inject({ ...req, method: 'POST', url: route + (query ?? '') })
      t.equal(res.statusCode, expected.status, `${name}: ${res.statusCode} ${res.body.slice(0, 200)}`)
      if (route === '/v1/logs') {
        // google.rpc.Status, as OTLP exporters read it: code 3 (INVALID_ARGUMENT) and the same message.
        t.match(res.json(), { code: 3, message: expected.message }, `${name}: a google.rpc.Status`)
      } else {
        const answer = isOurAnswer(t, res, name)
        t.equal(answer.code, b.code, `${name}: ${b.code}`)
        t.match(answer.message, b.message, `${name}: the message says what is wrong`)
      }
      const after = await counted(app, route)
      const reason = expected.reason
      if (reason === undefined) {
        t.same(after, before, `${name}: no event in it, nothing counted`)
        continue
      }
      t.equal(after.received, before.received + 1, `${name}: one event received`)
      t.equal(after.rejected[reason], (before.rejected[reason] ?? 0) + 1, `${name}: one rejected as ${reason}`)
      t.equal(after.total, before.total + 1, `${name}: /status.rejected_total`)
    }
  }
  const good = await app.inject({ method: 'POST', url: '/log', payload: { message: 'still up', app_name: 'a' } })
  t.equal(good.statusCode, 201, 'a good event right after is accepted')
})

t.test('what no route answers, a URL that does not decode, and bodies on the admin routes: MAAP_ codes too, and no ingest counter moves', async t => {
  const { app } = await buildTestApp(t, { BODY_LIMIT: '2048' })
  const before = await Promise.all(INGEST.map(async r => await counted(app, r)))
  const cases: Array<{ req: InjectOptions & { method: string, url: string }, status: number, code: string, message: RegExp }> = [
    { req: { method: 'GET', url: '/log' }, status: 404, code: 'MAAP_NOT_FOUND', message: /^"\/log" takes POST, not GET$/ },
    { req: { method: 'PUT', url: '/logs' }, status: 404, code: 'MAAP_NOT_FOUND', message: /^"\/logs" takes GET or POST, not PUT$/ },
    { req: { method: 'GET', url: '/nowhere?x=1' }, status: 404, code: 'MAAP_NOT_FOUND', message: /^no route GET "\/nowhere"$/ },
    { req: { method: 'GET', url: '/ui/' + 'a'.repeat(300) }, status: 404, code: 'MAAP_NOT_FOUND', message: /^no file of the web page at "\/ui\/a+"$/ },
    { req: { method: 'GET', url: '/ui/' }, status: 404, code: 'MAAP_NOT_FOUND', message: /^no file of the web page at "\/ui\/"$/ },
    { req: { method: 'GET', url: '/ui/main.js', headers: { range: 'bytes=999999999-' } }, status: 416, code: 'MAAP_RANGE_NOT_SATISFIABLE', message: /^Range "bytes=999999999-" is outside the file "\/ui\/main.js"$/ },
    { req: { method: 'GET', url: '/ui/main.js', headers: { 'if-match': '"not-its-etag"' } }, status: 412, code: 'MAAP_PRECONDITION_FAILED', message: /^the file "\/ui\/main.js" does not meet/ },
    { req: { method: 'GET', url: '/log%' }, status: 400, code: 'MAAP_BAD_URL', message: /the URL "\/log%" does not decode/ },
    { req: { method: 'POST', url: '/force-flush', headers: JSON_CT, payload: 'x'.repeat(4096) }, status: 413, code: 'MAAP_BODY_TOO_LARGE', message: /over 2048 bytes/ },
    { req: { method: 'POST', url: '/force-flush', headers: { 'content-type': ';;;' }, payload: 'x' }, status: 415, code: 'MAAP_UNSUPPORTED_MEDIA_TYPE', message: /";;;"/ },
    { req: { method: 'POST', url: '/force-flush', headers: { 'content-encoding': 'br' }, payload: 'x' }, status: 415, code: 'MAAP_UNSUPPORTED_ENCODING', message: /"br"/ }
  ]
  for (const c of cases) {
    const name = `${c.req.method} ${c.req.url.slice(0, 40)}`
    const res = await app.inject(c.req)
    t.equal(res.statusCode, c.status, `${name}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    const answer = isOurAnswer(t, res, name)
    t.equal(answer.code, c.code, `${name}: ${c.code}`)
    t.match(answer.message, c.message, `${name}: the message`)
  }
  t.same(await Promise.all(INGEST.map(async r => await counted(app, r))), before, 'not an ingest request: nothing counted')
})

t.test('the rate limiter and under-pressure answer MAAP_ codes with Retry-After; the unread bodies are not counted', async t => {
  const limited = (await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: '1' })).app
  t.equal((await limited.inject({ method: 'POST', url: '/log', payload: { message: 'm', app_name: 'a' } })).statusCode, 201)
  const res = await limited.inject({ method: 'POST', url: '/log', payload: { message: 'm', app_name: 'a' } })
  t.equal(res.statusCode, 429)
  t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After')
  t.match(isOurAnswer(t, res, '429'), { code: 'MAAP_RATE_LIMITED', message: /^past RATE_LIMIT_PER_MINUTE \(1 requests a minute\); retry in / })
  t.match(await counted(limited, '/log'), { received: 1, total: 0 }, 'the refused request is no event received')

  const pressed = (await buildTestApp(t, { MAX_HEAP_USED_BYTES: '1' })).app
  // under-pressure samples the heap on a timer; poll until it reports pressure.
  const busy = await poll(async () => {
    const r = await pressed.inject({ method: 'POST', url: '/log', payload: { message: 'm', app_name: 'a' } })
    return r.statusCode !== 201 && r
  })
  t.equal(busy.statusCode, 503)
  t.equal(busy.headers['retry-after'], '1')
  t.match(isOurAnswer(t, busy, '503'), { code: 'MAAP_OVERLOADED', message: /^the collector is overloaded \(heap used \d+ bytes, over MAX_HEAP_USED_BYTES 1\); retry shortly$/ })
  const receivedBefore = (await counted(pressed, '/log')).received
  t.equal((await pressed.inject({ method: 'POST', url: '/log', payload: { message: 'm', app_name: 'a' } })).statusCode, 503)
  t.match(await counted(pressed, '/log'), { received: receivedBefore, total: 0 }, 'the refused request is no event received')
})

t.test('an error nothing maps keeps its status with MAAP_BAD_REQUEST; an unexpected one is a 500 MAAP_INTERNAL_ERROR', async t => {
  const { app } = await buildTestApp(t)
  app.get('/teapot', async () => { throw Object.assign(new Error('short and stout'), { statusCode: 418, code: 'FST_SOME_PLUGIN' }) })
  app.get('/boom', async () => { throw new TypeError('a bug') })
  const teapot = await app.inject({ method: 'GET', url: '/teapot' })
  t.equal(teapot.statusCode, 418)
  t.match(isOurAnswer(t, teapot, '418'), { code: 'MAAP_BAD_REQUEST', message: 'short and stout' })
  const boom = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(boom.statusCode, 500)
  t.same(isOurAnswer(t, boom, '500'), { statusCode: 500, code: 'MAAP_INTERNAL_ERROR', error: 'Internal Server Error', message: 'internal error' }, 'nothing of the bug is told')
})
