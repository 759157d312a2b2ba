// CORS_ORIGINS and preflights: a real collector on loopback, asked as browsers ask (OPTIONS with
// Access-Control-Request-Method, then the request with Origin).
import t from 'tap'
import { request, type IncomingHttpHeaders } from 'node:http'
import { loadConfig } from '@maap-event-logger/collector'
import { buildTestApp, listen } from './helpers'

const shopKey = 'pk_shop_3f9a2c1d'
const shop = 'https://shop.example'
const keys = `shop-web:${shopKey}@${shop}|https://www.shop.example`

interface Answer { status: number, headers: IncomingHttpHeaders, text: string }

async function send (url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', chunk => { text += chunk }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
    }).on('error', reject)
    req.end(body)
  })
}

const preflight = async (base: string, origin: string, path = '/logs'): Promise<Answer> => await send(`${base}${path}`, 'OPTIONS', {
  origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key'
})

t.test('a preflight from an allowed origin: 204 with the methods, headers and max-age, never credentials', async t => {
  const { app } = await buildTestApp(t, { BROWSER_API_KEYS: keys })
  const base = await listen(app)
  for (const path of ['/logs', `/logs?key=${shopKey}&batch=b1`, '/log']) {
    const res = await preflight(base, 'https://www.shop.example', path)
    t.equal(res.status, 204, path)
    t.equal(res.text, '')
    t.match(res.headers, {
      'access-control-allow-origin': 'https://www.shop.example',
      vary: 'Origin',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, content-encoding, idempotency-key, last-event-id',
      'access-control-max-age': '600'
    })
    t.equal(res.headers['access-control-allow-credentials'], undefined)
  }
})

