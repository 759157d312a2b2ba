// Browser keys (BROWSER_API_KEYS): a real collector on loopback, asked over HTTP as a page would (Origin,
// ?key=, text/plain), in embedded mode — what is stored is read back from the journal.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGzip, gzipSync } from 'node:zlib'
import { loadConfig } from '@maap-event-logger/collector'
import { startCollector } from '../../test/support'
import { maskKey } from '../src/browser/log-url'
import { buildTestApp, listen } from './helpers'

const shopKey = 'pk_shop_3f9a2c1d'
const blogKey = 'pk_blog_77aa00ff'
const ingestKey = 'ingest-key-0123456789'
const readKey = 'read-key-0123456789'
const adminKey = 'admin-key-0123456789'
const shop = 'https://shop.example'
const env = {
  BROWSER_API_KEYS: `shop-web:${shopKey}@${shop}|https://www.shop.example, blog:${blogKey}@https://blog.example`,
  API_KEYS: ingestKey,
  READ_API_KEYS: readKey,
  ADMIN_API_KEY: adminKey
}
interface Test { teardown: (fn: () => unknown) => void }
const ndjson = (...events: object[]): string => events.map(e => JSON.stringify(e) + '\n').join('')

interface Answer { status: number, headers: IncomingHttpHeaders, text: string, json: () => any }

/** One request on its own connection; `from` is the client address (any 127.x.y.z reaches loopback). */
async function send (url: string, opts: { method?: string, headers?: Record<string, string>, body?: string | Buffer, from?: string } = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST', agent: false, headers: opts.headers ?? {}, localAddress: opts.from }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', chunk => { text += chunk }).on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }))
    }).on('error', reject)
    req.end(opts.body)
  })
}

/** A page's sendBeacon: ?key=, text/plain, Origin. */
const beacon = async (base: string, body: string, opts: { origin?: string, key?: string, batch?: string, from?: string } = {}): Promise<Answer> =>
  await send(`${base}/logs?key=${encodeURIComponent(opts.key ?? shopKey)}${opts.batch === undefined ? '' : `&batch=${opts.batch}`}`, {
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...(opts.origin === '' ? {} : { origin: opts.origin ?? shop }) },
    body,
    from: opts.from
  })

/** Every event in the journal. */
function stored (logDir: string): Array<Record<string, any>> {
  const lines: Array<Record<string, any>> = []
  for (const seg of readdirSync(logDir).filter(n => n.startsWith('maap-2')).sort()) {
    for (const line of readFileSync(join(logDir, seg), 'utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line))
  }
  return lines
}

/** maap_events_rejected_total by reason, for /logs. */
async function rejectedByReason (base: string): Promise<Record<string, number>> {
  const text = (await send(`${base}/metrics`, { method: 'GET', headers: { authorization: `Bearer ${adminKey}` } })).text
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^maap_events_rejected_total\{route="\/logs",reason="(\w+)"\} (\d+)$/gm)) if (m[2] !== '0') out[m[1]!] = Number(m[2])
  return out
}

async function collector (t: Test, extra: Record<string, string> = {}): Promise<{ base: string, logDir: string, app: Awaited<ReturnType<typeof buildTestApp>>['app'] }> {
  const { app, logDir } = await buildTestApp(t, { ...env, ...extra })
  return { app, logDir, base: await listen(app) }
}

t.test('a page sends as sendBeacon does (?key=, text/plain NDJSON): stored with the key\'s app_name, CORS headers on the answer', async t => {
  const { base, logDir } = await collector(t)
  const res = await beacon(base, ndjson({ message: 'opened', level: 'info' }, { message: 'named', app_name: 'shop-web' }))
  t.equal(res.status, 200)
  t.same(res.json(), { status: 'success', accepted: 2, rejected: [] })
  t.equal(res.headers['access-control-allow-origin'], shop)
  t.equal(res.headers.vary, 'Origin')
  t.equal(res.headers['access-control-allow-credentials'], undefined, 'never credentials')
  const events = stored(logDir)
  t.same(events.map(e => [e.message, e.app_name, e.client_app_name]), [['opened', 'shop-web', undefined], ['named', 'shop-web', undefined]])

  // The other origin of the key, as Bearer with NDJSON; a JSON array; one event on /log.
  const www = { origin: 'https://www.shop.example', authorization: `Bearer ${shopKey}` }
  t.equal((await send(`${base}/logs`, { headers: { ...www, 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'bearer' }) })).status, 200)
  t.equal((await send(`${base}/logs`, { headers: { ...www, 'content-type': 'application/json' }, body: JSON.stringify([{ message: 'array' }]) })).status, 200)
  const one = await send(`${base}/log`, { headers: { ...www, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'one' }) })
  t.equal(one.status, 201)
  t.equal(one.headers['access-control-allow-origin'], 'https://www.shop.example')
  t.same(stored(logDir).slice(2).map(e => [e.message, e.app_name]), [['bearer', 'shop-web'], ['array', 'shop-web'], ['one', 'shop-web']])
})

