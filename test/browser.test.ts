// @maap-event-logger/browser in real headless Chromium against the real collector (collector/dist/bin.js)
// with browser keys. The page comes from a loopback static server on one origin (http://127.0.0.1:P)
// and ships to the collector on another (http://localhost:C), so every request is cross-origin, as on a
// site whose collector lives elsewhere. The page imports the built package (dist/index.js as served
// modules) and pino's browser build (bundled to one ES module by esbuild, which the repo already has).
//
//   Chromium ── page from 127.0.0.1:P ──► collector at localhost:C ◄── the test reads GET /logs (admin key)
//            └─ page from 127.0.0.1:Q (an origin no key names): refused
//            └─ page → localhost:R, a proxy that answers a stored batch 503 once → the retry is stored once
import t from 'tap'
import { build } from 'esbuild'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFileSync } from 'node:fs'
import { join, normalize, resolve } from 'node:path'
import type { Browser, Page } from 'puppeteer-core'
import { launch } from '../collector/test/ui-browser'
import { poll, startCollector, type RunningCollector } from './support'

t.setTimeout(180_000)

const repo = resolve(__dirname, '..')
const dist = join(repo, 'transports', 'browser', 'dist')
const KEY = 'pk_shop_3f9a2c1d'
const ADMIN_KEY = 'admin-key-for-the-browser-test'
const INGEST_KEY = 'ingest-key-for-the-browser-test'

const PAGE = `<!doctype html><meta charset="utf-8"><title>shop</title>
<script type="module">
import * as maap from '/maap/index.js'
window.maap = maap
</script>`

let pino = ''
let browser: Browser
let collector: RunningCollector
/** The page's origin, the one the browser key is bound to. */
let allowed: string
/** Another page origin, named by no key. */
let stranger: string
/** The collector as the page reaches it: another origin (localhost, not 127.0.0.1). */
let collectorUrl: string

t.before(async () => {
  const bundle = await build({
    stdin: { contents: "export { default } from 'pino/browser.js'", resolveDir: repo, loader: 'js' },
    bundle: true, format: 'esm', write: false, platform: 'browser', logLevel: 'silent'
  })
  pino = bundle.outputFiles[0]!.text
  allowed = await serve(t, pageServer)
  stranger = await serve(t, pageServer)
  collector = await startCollector(t, {
    env: {
      BROWSER_API_KEYS: `shop-web:${KEY}@${allowed}`,
      API_KEYS: INGEST_KEY,
      ADMIN_API_KEY: ADMIN_KEY
    }
  })
  collectorUrl = `http://localhost:${collector.port}`
  browser = await launch(t)
})

/** The static pages: the test page, a page to navigate to, the package's dist, pino's browser build. */
function pageServer (req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  const send = (type: string, body: string | Buffer): void => { res.writeHead(200, { 'content-type': type }).end(body) }
  if (path === '/') return send('text/html', PAGE)
  if (path === '/next') return send('text/html', '<!doctype html><title>next</title>')
  if (path === '/pino.js') return send('text/javascript', pino)
  if (path.startsWith('/maap/')) {
    const file = normalize(join(dist, path.slice('/maap/'.length)))
    if (file.startsWith(dist + '/') && file.endsWith('.js')) return send('text/javascript', readFileSync(file))
  }
  res.writeHead(404).end()
}

async function serve (t: Tap.Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => { server.closeAllConnections(); server.close(resolve) }))
  const address = server.address() as { port: number }
  return `http://127.0.0.1:${address.port}`
}

async function openShop (t: Tap.Test, origin = allowed): Promise<Page> {
  const page = await browser.newPage()
  t.teardown(() => page.close())
  await page.goto(`${origin}/`, { waitUntil: 'domcontentloaded' })
  await page.waitForFunction('window.maap !== undefined')
  return page
}

interface StoredEvent { message: string, app_name: string, level: string, [k: string]: unknown }

