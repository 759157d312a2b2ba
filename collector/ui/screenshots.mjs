// npm run screenshots — the web page in light and dark, on a collector holding a few hundred made-up
// events of the last hour, into docs/screenshots/{light,dark}.png, and the search box completing a field
// name and refusing a query, into docs/screenshots/{completion,query-error}.png, and alerts: the alerts view
// with an alert's history, into docs/screenshots/alerts.png, and the "Alert on this search" form, into
// docs/screenshots/alert-form.png (the README shows them).
import puppeteer from 'puppeteer-core'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, loadConfig } from '../dist/index.js'
import { FileDefinitionStore } from '../dist/alerts/store-file.js'
import { serviceLogDir } from '../dist/journal/worker-dirs.js'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', '..', 'docs', 'screenshots')
mkdirSync(out, { recursive: true })
const dir = mkdtempSync(join(tmpdir(), 'maap-shots-'))
const app = await build(loadConfig({ LOG_DIR: dir, PUBLIC_URL: 'https://logs.example.com' }))
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
  await page.close()
  await alertShots(browser)
} finally {
  await browser.close()
  await app.close()
  rmSync(dir, { recursive: true, force: true })
}

/** An alert on the API's 5xx with two notifications in its history, as the alert pipeline records them. */
async function alertShots (browser) {
  const json = { 'content-type': 'application/json' }
  const made = await fetch(`${base}/alerts`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({
      name: 'payments timeouts',
      query: 'app_name = api and level >= ERROR and message contains timeout',
      condition: { type: 'each' },
      channels: [{ type: 'webhook', url: 'https://ops.example.com/hooks/maap', secret: 'made-up-secret' },
        { type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXX' }],
      group_window: '30s',
      sample: 10
    })
  }).then(r => r.json())
  await fetch(`${base}/alerts`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({
      name: 'worker went quiet',
      query: 'app_name = worker',
      condition: { type: 'count', below: 1, window: '10m' },
      channels: [{ type: 'webhook', url: 'https://ops.example.com/hooks/maap' }],
      enabled: false
    })
  })
  const store = new FileDefinitionStore(serviceLogDir(dir))
  const [alert] = (await store.listAlerts()).filter(a => a.id === made.id)
  const errors = events.filter(e => e.app_name === 'api' && e.level === 'error').slice(0, 12)
  const sample = errors.map((e, i) => ({ _id: `66a1b2c3d4e5f6a7b8c9d0${String(i).padStart(2, '0')}`, timestamp: e.timestamp, received_at: e.timestamp, level: 'ERROR', app_name: e.app_name, message: e.message }))
  const note = (id, state, ev, createdAt, deliveries) => store.recordNotification({
    id, alert_id: alert.id, alert_name: alert.name, revision: alert.revision, state, condition: { type: 'each' }, count: ev.length,
    events: ev.slice(0, 3), link: `https://logs.example.com/?query=${encodeURIComponent(alert.query)}`,
    range: { from: ev[ev.length - 1].received_at, to: ev[0].received_at }, created_at: createdAt, channels: alert.channels, deliveries
  })
  await note('n-2', 'firing', sample.slice(0, 7), new Date(now - 120_000).toISOString(), [
    { channel: 0, type: 'webhook', status: 'delivered', attempts: 1, last_error: null, delivered_at: new Date(now - 119_000).toISOString() },
    { channel: 1, type: 'slack', status: 'retrying', attempts: 3, last_error: '503 Service Unavailable', delivered_at: null }])
  await note('n-1', 'firing', sample.slice(7), new Date(now - 1_800_000).toISOString(), [
    { channel: 0, type: 'webhook', status: 'delivered', attempts: 2, last_error: null, delivered_at: new Date(now - 1_790_000).toISOString() },
    { channel: 1, type: 'slack', status: 'delivered', attempts: 1, last_error: null, delivered_at: new Date(now - 1_799_000).toISOString() }])
  await store.close()

  const page = await browser.newPage()
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
  await page.goto(`${base}/?from=1h#alerts`, { waitUntil: 'domcontentloaded' })
  await page.waitForFunction(() => document.body.dataset.alerts === '2')
  await page.click(`.acard[data-id="${alert.id}"] .hist`)
  await page.waitForFunction(id => document.querySelector(`.acard[data-id="${id}"]`)?.dataset.history === '2', {}, alert.id)
  await page.screenshot({ path: join(out, 'alerts.png'), fullPage: true })
  console.log('wrote', join(out, 'alerts.png'))

  await page.goto(`${base}/?from=1h&app_name=api&level=ERROR&query=${encodeURIComponent('message contains timeout')}`, { waitUntil: 'domcontentloaded' })
  await page.waitForFunction(() => document.body.dataset.state === 'ready')
  await page.click('#alerton')
  await page.click('#alertform [name="name"]', { clickCount: 3 })
  await page.keyboard.type('api timeouts')
  await page.click('#add-webhook')
  await page.keyboard.type('https://ops.example.com/hooks/maap')
  await page.type('#channels .ch-webhook [data-part="secret"]', 'made-up-secret')
  await page.click('#add-slack')
  await page.keyboard.type('https://hooks.slack.com/services/T000/B000/XXXX')
  await page.click('#add-email')
  await page.keyboard.type('oncall@example')
  await page.click('#alertform button[type="submit"]')
  await page.waitForSelector('#alerterror:not([hidden])') // no SMTP_URL here: the form says so, next to the channel
  await page.screenshot({ path: join(out, 'alert-form.png') })
  console.log('wrote', join(out, 'alert-form.png'))
  await page.close()
}