t.test('the Origin must be one of the key\'s: another or none is a 403, nothing stored, counted', async t => {
  const { base, logDir } = await collector(t)
  const wrong = await beacon(base, ndjson({ message: 'x' }), { origin: 'https://evil.example' })
  t.equal(wrong.status, 403)
  t.match(wrong.json(), { code: 'MAAP_ORIGIN_REFUSED', message: /"https:\/\/evil.example" is not one of the origins of the browser key for app_name "shop-web"/ })
  t.equal(wrong.headers['access-control-allow-origin'], undefined, 'an origin not allowed gets no CORS header')
  t.notMatch(wrong.text, shopKey)
  const other = await beacon(base, ndjson({ message: 'x' }), { origin: 'https://blog.example' })
  t.equal(other.status, 403, 'an origin of another browser key is not this key\'s')
  t.equal(other.headers['access-control-allow-origin'], 'https://blog.example', 'it is allowed cross-origin, all the same')
  const none = await beacon(base, ndjson({ message: 'x' }), { origin: '' })
  t.equal(none.status, 403)
  t.match(none.json(), { code: 'MAAP_ORIGIN_REFUSED', message: /must carry an Origin header/ })
  t.same(stored(logDir), [])
  t.same(await rejectedByReason(base), { origin_refused: 3 })
})