/** Every stored event whose message starts with `prefix` (read with the admin key). */
async function stored (prefix: string): Promise<StoredEvent[]> {
  const res = await fetch(`${collector.url}/logs?limit=1000`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  if (res.status !== 200) throw new Error(`GET /logs answered ${res.status}: ${await res.text()}`)
  const { events } = await res.json() as { events: StoredEvent[] }
  return events.filter(e => e.message.startsWith(prefix))
}

/** maap_events_rejected_total{reason="origin_refused"}, summed over routes, from /metrics. */
async function refusedOrigins (): Promise<number> {
  const res = await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text}`)
  let n = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('maap_events_rejected_total{') && line.includes('reason="origin_refused"')) n += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return n
}

async function storedAtLeast (prefix: string, n: number): Promise<StoredEvent[]> {
  return await poll(async () => { const e = await stored(prefix); return e.length >= n ? e : undefined }, 100)
}

t.test('a page logs, then navigates away: what was buffered arrives by beacon, with its app_name, once', async t => {
  const page = await openShop(t)
  await page.evaluate(async (url: string, key: string) => {
    const w = window as any
    // An hour's interval: nothing leaves before the page does.
    const log = w.maap.createLogger({ url, key, appName: 'shop-web', flushInterval: 3_600_000, fields: { release: '1.4.2' } })
    log.info('unload one')
    log.child({ step: 'pay' }).warn({ cart: 3 }, 'unload two')
    log.error(new Error('unload three'))
    w.statsBefore = log.stats()
  }, collectorUrl, KEY)
  t.match(await page.evaluate('window.statsBefore'), { buffered: 3, sent: 0 }, 'still buffered when the page goes')
  await page.goto(`${allowed}/next`, { waitUntil: 'domcontentloaded' })
  const events = await storedAtLeast('unload ', 3)
  t.same(events.map(e => e.message).sort(), ['unload one', 'unload three', 'unload two'])
  t.ok(events.every(e => e.app_name === 'shop-web' && e.release === '1.4.2'), 'app_name and fields arrive')
  t.match(events.find(e => e.message === 'unload two'), { level: 'WARNING', step: 'pay', cart: 3 })
  t.match(events.find(e => e.message === 'unload three'), { level: 'ERROR', err: { name: 'Error', stack: /unload three/ } })
})

t.test('pino\'s browser build with maapTransmit delivers, and flush() waits for the collector', async t => {
  const page = await openShop(t)
  const stats = await page.evaluate(async (url: string, key: string) => {
    const w = window as any
    const { default: pino } = await import('/pino.js' as string)
    const maap = w.maap.createLogger({ url, key, appName: 'shop-web' })
    const logger = pino({ level: 'debug', browser: { write: () => {}, transmit: w.maap.maapTransmit(maap) } })
    logger.child({ view: 'cart' }).info({ items: 2 }, 'pino cart shown')
    logger.debug('pino debug line')
    await maap.flush()
    return maap.stats()
  }, collectorUrl, KEY)
  t.match(stats, { sent: 2, rejected: 0, retried: 0, buffered: 0 })
  const events = await stored('pino ')
  t.same(events.map(e => e.message).sort(), ['pino cart shown', 'pino debug line'], 'acknowledged means readable')
  t.match(events.find(e => e.message === 'pino cart shown'), { app_name: 'shop-web', level: 'INFO', view: 'cart', items: 2 })
})

t.test('a page from an origin no key names is refused: the fetch fails, nothing is stored', async t => {
  const before = await refusedOrigins()
  const page = await openShop(t, stranger)
  const raw = await page.evaluate(async (url: string, key: string) => {
    try {
      const res = await fetch(`${url}/logs?key=${key}`, { method: 'POST', body: '{"message":"stranger raw"}\n', headers: { 'content-type': 'text/plain' } })
      return `answered ${res.status}`
    } catch (err) {
      return `failed: ${(err as Error).name}`
    }
  }, collectorUrl, KEY)
  t.equal(raw, 'failed: TypeError', 'no CORS headers: the page cannot read the 403')
  await page.evaluate(async (url: string, key: string) => {
    const w = window as any
    w.log = w.maap.createLogger({ url, key, appName: 'shop-web', flushInterval: 10 })
    w.log.info('stranger logged')
  }, collectorUrl, KEY)
  const stats = await poll(async () => {
    const s = await page.evaluate('window.log.stats()') as { retried: number }
    return s.retried >= 1 ? s : undefined
  }, 100)
  t.match(stats, { sent: 0, buffered: 1, lastError: /^no answer/ }, 'the logger keeps it and tries again, as for any network error')
  t.ok(await refusedOrigins() >= before + 2, 'the collector counted the refusals (the raw fetch and the logger\'s)')
  t.same(await stored('stranger'), [], 'nothing stored')
})

t.test('the browser key may not read (and the page gets no CORS to read any answer but ingest\'s), nor send another app\'s events', async t => {
  const page = await openShop(t)
  const answers = await page.evaluate(async (url: string, key: string) => {
    const answer = async (sent: Promise<Response>): Promise<string> => {
      try {
        const res = await sent
        return `${res.status} ${String((await res.json()).code)}`
      } catch (err) {
        return `failed: ${(err as Error).name}`
      }
    }
    return {
      readByQuery: await answer(fetch(`${url}/logs?key=${key}`)),
      readByBearer: await answer(fetch(`${url}/logs`, { headers: { authorization: `Bearer ${key}` } })),
      status: await answer(fetch(`${url}/status?key=${key}`)),
      otherApp: await answer(fetch(`${url}/logs?key=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{"message":"other app ok"}\n{"message":"other app evil","app_name":"billing"}\n'
      }))
    }
  }, collectorUrl, KEY)
  t.same(answers, {
    readByQuery: 'failed: TypeError',
    readByBearer: 'failed: TypeError',
    status: 'failed: TypeError',
    otherApp: '403 MAAP_BROWSER_KEY_APP'
  }, 'a browser key\'s origin gets CORS on POST /logs and /log alone')
  // What the page could not read: the collector refused the key there.
  const read = await new Promise<{ status: number, cors: unknown, body: string }>((resolve, reject) => {
    request(`${collector.url}/logs?key=${KEY}`, { headers: { origin: allowed } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', c => { body += c }).on('end', () => resolve({ status: res.statusCode!, cors: res.headers['access-control-allow-origin'], body }))
    }).on('error', reject).end()
  })
  t.match(read, { status: 403, cors: undefined, body: /"code":"MAAP_BROWSER_KEY_SCOPE"/ })
  t.same(await stored('other app'), [], 'the whole request refused: its good event too')
})

