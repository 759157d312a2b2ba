// Saved searches and alerts on the web page, in real headless Chromium against a real collector (embedded
// mode, port 0) and a real HTTP receiver on loopback: Save and the saved-search list (apply into the URL,
// rename, delete, a taken name refused under the form); "Alert on this search" (a refused field and a
// query that does not parse shown at the form, then made; GET /alerts has it); the alerts view (disable
// and enable keep the webhook's URL and secret, history shows notifications with their events, deliveries
// and link, delete after a confirm step); with keys, the admin key asked for and kept apart from the read
// key; and no console error beyond the refusals asked for on purpose.
import t from 'tap'
import { serviceLogDir } from '../src/journal/worker-dirs'
import { FileDefinitionStore } from '../src/alerts/store-file'
import { poll } from '../../test/support'
import { receiver } from './alerts-receivers'
import { contextPerTest, messages, openPage, post, startCollector, type WatchedPage } from './ui-browser'

/** One Chromium for the file, a context of its own for each test. */
const newContext = contextPerTest(t)

const now = Date.now()
// 40 events in the last hour: apps alternate, every 4th an error.
const stored = Array.from({ length: 40 }, (_, i) => ({
  timestamp: new Date(now - 60_000 - i * 10_000).toISOString(),
  level: i % 4 === 0 ? 'error' : 'info',
  app_name: i % 2 === 0 ? 'payments' : 'api',
  message: `event ${i}`
}))

async function settled (w: WatchedPage): Promise<void> {
  await w.page.waitForFunction(() => document.body.dataset.state === 'ready' && !document.body.classList.contains('busy'))
}

async function rows (w: WatchedPage): Promise<number> {
  return Number(await w.page.evaluate(() => document.body.dataset.rows ?? '0'))
}