t.test('an event of another app refuses the whole request: 403 naming the index and app_name, nothing stored', async t => {
  const { base, logDir } = await collector(t)
  const res = await beacon(base, ndjson({ message: 'a' }, { message: 'b', app_name: 'shop-web' }, { message: 'c', app_name: 'billing' }))
  t.equal(res.status, 403)
  t.match(res.json(), { code: 'MAAP_BROWSER_KEY_APP', message: /event 2 has app_name "billing" but this browser key sends for app_name "shop-web" alone/ })
  t.equal(res.headers['access-control-allow-origin'], shop, 'the page can read why')
  const log = await send(`${base}/log`, { headers: { origin: shop, authorization: `Bearer ${shopKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'm', app_name: 42 }) })
  t.match(log.json(), { code: 'MAAP_BROWSER_KEY_APP', message: /event 0 has app_name 42/ })
  t.same(stored(logDir), [])
  t.same(await rejectedByReason(base), { browser_key_app: 1 })
  // What is not an object is no app's: refused as an invalid event, as from anyone.
  const notObject = await beacon(base, '5\n' + ndjson({ message: 'ok' }))
  t.match(notObject.json(), { status: 'partial', accepted: 1, rejected: [{ index: 0 }] })
})

t.test('a browser key may only send: 403 MAAP_BROWSER_KEY_SCOPE on every other route', async t => {
  const { base } = await collector(t)
  const routes: Array<[string, string]> = [['GET', '/logs'], ['GET', '/logs/tail'], ['GET', '/logs/histogram'], ['GET', '/status'], ['GET', '/metrics'],
    ['POST', '/force-flush'], ['GET', '/alerts'], ['GET', '/searches'], ['POST', '/v1/logs'], ['GET', '/health']]
  for (const [method, path] of routes) {
    for (const [how, url, headers] of [['Bearer', `${base}${path}`, { authorization: `Bearer ${shopKey}` }], ['?key=', `${base}${path}?key=${shopKey}`, {}]] as const) {
      const res = await send(url, { method, headers: { origin: shop, ...headers } })
      t.equal(res.status, 403, `${method} ${path} with the key as ${how}`)
      // /v1/logs answers as OTLP exporters read it: a google.rpc.Status, PERMISSION_DENIED, with the same message.
      if (path === '/v1/logs') t.match(res.json(), { code: 7, message: /a browser key may only send events/ })
      else t.equal(res.json().code, 'MAAP_BROWSER_KEY_SCOPE')
      t.notMatch(res.text, shopKey)
    }
  }
  // The same routes stay open to the keys made for them.
  t.equal((await send(`${base}/status`, { method: 'GET', headers: { authorization: `Bearer ${adminKey}` } })).status, 200)
  t.equal((await send(`${base}/logs`, { method: 'GET', headers: { authorization: `Bearer ${readKey}` } })).status, 200)
})

t.test('?key= takes browser keys alone: an ingest, read or admin key there is a 401, never accepted', async t => {
  const { base, logDir } = await collector(t)
  for (const key of [ingestKey, readKey, adminKey, 'not-a-key-at-all']) {
    for (const path of ['/logs', '/status', '/logs?x=1']) {
      const res = await send(`${base}${path}${path.includes('?') ? '&' : '?'}key=${key}`, {
        ...(path === '/status' ? { method: 'GET' } : { headers: { 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'm', app_name: 'x' }) })
      })
      t.equal(res.status, 401, `${path} with ?key=${key.slice(0, 5)}…`)
      t.match(res.json(), { code: 'MAAP_UNAUTHORIZED', message: /\?key= takes a browser key/ })
      t.equal(res.headers['www-authenticate'], 'Bearer')
      t.notMatch(res.text, key)
    }
  }
  const twice = await send(`${base}/logs?key=${shopKey}`, { headers: { origin: shop, authorization: `Bearer ${shopKey}`, 'content-type': 'text/plain' }, body: ndjson({ message: 'm' }) })
  t.match(twice.json(), { code: 'MAAP_UNAUTHORIZED', message: /send the key once/ })
  const repeated = await send(`${base}/logs?key=${shopKey}&key=${shopKey}`, { headers: { origin: shop, 'content-type': 'text/plain' }, body: ndjson({ message: 'm' }) })
  t.equal(repeated.status, 401, 'a key given twice is no key')
  // The ingest key still works as it always did.
  t.equal((await send(`${base}/logs`, { headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'm', app_name: 'x' }) })).status, 200)
  t.same(stored(logDir).map(e => e.app_name), ['x'])
})

t.test('text/plain is for browser keys on /logs alone; other requests keep their 415', async t => {
  const { base } = await collector(t)
  const server = await send(`${base}/logs`, { headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'text/plain' }, body: ndjson({ message: 'm', app_name: 'x' }) })
  t.equal(server.status, 415)
  t.match(server.json(), { code: 'MAAP_UNSUPPORTED_MEDIA_TYPE', message: /not accepted: send application\/json.*text\/plain is taken from browser keys alone/ })
  const log = await send(`${base}/log?key=${shopKey}`, { headers: { origin: shop, 'content-type': 'text/plain' }, body: JSON.stringify({ message: 'm' }) })
  t.equal(log.status, 415)
  t.match(log.json(), { message: /on POST \/logs alone/ })
})

t.test('a browser-key body stops at 256 KB (as sent, or once decompressed); other keys keep BODY_LIMIT', async t => {
  const { base, logDir } = await collector(t)
  const line = JSON.stringify({ message: 'x'.repeat(1000) }) + '\n'
  const big = line.repeat(300)
  const plain = await beacon(base, big)
  t.equal(plain.status, 413)
  t.match(plain.json(), { code: 'MAAP_BODY_TOO_LARGE', message: /over 262144 bytes \(the most a browser-key request may send/ })
  const gz = await send(`${base}/logs?key=${shopKey}`, { headers: { origin: shop, 'content-type': 'text/plain', 'content-encoding': 'gzip' }, body: gzipSync(big) })
  t.equal(gz.status, 413, 'a small gzip body that decompresses past the limit')
  t.equal(gz.headers['access-control-allow-origin'], shop)
  const small = await send(`${base}/logs?key=${shopKey}`, { headers: { origin: shop, 'content-type': 'text/plain', 'content-encoding': 'gzip' }, body: gzipSync(line.repeat(100)) })
  t.equal(small.status, 200, 'under the limit, gzip is read as usual')
  const broken = await send(`${base}/logs?key=${shopKey}`, { headers: { origin: shop, 'content-type': 'text/plain', 'content-encoding': 'gzip' }, body: 'not gzip at all' })
  t.match(broken.json(), { code: 'MAAP_INVALID_COMPRESSION' }, 'a body that does not decompress is answered as ever')
  const server = await send(`${base}/logs`, { headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' }, body: big.replace(/\}\n/g, ',"app_name":"x"}\n') })
  t.equal(server.status, 200)
  t.equal(stored(logDir).length, 400)
  t.same(await rejectedByReason(base), { body_too_large: 2, bad_encoding: 1 })
})

/**
 * A request whose body is `first` and then more, never ended: resolves with the answer's status and
 * Connection header once the connection is closed, with what the client had sent by then.
 */
async function refusedMidBody (url: string, headers: Record<string, string | number>, first: Buffer | undefined): Promise<{ status: number, connection: string | undefined }> {
  return await new Promise((resolve, reject) => {
    let answer: { status: number, connection: string | undefined } | undefined
    const req = request(url, { method: 'POST', agent: false, headers }, res => {
      answer = { status: res.statusCode!, connection: res.headers.connection }
      res.resume()
    })
    // The collector ends a connection whose body it will not read: writing on may fail, and that is the point.
    req.on('error', () => {})
    req.on('close', () => { if (answer === undefined) reject(new Error('closed without an answer')); else resolve(answer) })
    if (first === undefined) req.flushHeaders()
    else req.write(first)
  })
}

t.test('a browser-key body refused as too large is not read on: 413 with Connection: close, and the connection ends', async t => {
  const { base, logDir } = await collector(t)
  const headers = { origin: shop, 'content-type': 'text/plain' }
  // Declared too large: answered from the headers alone, and the connection ends without the body being read.
  const declared = await refusedMidBody(`${base}/logs?key=${shopKey}`, { ...headers, 'content-length': 64 * 1024 * 1024 }, undefined)
  t.same(declared, { status: 413, connection: 'close' })
  // A gzip stream that decompresses past the limit and would go on: the collector stops decompressing and
  // ends the connection (the client never ends its body; this test would wait forever if it were read on).
  const gzip = createGzip()
  const chunks: Buffer[] = []
  gzip.on('data', (c: Buffer) => chunks.push(c))
  gzip.write(Buffer.alloc(1024 * 1024, 0x20))
  await new Promise(resolve => gzip.flush(resolve))
  const endless = await refusedMidBody(`${base}/logs?key=${shopKey}`, { ...headers, 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' }, Buffer.concat(chunks))
  t.same(endless, { status: 413, connection: 'close' })
  // The same, plain and chunked (no Content-Length to refuse it by): cut off once past the limit.
  const chunked = await refusedMidBody(`${base}/logs?key=${shopKey}`, { ...headers, 'transfer-encoding': 'chunked' },
    Buffer.from(JSON.stringify({ message: 'x'.repeat(257 * 1024) }) + '\n'))
  t.same(chunked, { status: 413, connection: 'close' })
  // The collector serves on; nothing was stored, and all were counted.
  t.equal((await beacon(base, ndjson({ message: 'after' }))).status, 200)
  t.same(stored(logDir).map(e => e.message), ['after'])
  t.same(await rejectedByReason(base), { body_too_large: 3 })
})

t.test('?batch= is the Idempotency-Key of a browser-key request: a retry is answered again, stored once', async t => {
  const { base, logDir } = await collector(t)
  const body = ndjson({ message: 'a' }, { message: 'b' })
  const first = await beacon(base, body, { batch: '0190f5c2-7c1e-7abc-8def-0123456789ab' })
  const again = await beacon(base, body, { batch: '0190f5c2-7c1e-7abc-8def-0123456789ab' })
  t.same([first.status, again.status], [200, 200])
  t.same(again.json(), first.json())
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(stored(logDir).length, 2)
  const bad = await beacon(base, body, { batch: encodeURIComponent('has space') })
  t.equal(bad.json().code, 'MAAP_BAD_IDEMPOTENCY_KEY', 'same rules as the header')
  // For other keys ?batch= is no parameter of /logs.
  const server = await send(`${base}/logs?batch=b1`, { headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'm', app_name: 'x' }) })
  t.equal(server.json().code, 'MAAP_INVALID_MAPPING')
})

t.test('BROWSER_RATE_LIMIT_PER_MINUTE: per key and client address, 429 + Retry-After, counted', async t => {
  const { base } = await collector(t, { BROWSER_RATE_LIMIT_PER_MINUTE: '2' })
  const body = ndjson({ message: 'm' })
  const codes = async (opts: { from?: string, key?: string, origin?: string }): Promise<number[]> =>
    [(await beacon(base, body, opts)).status, (await beacon(base, body, opts)).status]
  t.same(await codes({ from: '127.0.0.1' }), [200, 200])
  const over = await beacon(base, body, { from: '127.0.0.1' })
  t.equal(over.status, 429)
  t.match(over.json(), { code: 'MAAP_RATE_LIMITED', message: /past BROWSER_RATE_LIMIT_PER_MINUTE for this browser key from this address \(2 requests a minute\)/ })
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After')
  t.equal(over.headers['access-control-allow-origin'], shop)
  t.same(await codes({ from: '127.0.0.2' }), [200, 200], 'another visitor has a budget of its own')
  t.same(await codes({ from: '127.0.0.1', key: blogKey, origin: 'https://blog.example' }), [200, 200], 'another key too')
  // Ingest keys are not limited by it (RATE_LIMIT_PER_MINUTE is off).
  for (let i = 0; i < 3; i++) {
    t.equal((await send(`${base}/logs`, { headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'm', app_name: 'x' }) })).status, 200)
  }
  t.same(await rejectedByReason(base), { browser_rate_limited: 1 })
  const status = (await send(`${base}/status`, { method: 'GET', headers: { authorization: `Bearer ${adminKey}` } })).json()
  t.match(status, { rejected_total: 1, auth: { browser_keys: 2 } })
})

t.test('without API_KEYS a browser key is held all the same; with no browser key ?key= is still refused', async t => {
  const { base } = await collector(t, { API_KEYS: '', READ_API_KEYS: '', ADMIN_API_KEY: '' })
  t.equal((await beacon(base, ndjson({ message: 'm' }), { origin: 'https://evil.example' })).status, 403)
  t.equal((await send(`${base}/logs?key=${shopKey}`, { method: 'GET', headers: { origin: shop } })).status, 403)
  t.equal((await send(`${base}/logs`, { headers: { 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'm', app_name: 'x' }) })).status, 200, 'open ingest stays open')
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'GET', url: `/logs?key=${ingestKey}` })).statusCode, 401)
  const noKeys = await app.inject({ method: 'OPTIONS', url: '/logs', headers: { origin: shop, 'access-control-request-method': 'POST' } })
  t.equal(noKeys.statusCode, 403, 'no browser key and no CORS_ORIGINS: no origin is allowed')
})

t.test('BROWSER_API_KEYS alone closes reads, searches, alerts and the admin routes; ingest keeps its own rule', async t => {
  const lines: string[] = []
  const { build } = await import('@maap-event-logger/collector')
  const app = await build(loadConfig({ BROWSER_API_KEYS: env.BROWSER_API_KEYS, LOG_DIR: mkdtempSync(join(tmpdir(), 'maap-browser-')) }), {
    level: 'warn', stream: { write: (line: string) => { lines.push(line) } }
  })
  t.teardown(() => app.close())
  for (const [method, url] of [['GET', '/logs'], ['GET', '/logs/histogram'], ['GET', '/searches'], ['GET', '/alerts'], ['GET', '/status'], ['GET', '/metrics'], ['POST', '/force-flush']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 401, `${method} ${url}`)
    t.equal(res.json().code, 'MAAP_UNAUTHORIZED')
    t.equal((await app.inject({ method, url, headers: { authorization: 'Bearer some-guess-0123' } })).statusCode, 403)
  }
  t.equal((await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson({ message: 'm', app_name: 'x' }) })).statusCode, 200,
    'ingest without API_KEYS stays open, with its warning')
  t.match(lines.join(''), /BROWSER_API_KEYS is set but API_KEYS is not/)
  t.match(lines.join(''), /BROWSER_API_KEYS is set but ADMIN_API_KEY is not: \/status, \/metrics, \/force-flush and \/alerts answer nobody/)
  // With a read key and an admin key, each opens its own routes as ever.
  const { app: keyed } = await buildTestApp(t, { BROWSER_API_KEYS: env.BROWSER_API_KEYS, READ_API_KEYS: readKey, ADMIN_API_KEY: adminKey })
  t.equal((await keyed.inject({ method: 'GET', url: '/logs', headers: { authorization: `Bearer ${readKey}` } })).statusCode, 200)
  t.equal((await keyed.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${adminKey}` } })).statusCode, 200)
})