t.test('a 429 from the collector: the page reads its Retry-After, and the logger waits that long before trying again', async t => {
  // A collector of its own, one browser-key request a minute: the second batch is answered 429.
  const limited = await startCollector(t, {
    env: { BROWSER_API_KEYS: `shop-web:${KEY}@${allowed}`, BROWSER_RATE_LIMIT_PER_MINUTE: '1', ADMIN_API_KEY: ADMIN_KEY }
  })
  const url = `http://localhost:${limited.port}`
  const page = await openShop(t)
  await page.evaluate(async (url: string, key: string) => {
    const w = window as any
    // The page's timers, as the logger asks for them (the logger looks setTimeout up on each call).
    w.waits = []
    const realSetTimeout = window.setTimeout.bind(window)
    w.setTimeout = (fn: () => void, ms: number) => { w.waits.push(ms); return realSetTimeout(fn, ms) }
    w.limited = w.maap.createLogger({ url, key, appName: 'shop-web', flushInterval: 10 })
    w.limited.info('limited first')
    await w.limited.flush()
    w.limited.info('limited second')
    void w.limited.flush()
  }, url, KEY)
  const stats = await poll(async () => {
    const s = await page.evaluate('window.limited.stats()') as { retried: number }
    return s.retried >= 1 ? s : undefined
  }, 100)
  t.match(stats, { sent: 1, buffered: 1, lastError: /^429 MAAP_RATE_LIMITED/ })
  // After the logger's 429, one more request from the page: its Retry-After can only be the same or less.
  const seen = await page.evaluate(async (url: string, key: string) => {
    const res = await fetch(`${url}/logs?key=${key}`, { method: 'POST', body: '{"message":"limited raw"}\n', headers: { 'content-type': 'text/plain' } })
    return { status: res.status, retryAfter: res.headers.get('retry-after'), waits: (window as any).waits as number[] }
  }, url, KEY)
  t.equal(seen.status, 429)
  t.match(seen.retryAfter, /^\d+$/, 'Retry-After is readable cross-origin (Access-Control-Expose-Headers)')
  const retryAfterMs = Number(seen.retryAfter) * 1000
  t.ok(retryAfterMs >= 1000, `Retry-After ${seen.retryAfter} s`)
  t.ok(Math.max(...seen.waits) >= retryAfterMs, `the logger waits ${Math.max(...seen.waits)} ms before its retry, not its own backoff (${seen.waits.join(', ')})`)
  const res = await fetch(`${limited.url}/logs?limit=10`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  t.same(((await res.json()) as { events: StoredEvent[] }).events.map(e => e.message), ['limited first'], 'the second waits its turn')
})

t.test('a batch answered 503 after it was stored is retried under its batch id and stored once', async t => {
  let cut = 0
  const proxyUrl = await serve(t, (req, res) => {
    const upstream = request(`${collector.url}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, answer => {
      // The first batch reaches the collector and is journaled; its answer is lost on the way back.
      if (req.method === 'POST' && cut++ === 0) {
        answer.resume()
        answer.once('end', () => res.writeHead(503, {
          'access-control-allow-origin': String(req.headers.origin), 'retry-after': '0', 'content-type': 'application/json'
        }).end('{"code":"MAAP_OVERLOADED","message":"the answer was lost"}'))
        return
      }
      res.writeHead(answer.statusCode!, answer.headers)
      answer.pipe(res)
    })
    req.pipe(upstream)
  })
  const page = await openShop(t)
  const stats = await page.evaluate(async (url: string, key: string) => {
    const log = (window as any).maap.createLogger({ url, key, appName: 'shop-web' })
    log.info('retried once')
    await log.flush()
    return log.stats()
  }, proxyUrl.replace('127.0.0.1', 'localhost'), KEY)
  t.match(stats, { sent: 1, retried: 1, lastError: /^503 MAAP_OVERLOADED/ })
  t.equal(cut, 2, 'two attempts reached the collector')
  t.equal((await stored('retried once')).length, 1, 'stored once')
})