async function getJson<T> (url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers })
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`)
  return await res.json() as T
}

interface Search { id: string, name: string, query: string }
interface AlertAnswer { id: string, name: string, query: string, enabled: boolean, condition: Record<string, unknown>, channels: Array<Record<string, unknown>> }

t.test('saved searches: save, apply from the list, rename, delete', async t => {
  const c = await startCollector(t)
  await post(c.base, stored)
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/?app_name=payments&level=ERROR`)
  const { page } = w
  await settled(w)
  const saved = async (): Promise<Search[]> => (await getJson<{ searches: Search[] }>(`${c.base}/searches`)).searches

  t.test('Save keeps the page\'s filters as one query', async t => {
    await page.click('#save')
    await page.waitForSelector('#saveform:not([hidden])')
    t.equal(await page.$eval('#savequery', e => e.textContent), 'app_name = payments and level >= ERROR', 'the app and level folded in')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'savename')
    await page.keyboard.type('payments errors')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.body.dataset.savedSearch === 'payments errors')
    t.ok(await page.$eval('#saveform', e => (e as HTMLFormElement).hidden), 'the form closes')
    t.same((await saved()).map(s => [s.name, s.query]), [['payments errors', 'app_name = payments and level >= ERROR']])
  })

  t.test('a taken name is refused under the form', async t => {
    await page.click('#save')
    await page.keyboard.type('payments errors')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#saveerror:not([hidden])')
    t.match(await page.$eval('#saveerror', e => e.textContent ?? ''), /exists already.*the name is taken/)
    t.equal(await page.$eval('#savename', e => e.getAttribute('aria-invalid')), 'true')
    await page.keyboard.press('Escape')
    await page.waitForSelector('#saveform', { hidden: true })
    t.equal((await saved()).length, 1)
  })

  t.test('the list applies one: into the URL, the results follow', async t => {
    await page.goto(`${c.base}/?from=1h`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    t.equal(await rows(w), 40)
    await page.click('#savedbtn')
    await page.waitForFunction(() => document.body.dataset.saved === '1')
    t.same(await page.$$eval('#savedlist .sname', els => els.map(e => e.textContent)), ['payments errors'])
    await page.click('#savedlist .use')
    await page.waitForFunction(() => new URLSearchParams(location.search).get('query') === 'app_name = payments and level >= ERROR')
    await settled(w)
    t.equal(await page.evaluate(() => location.search), `?query=${new URLSearchParams({ q: 'app_name = payments and level >= ERROR' }).toString().slice(2)}&from=1h`, 'the time range stays')
    t.equal(await page.$eval('#q', e => (e as HTMLInputElement).value), 'app_name = payments and level >= ERROR', 'the box shows it')
    const want = stored.filter(e => e.app_name === 'payments' && e.level === 'error').map(e => e.message)
    t.same(await messages(page), want)
    t.ok(await page.$eval('#savedpanel', e => e.hidden), 'the list closes')
  })

  t.test('rename in place', async t => {
    await page.click('#savedbtn')
    await page.waitForFunction(() => document.body.dataset.saved === '1')
    await page.click('#savedlist .rename')
    await page.waitForSelector('#savedlist .srename input')
    await page.keyboard.type('payments: errors')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.querySelector('#savedlist .sname')?.textContent === 'payments: errors')
    t.same((await saved()).map(s => [s.name, s.query]), [['payments: errors', 'app_name = payments and level >= ERROR']], 'the query kept')
  })

  t.test('delete after a confirm step', async t => {
    await page.click('#savedlist .delete')
    await page.waitForSelector('#savedlist .confirm')
    t.match(await page.$eval('#savedlist .confirm', e => e.textContent ?? ''), /Delete "payments: errors"\?/)
    await page.click('#savedlist .confirm .cancel')
    await page.waitForSelector('#savedlist .use')
    t.equal((await saved()).length, 1, 'cancel keeps it')
    await page.click('#savedlist .delete')
    await page.click('#savedlist .confirm .yes')
    await page.waitForFunction(() => document.body.dataset.saved === '0')
    t.match(await page.$eval('#savedmsg', e => e.textContent ?? ''), /No saved searches yet/)
    t.same(await saved(), [])
  })

  t.test('an older link\'s q / f.<field> cannot be saved until its chips are removed', async t => {
    await page.goto(`${c.base}/?q=event&f.app_name=api`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    t.ok(await page.$eval('#save', e => (e as HTMLButtonElement).disabled), 'Save disabled')
    t.ok(await page.$eval('#alerton', e => (e as HTMLButtonElement).disabled), 'Alert disabled')
    await page.click('#filters .fchip')
    await page.waitForFunction(() => location.search === '?f.app_name=api')
    t.ok(await page.$eval('#save', e => (e as HTMLButtonElement).disabled), 'still disabled with one left')
    await page.click('#filters .fchip')
    await page.waitForFunction(() => location.search === '')
    t.notOk(await page.$eval('#save', e => (e as HTMLButtonElement).disabled), 'Save enabled again')
  })

  t.test('no console errors but the refused name', async t => {
    t.same(w.problems.filter(p => !/status of 409/.test(p)), [])
  })
})