t.test('the key is never logged: log lines show key=***, and a URL that does not decode is echoed masked', async t => {
  t.equal(maskKey('/logs?key=pk_shop_3f9a2c1d&batch=1'), '/logs?key=***&batch=1')
  t.equal(maskKey('/logs?batch=1&key=abc'), '/logs?batch=1&key=***')
  t.equal(maskKey('/logs'), '/logs')
  // By the name as the query parser decodes it: an encoded `key` is the key all the same.
  t.equal(maskKey('/logs?%6Bey=pk_shop_3f9a2c1d&k%65Y=a&batch=1'), '/logs?%6Bey=***&k%65Y=a&batch=1')
  t.equal(maskKey('/logs?ke%79=abc&key&key%zz=def&ke+y=g'), '/logs?ke%79=***&key&key%zz=***&ke+y=g', 'a name that does not decode is masked too')
  const lines: string[] = []
  const { build } = await import('@maap-event-logger/collector')
  const app = await build(loadConfig({ ...env, LOG_DIR: mkdtempSync(join(tmpdir(), 'maap-browser-')) }), {
    level: 'info', stream: { write: (line: string) => { lines.push(line) } }
  })
  t.teardown(() => app.close())
  // As Fastify's request logging would show it (turned off for speed, but an operator's hook may log it).
  app.addHook('onResponse', async request => { request.log.info({ req: request }, 'a request') })
  app.post('/logged', async () => 'ok')
  t.equal((await app.inject({ method: 'POST', url: `/logged?key=${shopKey}&x=1`, headers: { origin: shop } })).statusCode, 403)
  const logged = lines.find(l => l.includes('a request'))!
  t.match(JSON.parse(logged), { req: { method: 'POST', url: '/logged?key=***&x=1' } })
  // `?%6Bey=` is read as `key` (the request below is taken as the browser key's, and stored): masked as well.
  const encoded = await app.inject({ method: 'POST', url: `/logs?%6Bey=${shopKey}`, headers: { origin: shop, 'content-type': 'text/plain' }, payload: ndjson({ message: 'm' }) })
  t.equal(encoded.statusCode, 200)
  t.equal(lines.filter(l => l.includes('a request')).length, 2)
  t.match(JSON.parse(lines.filter(l => l.includes('a request'))[1]!), { req: { method: 'POST', url: '/logs?%6Bey=***' } })
  const badUrl = await app.inject({ method: 'POST', url: `/logs%zz?key=${shopKey}` })
  t.equal(badUrl.statusCode, 400)
  t.match(badUrl.json(), { code: 'MAAP_BAD_URL', message: /key=\*\*\*/ })
  t.notMatch(badUrl.body, shopKey)
  t.notMatch(lines.join(''), shopKey)
})