t.test('a browser key\'s origin is allowed cross-origin on POST /logs and /log alone', async t => {
  const { app } = await buildTestApp(t, { BROWSER_API_KEYS: keys })
  const base = await listen(app)
  // Preflights for anything else: refused, saying why.
  for (const [method, path] of [['POST', '/logs/tail'], ['GET', '/logs'], ['POST', '/force-flush'], ['POST', '/v1/logs'], ['GET', '/status']]) {
    const res = await send(`${base}${path}`, 'OPTIONS', { origin: shop, 'access-control-request-method': method! })
    t.equal(res.status, 403, `${method} ${path}`)
    t.match(JSON.parse(res.text), { code: 'MAAP_ORIGIN_REFUSED', message: /is a browser key's: it is allowed cross-origin on POST \/logs and \/log alone/ })
    t.equal(res.headers['access-control-allow-origin'], undefined)
    t.equal(res.headers['access-control-allow-methods'], undefined)
  }
  // Answers of other routes carry no CORS header: a page there cannot read them.
  for (const path of ['/health', '/logs', `/logs?key=${shopKey}`, '/status', '/metrics']) {
    const res = await send(`${base}${path}`, 'GET', { origin: shop })
    t.equal(res.headers['access-control-allow-origin'], undefined, `GET ${path}`)
    t.equal(res.headers['access-control-expose-headers'], undefined)
    t.equal(res.headers.vary, 'Origin', 'the answer depends on Origin all the same')
  }
  const sent = await send(`${base}/logs?key=${shopKey}`, 'POST', { origin: shop, 'content-type': 'text/plain' }, '{"message":"m"}\n')
  t.equal(sent.status, 200)
  t.match(sent.headers, { 'access-control-allow-origin': shop, 'access-control-expose-headers': 'retry-after, idempotent-replayed', vary: 'Origin' })
})

t.test('an origin not allowed: its preflight is a 403, its requests get no CORS header, but Vary: Origin', async t => {
  const { app } = await buildTestApp(t, { BROWSER_API_KEYS: keys })
  const base = await listen(app)
  for (const origin of ['https://evil.example', 'https://shop.example.evil.example', 'http://shop.example', 'null']) {
    const res = await preflight(base, origin)
    t.equal(res.status, 403, origin)
    t.match(JSON.parse(res.text), { code: 'MAAP_ORIGIN_REFUSED', message: /is not allowed cross-origin here \(CORS_ORIGINS\)/ })
    t.equal(res.headers['access-control-allow-origin'], undefined)
    t.equal(res.headers['access-control-allow-methods'], undefined)
    t.equal(res.headers.vary, 'Origin')
  }
  const evil = await send(`${base}/logs?key=${shopKey}`, 'POST', { origin: 'https://evil.example', 'content-type': 'text/plain' }, '{"message":"m"}\n')
  t.equal(evil.status, 403)
  t.equal(evil.headers['access-control-allow-origin'], undefined)
  t.equal(evil.headers.vary, 'Origin', 'a cache must not serve this answer to an allowed origin')
  const none = await send(`${base}/health`, 'GET', {})
  t.equal(none.headers['access-control-allow-origin'], undefined, 'no Origin, no CORS header')
  t.equal(none.headers.vary, undefined)
  // OPTIONS that is not a preflight is what it always was: no route.
  const plain = await send(`${base}/logs`, 'OPTIONS', {})
  t.equal(plain.status, 404)
  t.match(JSON.parse(plain.text), { code: 'MAAP_NOT_FOUND', message: /no route OPTIONS "\/logs"/ })
  t.equal((await send(`${base}/logs`, 'OPTIONS', { origin: shop })).status, 404, 'without Access-Control-Request-Method')
})

t.test('Vary: Origin is added to what an answer already varies on, never replacing it', async t => {
  const { app } = await buildTestApp(t, { BROWSER_API_KEYS: keys, CORS_ORIGINS: `${shop},https://www.shop.example,https://dash.example` })
  app.get('/varied', async (request, reply) => await reply.header('vary', (request.query as { v: string }).v).send('ok'))
  app.get('/varied-list', async (_request, reply) => await reply.header('vary', ['Accept-Encoding', 'Accept-Language']).send('ok'))
  const vary = async (v: string, origin: string): Promise<unknown> =>
    (await app.inject({ method: 'GET', url: `/varied?v=${encodeURIComponent(v)}`, headers: { origin } })).headers.vary
  t.equal(await vary('Accept-Encoding', 'https://dash.example'), 'Accept-Encoding, Origin')
  t.equal(await vary('Accept-Encoding', 'https://evil.example'), 'Accept-Encoding, Origin', 'allowed or not')
  t.equal(await vary('accept-encoding, origin', 'https://dash.example'), 'accept-encoding, origin', 'once')
  t.equal(await vary('*', 'https://dash.example'), '*')
  t.equal((await app.inject({ method: 'GET', url: '/varied-list', headers: { origin: 'https://dash.example' } })).headers.vary, 'Accept-Encoding, Accept-Language, Origin')
  const res = await app.inject({ method: 'GET', url: '/varied?v=Accept', headers: { origin: 'https://dash.example' } })
  t.equal(res.headers['access-control-allow-origin'], 'https://dash.example', 'a dashboard origin: every route')
})

t.test('CORS_ORIGINS: defaults to the browser keys\' origins; when set, it is the list, and must hold every key origin', async t => {
  t.same(loadConfig({ BROWSER_API_KEYS: keys }).corsOrigins, undefined)
  const config = loadConfig({ BROWSER_API_KEYS: keys, CORS_ORIGINS: `${shop}, https://www.shop.example,https://dash.example` })
  t.same(config.corsOrigins, [shop, 'https://www.shop.example', 'https://dash.example'])
  t.throws(() => loadConfig({ BROWSER_API_KEYS: keys, CORS_ORIGINS: shop }),
    /Invalid BROWSER_API_KEYS: entry 1 \(app_name "shop-web"\): origin https:\/\/www.shop.example is not in CORS_ORIGINS/)
  t.throws(() => loadConfig({ CORS_ORIGINS: 'https://dash.example/' }), /Invalid CORS_ORIGINS: "https:\/\/dash.example\/" is not an origin as browsers send it/)
  t.throws(() => loadConfig({ CORS_ORIGINS: '*' }), /Invalid CORS_ORIGINS: "\*" is not an origin/)

  // An origin of CORS_ORIGINS with no browser key: cross-origin reads with a read key, say from a dashboard.
  const readKey = 'read-key-0123456789'
  const { app } = await buildTestApp(t, { BROWSER_API_KEYS: keys, CORS_ORIGINS: `${shop},https://www.shop.example,https://dash.example`, READ_API_KEYS: readKey })
  const base = await listen(app)
  t.equal((await preflight(base, 'https://dash.example', '/logs')).status, 204)
  const read = await send(`${base}/logs`, 'GET', { origin: 'https://dash.example', authorization: `Bearer ${readKey}` })
  t.equal(read.status, 200)
  t.equal(read.headers['access-control-allow-origin'], 'https://dash.example')
  // A browser key's origin gets no more for being in CORS_ORIGINS: ingest alone.
  t.equal((await preflight(base, shop, '/logs')).status, 204)
  t.equal((await send(`${base}/logs`, 'OPTIONS', { origin: shop, 'access-control-request-method': 'GET' })).status, 403)
  const readFromShop = await send(`${base}/logs`, 'GET', { origin: shop, authorization: `Bearer ${readKey}` })
  t.equal(readFromShop.status, 200)
  t.equal(readFromShop.headers['access-control-allow-origin'], undefined)
  // A browser key is still held to its own origins, whatever CORS_ORIGINS allows.
  const beacon = await send(`${base}/logs?key=${shopKey}`, 'POST', { origin: 'https://dash.example', 'content-type': 'text/plain' }, '{"message":"m"}\n')
  t.equal(beacon.status, 403)
  t.equal(beacon.headers['access-control-allow-origin'], 'https://dash.example')
})