t.test('alerts: made from the search, shown, disabled and enabled, history, deleted', async t => {
  const c = await startCollector(t, { PUBLIC_URL: 'https://logs.example' })
  await post(c.base, stored)
  const hook = await receiver(t) // the address the form is given; no event of this test matches the alert
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/?query=${encodeURIComponent('message contains boom')}&app_name=payments`)
  const { page } = w
  await settled(w)
  const list = async (): Promise<AlertAnswer[]> => (await getJson<{ alerts: AlertAnswer[] }>(`${c.base}/alerts`)).alerts
  const retype = async (selector: string, text: string): Promise<void> => {
    await page.click(selector, { clickCount: 3 })
    await page.keyboard.press('Backspace')
    await page.keyboard.type(text)
  }
  const QUERY = 'app_name = payments and (message contains boom)'
  let id = ''

  t.test('the form starts from the search; the collector\'s refusals are shown at it', async t => {
    await page.click('#alerton')
    await page.waitForFunction(() => (document.getElementById('alertdialog') as HTMLDialogElement).open)
    t.equal(await page.$eval('#alertform [name="query"]', e => (e as HTMLTextAreaElement).value), QUERY)
    await retype('#alertform [name="name"]', 'payments boom')
    await page.click('#add-webhook')
    await page.keyboard.type('ftp://ops.example/hook') // the URL input has the focus
    await page.click('#alertform button[type="submit"]')
    await page.waitForSelector('#alerterror:not([hidden])')
    t.match(await page.$eval('#alerterror', e => e.textContent ?? ''), /^channels\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/)
    t.equal(await page.$eval('#channels [data-part="url"]', e => e.getAttribute('aria-invalid')), 'true', 'the field it names is marked')
    t.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.field), 'channels.0.url', 'and focused')

    await retype('#channels [data-part="url"]', hook.url)
    await page.type('#channels [data-part="secret"]', 'hook-secret-1')
    await retype('#alertform [name="query"]', 'app_name = payments and')
    await page.click('#alertform button[type="submit"]')
    await page.waitForFunction(() => document.getElementById('alertform')!.dataset.error === 'query')
    t.match(await page.$eval('#alerterror', e => e.textContent ?? ''), /^query: .* at 24$/)
    t.equal(await page.$eval('#alertform [name="query"]', e => e.getAttribute('aria-invalid')), 'true')
    t.equal(await page.$eval('#alertform [name="query"]', e => (e as HTMLTextAreaElement).selectionStart), 23, 'the caret at the position')
    t.same(await list(), [], 'nothing was made')
  })

  t.test('made: the alerts view shows it, and GET /alerts has it with the query', async t => {
    await retype('#alertform [name="query"]', QUERY)
    await retype('#alertform [name="group_window"]', '1s')
    await page.click('#alertform button[type="submit"]')
    await page.waitForFunction(() => document.body.dataset.view === 'alerts' && document.body.dataset.alerts === '1')
    t.equal(await page.evaluate(() => location.hash), '#alerts')
    t.notOk(await page.$eval('#alertdialog', e => (e as HTMLDialogElement).open), 'the form closed')
    const [a] = await list()
    id = a!.id
    t.match(a, { name: 'payments boom', query: QUERY, enabled: true, condition: { type: 'each' }, channels: [{ type: 'webhook', secret: '••••' }] })
    const card = `.acard[data-id="${id}"]`
    t.equal(await page.$eval(`${card} .aname`, e => e.textContent), 'payments boom')
    t.equal(await page.$eval(`${card} .aquery`, e => e.textContent), QUERY)
    t.equal(await page.$eval(card, e => (e as HTMLElement).dataset.state), 'ok')
    t.match(await page.$eval(`${card} .afacts`, e => e.textContent ?? ''), /Last notified: never.*0 pending.*0 failed/)
    t.ok(await page.$eval('.controls', e => getComputedStyle(e).display === 'none'), 'the search controls are hidden')
  })

  t.test('disable and enable again: PUT keeps the masked webhook URL and secret', async t => {
    const card = `.acard[data-id="${id}"]`
    await page.click(`${card} .toggle`)
    await page.waitForFunction(sel => (document.querySelector(sel) as HTMLElement | null)?.dataset.state === 'disabled', {}, card)
    t.equal(await page.$eval(`${card} .toggle`, e => e.textContent), 'Enable')
    t.equal((await list())[0]!.enabled, false)
    await page.click(`${card} .toggle`)
    await page.waitForFunction(sel => (document.querySelector(sel) as HTMLElement | null)?.dataset.state === 'ok', {}, card)
    t.equal((await list())[0]!.enabled, true)
    // What the collector stores, not what it answers: the URL and secret the form was given.
    const stored = await new FileDefinitionStore(serviceLogDir(c.logDir)).getAlert(id)
    t.same(stored?.channels, [{ type: 'webhook', url: hook.url, secret: 'hook-secret-1' }], 'the masked values stood for the stored ones')
  })

  t.test('history: notifications newest first, with state, count, deliveries, events and link', async t => {
    // Written through the collector's own store in its LOG_DIR, as the alert pipeline records them.
    const store = new FileDefinitionStore(serviceLogDir(c.logDir))
    const [a] = await store.listAlerts()
    const events = ['boom 1', 'boom 2'].map((message, i) => ({
      _id: `65f0000000000000000000${i}${i}`, timestamp: new Date(now + i).toISOString(), received_at: new Date(now + i).toISOString(),
      level: 'ERROR', app_name: 'payments', message
    }))
    const base = { alert_id: id, alert_name: a!.name, revision: a!.revision, condition: { type: 'each' }, channels: a!.channels }
    await store.recordNotification({
      ...base, id: 'n-older', state: 'firing', count: 1, events: events.slice(0, 1), link: 'https://logs.example/?query=older',
      range: { from: events[0]!.received_at, to: events[0]!.received_at }, created_at: new Date(now - 60_000).toISOString(),
      deliveries: [{ channel: 0, type: 'webhook', status: 'failed', attempts: 7, last_error: 'connect ECONNREFUSED 127.0.0.1:9', delivered_at: null }]
    })
    await store.recordNotification({
      ...base, id: 'n-newer', state: 'firing', count: 12, events, link: 'https://logs.example/?query=newer',
      range: { from: events[0]!.received_at, to: events[1]!.received_at }, created_at: new Date(now).toISOString(),
      deliveries: [{ channel: 0, type: 'webhook', status: 'delivered', attempts: 2, last_error: '503', delivered_at: new Date(now + 5000).toISOString() }]
    })
    await store.close()
    await page.click('#alertsrefresh')
    const card = `.acard[data-id="${id}"]`
    await page.waitForFunction(sel => /1 failed/.test(document.querySelector(sel)?.textContent ?? ''), {}, card)
    t.match(await page.$eval(`${card} .afacts`, e => e.textContent ?? ''), /Last notified: .*0 pending.*1 failed/, 'the card counts the failed delivery')
    await page.click(`${card} .hist`)
    await page.waitForFunction(sel => (document.querySelector(sel) as HTMLElement | null)?.dataset.history === '2', {}, card)
    t.equal(await page.$eval(`${card} .hist`, e => e.getAttribute('aria-expanded')), 'true')
    t.same(await page.$$eval(`${card} .notif`, els => els.map(e => (e as HTMLElement).dataset.id)), ['n-newer', 'n-older'], 'newest first')
    const newer = `${card} .notif[data-id="n-newer"]`
    t.match(await page.$eval(`${newer} .nhead`, e => e.textContent ?? ''), /^firing12 events/)
    t.same(await page.$$eval(`${newer} .nev`, els => els.map(e => [...e.children].map(c => c.textContent).slice(1))),
      [['ERROR', 'payments', 'boom 1'], ['ERROR', 'payments', 'boom 2']], 'the events: level, app, message')
    t.equal(await page.$eval(`${newer} .nev time`, e => e.getAttribute('datetime')), events[0]!.timestamp, 'and time')
    t.match(await page.$eval(newer, e => e.textContent ?? ''), /and 10 more/)
    t.match(await page.$eval(`${newer} .deliveries`, e => e.textContent ?? ''), /#1 webhook http:\/\/127\.0\.0\.1:\d+\/….*delivered2 attempts/)
    t.equal(await page.$eval(`${newer} .nlink`, e => e.getAttribute('href')), 'https://logs.example/?query=newer')
    const older = `${card} .notif[data-id="n-older"]`
    t.match(await page.$eval(`${older} .deliveries`, e => e.textContent ?? ''), /failed7 attempts.*connect ECONNREFUSED/)
    await page.click(`${card} .hist`)
    await page.waitForFunction(sel => document.querySelector(`${sel} .notif`) === null, {}, card)
  })

  t.test('delete after a confirm step', async t => {
    const card = `.acard[data-id="${id}"]`
    await page.click(`${card} .delete`)
    await page.waitForSelector(`${card} .confirm`)
    t.match(await page.$eval(`${card} .confirm`, e => e.textContent ?? ''), /Delete "payments boom" and its history\?/)
    await page.click(`${card} .confirm .cancel`)
    await page.waitForFunction(sel => document.querySelector(`${sel} .confirm`) === null, {}, card)
    t.equal((await list()).length, 1, 'cancel keeps it')
    await page.click(`${card} .delete`)
    await page.click(`${card} .confirm .yes`)
    await page.waitForFunction(() => document.body.dataset.alerts === '0')
    t.match(await page.$eval('#alertsmsg', e => e.textContent ?? ''), /No alerts yet/)
    t.same(await list(), [])
  })

  t.test('a search from the alerts view goes back to the results', async t => {
    await page.click('#q', { clickCount: 3 })
    await page.keyboard.type('event')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.body.dataset.view === 'search' && location.hash === '')
    await settled(w)
    t.ok((await messages(page)).length > 0)
  })

  t.test('no console errors but the refusals asked for', async t => {
    t.same(w.problems.filter(p => !/status of 400/.test(p)), [])
  })
})

t.test('alerts for real: events notify, the webhook gets them, history and its link show them; Test per channel', async t => {
  // HOST as the test listens: links start with http://HOST:PORT when PUBLIC_URL is not set.
  const c = await startCollector(t, { HOST: '127.0.0.1' })
  const hook = await receiver(t)
  const browser = await newContext(t)
  const QUERY = 'app_name = payments and (message contains boom)'
  const at = (ms: number): string => new Date(now + ms).toISOString()
  // Matches the query but comes before the alert: neither notified nor shown by the link, though its
  // timestamp falls among the notified ones (the link narrows by received_at).
  await post(c.base, [{ timestamp: at(1), level: 'error', app_name: 'payments', message: 'boom before' }])
  const w = await openPage(browser, `${c.base}/?query=${encodeURIComponent('message contains boom')}&app_name=payments`)
  const { page } = w
  await settled(w)
  let id = ''
  const card = (): string => `.acard[data-id="${id}"]`

  t.test('made through the form: group window 1s, a webhook on loopback', async t => {
    await page.click('#alerton')
    await page.waitForFunction(() => (document.getElementById('alertdialog') as HTMLDialogElement).open)
    await page.click('#alertform [name="name"]', { clickCount: 3 })
    await page.keyboard.type('payments boom')
    await page.click('#alertform [name="group_window"]', { clickCount: 3 })
    await page.keyboard.type('1s')
    await page.click('#add-webhook')
    await page.keyboard.type(hook.url)
    await page.click('#alertform button[type="submit"]')
    await page.waitForFunction(() => document.body.dataset.view === 'alerts' && document.body.dataset.alerts === '1')
    const [a] = (await getJson<{ alerts: AlertAnswer[] }>(`${c.base}/alerts`)).alerts
    id = a!.id
    t.match(a, { query: QUERY, group_window: '1s', channels: [{ type: 'webhook' }] })
  })

  t.test('matching events: the history shows the notification, its events and the delivered webhook', async t => {
    await post(c.base, [
      { timestamp: at(0), level: 'error', app_name: 'payments', message: 'boom 1' },
      { timestamp: at(1), level: 'error', app_name: 'api', message: 'boom elsewhere' },
      { timestamp: at(2), level: 'warn', app_name: 'payments', message: 'boom 2' },
      { timestamp: at(3), level: 'info', app_name: 'payments', message: 'quiet' },
      { timestamp: at(4), level: 'error', app_name: 'payments', message: 'boom 3' }
    ])
    // The page is asked again (Refresh, then History) until the delivery is done and the card counts it:
    // nothing announces either.
    await poll(async () => {
      await page.click('#alertsrefresh') // sets data-alerts to 'loading' at once; the cards come anew
      await page.waitForFunction(() => document.body.dataset.alerts === '1')
      await page.click(`${card()} .hist`)
      await page.waitForFunction(sel => document.querySelector(`${sel}[data-history], ${sel} .aextra .formerror`) !== null, {}, card())
      // The card is read before the history: it may still count the delivery pending when the history has it done.
      return await page.$(`${card()} .notif .dl-delivered`) !== null &&
        /Last notified: \d\d:.*0 pending/.test(await page.$eval(`${card()} .afacts`, e => e.textContent ?? ''))
    }, 100)
    t.equal(await page.$eval(card(), e => (e as HTMLElement).dataset.history), '1', 'one notification')
    const notif = `${card()} .notif`
    t.match(await page.$eval(`${notif} .nhead`, e => e.textContent ?? ''), /^firing3 events/)
    t.same(await page.$$eval(`${notif} .nev`, els => els.map(e => [...e.children].map(c => c.textContent).slice(1))),
      [['ERROR', 'payments', 'boom 1'], ['WARN', 'payments', 'boom 2'], ['ERROR', 'payments', 'boom 3']], 'those events: level, app, message')
    t.same(await page.$$eval(`${notif} .nev time`, els => els.map(e => e.getAttribute('datetime'))), [at(0), at(2), at(4)], 'and their times')
    t.match(await page.$eval(`${notif} .deliveries`, e => e.textContent ?? ''), /^#1 webhook http:\/\/127\.0\.0\.1:\d+\/…delivered1 attempt/)
    t.notMatch(await page.$eval(notif, e => e.textContent ?? ''), /more \(the link/, 'no "more" line: all were sampled')
    t.match(await page.$eval(`${card()} .afacts`, e => e.textContent ?? ''), /Last notified: \d\d:.*0 pending.*0 failed/, 'the card has it too')
    // What the receiver got: the same notification, once.
    t.equal(hook.received.length, 1, 'one POST to the webhook')
    const body = JSON.parse(hook.received[0]!.body.toString('utf8')) as { events: Array<{ message: string }>, link: string }
    t.same(body.events.map(e => e.message), ['boom 1', 'boom 2', 'boom 3'])
    t.equal(await page.$eval(`${notif} .nlink`, e => e.getAttribute('href')), body.link, 'the page links where the webhook does')
  })

  t.test('its link opens the page showing exactly those events', async t => {
    const link = await page.$eval(`${card()} .notif .nlink`, e => (e as HTMLAnchorElement).href)
    t.ok(link.startsWith(`${c.base}/?query=`), 'the collector\'s own page')
    const histogram = page.waitForResponse(r => new URL(r.url()).pathname === '/logs/histogram')
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click(`${card()} .notif .nlink`)])
    await settled(w)
    t.equal(page.url(), link)
    t.equal(await page.evaluate(() => document.body.dataset.view), 'search')
    t.same(await messages(page), ['boom 3', 'boom 2', 'boom 1'], 'newest first; not the earlier match, nor the others')
    // The link spans a few milliseconds: the histogram's buckets lie inside it (a round 1 s bucket would
    // start before the range and be drawn off the plot), and count those three.
    const h = await (await histogram).json() as { times: number[], interval_ms: number, levels: Record<string, number[]> }
    const from = Date.parse(new URL(link).searchParams.get('from')!)
    t.ok(h.times.length > 1 && h.times[0]! >= from && h.interval_ms < 1000, 'buckets narrower than the range')
    t.same(Object.fromEntries(Object.entries(h.levels).map(([l, c]) => [l, c.reduce((a, b) => a + b, 0)]).filter(([, n]) => n !== 0)), { ERROR: 2, WARNING: 1 })
    await page.waitForFunction(() => document.body.dataset.histogram === 'drawn')
    t.equal(await page.$eval('#legend', e => e.textContent), 'error 2warn 1')
  })

  t.test('Test: each channel\'s result, one answering 200 and one 500', async t => {
    const good = await receiver(t)
    const bad = await receiver(t, (_req, res) => { res.statusCode = 500; res.end('receiver down') })
    const res = await fetch(`${c.base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'two hooks', query: 'message contains never', channels: [{ type: 'webhook', url: good.url }, { type: 'webhook', url: bad.url }] })
    })
    t.equal(res.status, 201, await res.text())
    await page.goto(`${c.base}/#alerts`, { waitUntil: 'domcontentloaded' })
    await page.waitForFunction(() => document.body.dataset.alerts === '2')
    const two = await page.$eval('.acard:not([data-id="' + id + '"])', e => (e as HTMLElement).dataset.id!)
    const sel = `.acard[data-id="${two}"]`
    await page.click(`${sel} .test`)
    await page.waitForFunction(s => (document.querySelector(s) as HTMLElement | null)?.dataset.tested === '2', {}, sel)
    const lines = await page.$$eval(`${sel} .tests li`, els => els.map(e => [e.className, e.textContent ?? '']))
    t.equal(lines.length, 2)
    t.equal(lines[0]![0], 'ok')
    t.match(lines[0]![1], /^✓#1 webhook http:\/\/127\.0\.0\.1:\d+\/…delivered \(200\)$/)
    t.equal(lines[1]![0], 'bad')
    t.match(lines[1]![1], /^✗#2 webhook http:\/\/127\.0\.0\.1:\d+\/…HTTP 500: receiver down$/)
    t.equal(good.received.length, 1, 'the test notification reached the first')
    t.match(JSON.parse(good.received[0]!.body.toString('utf8')), { events: [{ message: /^TEST NOTIFICATION for alert "two hooks"/ }] })
    t.equal(bad.received.length, 1, 'and was tried once at the second')
    t.equal(hook.received.length, 1, 'the other alert\'s webhook got nothing more')
  })

  t.test('no console errors', async t => {
    t.same(w.problems, [])
  })
})