t.test('BROWSER_API_KEYS at start: a bad entry stops start-up naming it, never showing the key', async t => {
  const cases: Array<[string, RegExp]> = [
    [`shop-web:${shopKey}`, /entry 1 \(app_name "shop-web"\): no "@origin" after the key/],
    [`${shopKey}@${shop}`, /entry 1: no ":" between app_name and key/],
    [`pk:shop_3f9a2c1d`, /entry 1 \(app_name "pk"\): no "@origin"/],
    [`:${shopKey}@${shop}`, /entry 1: the app_name must be 1 to 256/],
    [`a:${shopKey}@${shop}, b:short@${shop}`, /entry 2 \(app_name "b"\): the key must be at least 8 visible ASCII/],
    [`a:pk_with|bar_0123@${shop}`, /entry 1 \(app_name "a"\): the key must be/],
    [`a:pk_with space_01@${shop}`, /entry 1 \(app_name "a"\): the key must be/],
    [`a:${shopKey}@${shop}/`, /entry 1 \(app_name "a"\): "https:\/\/shop.example\/" is not an origin as browsers send it/],
    [`a:${shopKey}@${shop}/path`, /not an origin/],
    [`a:${shopKey}@ftp://shop.example`, /not an origin/],
    [`a:${shopKey}@${shop}|`, /"" is not an origin/],
    [`a:${shopKey}@HTTPS://Shop.example`, /not an origin/],
    [`a:${shopKey}@${shop}, b:${shopKey}@${shop}`, /entry 2 \(app_name "b"\): its key is the key of entry 1 \(app_name "a"\) too/]
  ]
  for (const [value, reason] of cases) {
    const err = t.throws(() => loadConfig({ BROWSER_API_KEYS: value }), reason, value.replace(shopKey, '<key>')) as Error
    t.match(err.message, /^Invalid BROWSER_API_KEYS: /)
    t.notMatch(err.message, shopKey, 'the key is not in the message')
    t.notMatch(err.message, 'pk_with')
  }
  t.throws(() => loadConfig({ BROWSER_API_KEYS: `a:${ingestKey}@${shop}`, API_KEYS: ingestKey }), /entry 1 \(app_name "a"\): its key is also an ingest, read or admin key/)
  const config = loadConfig({ BROWSER_API_KEYS: `shop-web:${shopKey}@${shop}|http://localhost:8080\nblog:${blogKey}@https://blog.example` })
  t.same(config.browserKeys.map(k => [k.appName, [...k.origins]]), [['shop-web', [shop, 'http://localhost:8080']], ['blog', ['https://blog.example']]])
  t.notMatch(JSON.stringify(config), shopKey, 'the configuration holds digests, not keys')
})

