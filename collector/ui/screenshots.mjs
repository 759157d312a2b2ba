// npm run screenshots — the web page in light and dark, on a collector holding a few hundred made-up
// events of the last hour, into docs/screenshots/{light,dark}.png, and the search box completing a field
// name and refusing a query, into docs/screenshots/{completion,query-error}.png (the README shows them).
import puppeteer from 'puppeteer-core'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, loadConfig } from '../dist/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', '..', 'docs', 'screenshots')
mkdirSync(out, { recursive: true })
const dir = mkdtempSync(join(tmpdir(), 'maap-shots-'))
const app = await build(loadConfig({ LOG_DIR: dir }))
await app.listen({ port: 0, host: '127.0.0.1' })
const base = `http://127.0.0.1:${app.server.address().port}`

const apps = ['api', 'web', 'worker', 'billing']
const routes = ['/api/orders', '/api/users/42', '/api/cart', '/health', '/api/search?q=shoes']
const now = Date.now()
const events = []
for (let i = 0; i < 900; i++) {
  const wave = Math.sin(i / 90) * 0.5 + 0.5
  const r = (i * 7919) % 100
  const level = r < 4 ? 'error' : r < 12 ? 'warn' : r < 30 ? 'debug' : r === 99 ? 'fatal' : 'info'
  const app_name = apps[(i * 31) % apps.length]
  const route = routes[i % routes.length]
  const ms = 3 + ((i * 37) % 240)
  const message = level === 'error'
    ? `upstream timeout after 5000 ms calling payments (${route})`
    : level === 'warn' ? `slow query on orders: ${ms * 4} ms` : level === 'fatal' ? 'out of memory: worker restarting'
      : `GET ${route} → 200 in ${ms} ms`
  events.push({
    timestamp: new Date(now - Math.floor((i + (1 - wave) * 40) * 3900)).toISOString(),
    level, app_name, message,
    hostname: 'web-01', pid: 3100 + (i % 4),
    req: { id: `req-${(100000 + i * 13).toString(36)}`, method: 'GET', url: route },
    res: { statusCode: level === 'error' ? 504 : 200 },
    responseTime: ms
  })
}
await fetch(`${base}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) })

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'], defaultViewport: { width: 1360, height: 860, deviceScaleFactor: 1 } })
try {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage()
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }])
    await page.goto(`${base}/?from=1h&query=${encodeURIComponent('app_name in (api, web) and not req.url = /health')}`, { waitUntil: 'domcontentloaded' })
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.body.dataset.histogram === 'drawn')
    await page.click('#results .row:nth-child(3) .row-head')
    await page.waitForSelector('#results .row.open .json')
    await page.hover('#results .row.open .jv[data-path="req.method"]') // a value shows it can be clicked
    await page.screenshot({ path: join(out, `${scheme}.png`) })
    await page.close()
    console.log('wrote', join(out, `${scheme}.png`))
  }
  // The top of the page only: the box, and what opens under it.
  const clip = { x: 0, y: 0, width: 900, height: 250 }
  const page = await browser.newPage()
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
  await page.goto(`${base}/?from=1h`, { waitUntil: 'domcontentloaded' })
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.body.dataset.histogram === 'drawn')
  await page.click('#q')
  await page.keyboard.type('level >= WARNING and re')
  await page.waitForFunction(() => document.body.dataset.completion === 'open')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  await page.screenshot({ path: join(out, 'completion.png'), clip })
  console.log('wrote', join(out, 'completion.png'))
  await page.keyboard.press('Escape')
  await page.click('#q', { clickCount: 3 })
  await page.keyboard.type('res.statusCode >= 500 and not req.url = "/health')
  await page.keyboard.press('Enter')
  await page.waitForSelector('#qerror:not([hidden])')
  await page.screenshot({ path: join(out, 'query-error.png'), clip })
  console.log('wrote', join(out, 'query-error.png'))
} finally {
  await browser.close()
  await app.close()
  rmSync(dir, { recursive: true, force: true })
}