t.test('with keys: the alerts view asks for the admin key and keeps it apart from the read key', async t => {
  const c = await startCollector(t, { READ_API_KEYS: 'reader-key-1234567', ADMIN_API_KEY: 'admin-key-1234567890' })
  await post(c.base, stored.slice(0, 5), { authorization: 'Bearer admin-key-1234567890' })
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  const { page } = w
  await page.waitForFunction(() => document.body.dataset.keyprompt === 'asked' && document.body.dataset.keykind === 'read')
  await page.type('#keyinput', 'reader-key-1234567')
  await page.keyboard.press('Enter')
  await settled(w)

  await page.click('#alertslink')
  await page.waitForFunction(() => document.body.dataset.keyprompt === 'asked' && document.body.dataset.keykind === 'admin')
  t.equal(await page.$eval('#keytitle', e => e.textContent), 'The admin key is needed')
  await page.click('#keycancel')
  await page.waitForFunction(() => document.body.dataset.alerts === '0')
  t.match(await page.$eval('#alertsmsg', e => e.textContent ?? ''), /Alerts need the ADMIN_API_KEY/, 'cancelled: says what is needed')

  await page.click('#alertsmsg .link')
  await page.waitForFunction(() => document.body.dataset.keykind === 'admin')
  await page.type('#keyinput', 'reader-key-1234567') // a read key may not manage alerts
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.body.dataset.keyprompt === 'refused' && document.body.dataset.keykind === 'admin')
  t.match(await page.$eval('#keymsg', e => e.textContent ?? ''), /may not manage alerts \(403\)/)
  await page.type('#keyinput', 'admin-key-1234567890')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.body.dataset.alerts === '0' && document.body.dataset.keyprompt === undefined)
  t.match(await page.$eval('#alertsmsg', e => e.textContent ?? ''), /No alerts yet/)
  t.same(await page.evaluate(() => [sessionStorage.getItem('maap.readKey'), sessionStorage.getItem('maap.adminKey')]),
    ['reader-key-1234567', 'admin-key-1234567890'], 'each key kept for the tab, apart')

  await page.reload({ waitUntil: 'domcontentloaded' })
  await page.waitForFunction(() => document.body.dataset.alerts === '0')
  t.equal(await page.evaluate(() => document.body.dataset.keyprompt), undefined, 'a reload does not ask again')
  t.same(w.problems.filter(p => !/status of 40[13]/.test(p)), [])
})