t.test('BROWSER_RATE_LIMIT_PER_MINUTE=0 turns the limit off', async t => {
  const { base } = await collector(t, { BROWSER_RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_PER_MINUTE: '1' })
  const codes: number[] = []
  for (let i = 0; i < 3; i++) codes.push((await beacon(base, ndjson({ message: 'm' }))).status)
  t.same(codes, [200, 200, 200])
  const server = async (): Promise<number> => (await send(`${base}/logs`, { headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' }, body: ndjson({ message: 'm', app_name: 'x' }) })).status
  t.same([await server(), await server()], [200, 429], 'RATE_LIMIT_PER_MINUTE still holds for ingest keys')
})

t.test('BROWSER_API_KEYS_FILE: rotated on SIGHUP in a running collector; a bad file keeps the previous keys', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-browser-keys-'))
  const file = join(dir, 'browser-keys')
  writeFileSync(file, `shop-web:${shopKey}@${shop}\n`)
  t.throws(() => loadConfig({ BROWSER_API_KEYS_FILE: file, BROWSER_API_KEYS: `shop-web:${shopKey}@${shop}` }), /set BROWSER_API_KEYS or BROWSER_API_KEYS_FILE, not both/)
  const c = await startCollector(t, { env: { BROWSER_API_KEYS_FILE: file, CORS_ORIGINS: `${shop},https://new.example` } })
  const codes = async (key: string, origin = shop): Promise<number> => (await beacon(c.url, ndjson({ message: 'm' }), { key, origin })).status
  t.equal(await codes(shopKey), 200)
  const newKey = 'pk_shop_new_9b8c7d'
  writeFileSync(file, `shop-web:${newKey}@${shop}|https://new.example\n`)
  let from = c.output.length
  c.child.kill('SIGHUP')
  from = (await c.waitForLog({ msg: /API keys reloaded/, browserKeys: 1 }, from)).index + 1
  t.same([await codes(shopKey), await codes(newKey), await codes(newKey, 'https://new.example')], [401, 200, 200])

  // An origin outside CORS_ORIGINS: the reload is refused, naming it; the keys in force stay.
  writeFileSync(file, `shop-web:${newKey}@https://other.example\n`)
  c.child.kill('SIGHUP')
  const refused = await c.waitForLog({ msg: /API keys not reloaded/ }, from)
  t.match(String(refused.entry.reason), /Invalid BROWSER_API_KEYS_FILE: entry 1 \(app_name "shop-web"\): origin https:\/\/other.example is not in CORS_ORIGINS/)
  t.equal(await codes(newKey), 200)
  t.notMatch(c.output.join('\n'), newKey, 'no key in the collector\'s output')
  t.notMatch(c.output.join('\n'), shopKey)
  t.equal(await c.stop(), 0)
})
