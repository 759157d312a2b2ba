// The web page in real headless Chromium against a real collector (embedded mode, port 0): first rows
// and histogram, filters through the controls and through the URL, back/forward, the query language in
// the search box (the URL, a parse error at its position, field-name completion), expanding a row and
// adding a clicked value to the query, paging by scrolling, Live (an event posted appears; pause and resume
// lose nothing), the keyboard, and no console error, page error or CSP violation anywhere.
import t from 'tap'
import { gzipSync } from 'node:zlib'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { contextPerTest, messages, openPage, post, startCollector, type WatchedPage } from './ui-browser'
import type { QueryAdmission } from '../src/read/admission'
import { poll } from '../../test/support'

/** One Chromium for the file, a context of its own for each test. */
const newContext = contextPerTest(t)

const APPS = ['api', 'web', 'worker']
const LEVELS = ['debug', 'info', 'info', 'warn', 'error']
const now = Date.now()
// 150 events in the last hour, the newest first by index: "event 0" is the newest.
const stored = Array.from({ length: 150 }, (_, i) => ({
  timestamp: new Date(now - 60_000 - i * 10_000).toISOString(),
  level: LEVELS[i % LEVELS.length],
  app_name: APPS[i % APPS.length],
  message: `event ${i} ${i % 7 === 0 ? 'timeout talking to db' : 'ok'}`,
  req: { id: `r-${i}`, method: 'GET' }
}))

async function rows (w: WatchedPage): Promise<number> {
  return Number(await w.page.evaluate(() => document.body.dataset.rows ?? '0'))
}

async function settled (w: WatchedPage): Promise<void> {
  await w.page.waitForFunction(() => document.body.dataset.state === 'ready' && !document.body.classList.contains('busy'))
}

t.test('the page answers with a strict CSP, its assets are local and small', async t => {
  const c = await startCollector(t)
  const page = await fetch(`${c.base}/`)
  t.equal(page.status, 200)
  const csp = page.headers.get('content-security-policy') ?? ''
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
    t.ok(csp.includes(d), `CSP has ${d}`)
  }
  const html = await page.text()
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /\sstyle=|<style/, 'no inline style')
  t.notMatch(html, /https?:\/\//, 'nothing from another origin')
  let gz = gzipSync(html).length
  for (const asset of ['/ui/main.js', '/ui/styles.css']) {
    const res = await fetch(c.base + asset)
    t.equal(res.status, 200, asset)
    t.ok(res.headers.get('content-security-policy'), `${asset} has the CSP too`)
    gz += gzipSync(Buffer.from(await res.arrayBuffer())).length
  }
  t.ok(gz <= 200 * 1024, `page weight ${gz} bytes gzipped ≤ 200 KB`)
  t.equal((await fetch(`${c.base}/ui/../package.json`)).status, 404, 'no way out of the asset folder')
  // The page needs no key even when keys are set: only the data routes are guarded.
  const keyed = await startCollector(t, { READ_API_KEYS: 'reader-key-123456' })
  t.equal((await fetch(`${keyed.base}/`)).status, 200)
  t.equal((await fetch(`${keyed.base}/logs`)).status, 401)
})

t.test('searching and filtering stored events', async t => {
  const c = await startCollector(t)
  await post(c.base, stored)
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  const { page } = w

  t.test('first rows, newest first, and the histogram', async t => {
    await settled(w)
    t.equal(await rows(w), 100, 'the first page of 100')
    t.same((await messages(page)).slice(0, 2), ['event 0 timeout talking to db', 'event 1 ok'])
    await page.waitForFunction(() => document.body.dataset.histogram === 'drawn')
    t.ok(await page.$('#plot canvas'), 'uPlot drew a canvas')
    const legend = await page.$eval('#legend', e => e.textContent ?? '')
    t.match(legend, /error 30/, 'the legend counts the errors (every 5th of 150)')
    await page.waitForFunction(() => [...document.querySelectorAll('#app option')].some(o => (o as HTMLOptionElement).value === 'worker'))
    t.match(await page.$eval('#status', e => e.textContent ?? ''), /embedded.*answered by journal/)
  })

  t.test('scrolling loads the next page through the cursor', async t => {
    await page.evaluate(() => { scrollTo(0, document.body.scrollHeight) })
    await page.waitForFunction(() => document.body.dataset.rows === '150' && document.body.dataset.more === 'end')
    const all = await messages(page)
    t.equal(new Set(all).size, 150, 'every event once')
    t.equal(all[149], 'event 149 ok', 'the oldest last')
  })

  t.test('min level chip', async t => {
    await page.click('#levels [data-level="ERROR"]')
    await page.waitForFunction(() => location.search === '?level=ERROR')
    await settled(w)
    const levels = await page.$$eval('#results .lv', els => [...new Set(els.map(e => e.textContent))])
    t.same(levels, ['ERROR'])
    t.equal(await rows(w), 30)
  })

  t.test('app picker', async t => {
    await page.select('#app', 'web')
    await page.waitForFunction(() => new URLSearchParams(location.search).get('app_name') === 'web')
    await settled(w)
    const apps = await page.$$eval('#results .app', els => [...new Set(els.map(e => e.textContent))])
    t.same(apps, ['web'])
    t.equal(await rows(w), 10, 'ERROR and web: i % 5 = 4 and i % 3 = 1')
  })

  t.test('text search, and back/forward', async t => {
    await page.click('#levels [data-level="ERROR"]') // off again
    await page.waitForFunction(() => !location.search.includes('level'))
    await page.focus('body')
    await page.keyboard.press('/')
    t.ok(await page.evaluate(() => document.activeElement?.id === 'q'), '/ focuses the search box')
    await page.keyboard.type('TIMEOUT')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => new URLSearchParams(location.search).get('query') === 'TIMEOUT')
    await settled(w)
    const msgs = await messages(page)
    t.ok(msgs.length > 0 && msgs.every(m => m.includes('timeout')), 'only messages with the text, any case')
    t.equal(msgs.length, stored.filter(e => e.app_name === 'web' && e.message.includes('timeout')).length)
    await page.goBack()
    await page.waitForFunction(() => location.search === '?app_name=web')
    await settled(w)
    t.equal(await rows(w), 50, 'back: web without the text')
    t.equal(await page.$eval('#q', e => (e as HTMLInputElement).value), '', 'the box follows the URL')
    await page.goForward()
    await page.waitForFunction(() => new URLSearchParams(location.search).get('query') === 'TIMEOUT')
    await settled(w)
    t.equal(await page.$eval('#q', e => (e as HTMLInputElement).value), 'TIMEOUT')
  })

  t.test('a link reproduces the view', async t => {
    await page.goto(`${c.base}/?app_name=worker&level=WARNING&from=1h`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    const got = await page.$$eval('#results .row-head', els => els.map(e => [e.querySelector('.lv')!.textContent, e.querySelector('.app')!.textContent]))
    t.equal(got.length, stored.filter(e => e.app_name === 'worker' && (e.level === 'warn' || e.level === 'error')).length)
    t.ok(got.every(([lv, app]) => app === 'worker' && (lv === 'WARN' || lv === 'ERROR')))
    t.ok(await page.$eval('#ranges [data-range="1h"]', e => e.classList.contains('on')), 'the 1h preset is shown as chosen')
  })

  t.test('keyboard, expand, copy and filter on a clicked value', async t => {
    await page.goto(`${c.base}/`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    await page.focus('body')
    await page.keyboard.press('j')
    await page.keyboard.press('j')
    await page.keyboard.press('k')
    await page.keyboard.press('j')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#results .row.open .json')
    const json = await page.$eval('#results .row.open .json', e => e.textContent ?? '')
    const shown = JSON.parse(json) as { message: string, _id: string }
    t.equal(shown.message, 'event 1 ok', 'j j k j → the second row')
    t.match(shown._id, /^[0-9a-f]+$/)
    await page.keyboard.press('Escape')
    await page.waitForFunction(() => document.querySelector('#results .row.open') === null)
    await page.keyboard.press('Enter')
    await page.waitForSelector('#results .row.open .copy')
    await page.click('#results .row.open .copy')
    await page.waitForFunction(() => /Copied|Selected/.test(document.querySelector('#results .row.open .copy')?.textContent ?? ''))
    await page.click('#results .row.open .jv[data-path="req.id"]')
    await page.waitForFunction(() => new URLSearchParams(location.search).get('query') === 'req.id = r-1')
    await settled(w)
    t.same(await messages(page), ['event 1 ok'])
    t.equal(await page.$eval('#q', e => (e as HTMLInputElement).value), 'req.id = r-1', 'the box shows the query')
    await page.click('#q', { clickCount: 3 })
    await page.keyboard.press('Backspace')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => location.search === '')
    await settled(w)
    t.equal(await rows(w), 100)
  })

  t.test('dragging across the histogram zooms the range', async t => {
    await page.click('#ranges [data-range="1h"]')
    await page.waitForFunction(() => document.body.dataset.histogram === 'drawn' && location.search === '?from=1h')
    await settled(w)
    const box = (await (await page.$('#plot .u-over'))!.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.waitForFunction(() => new URLSearchParams(location.search).has('to'))
    await settled(w)
    const p = await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.search)))
    const from = Date.parse(p.from!)
    const to = Date.parse(p.to!)
    t.ok(from < to && to - from < 40 * 60_000, 'a narrower absolute range')
    const times = await page.$$eval('#results .ts', els => els.map(e => Date.parse(e.getAttribute('datetime')!)))
    t.ok(times.every(ms => ms >= from && ms < to), 'every row inside it')
  })

  t.test('nothing matches → says what to do', async t => {
    await page.goto(`${c.base}/?q=no-such-text-anywhere`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    await page.waitForFunction(() => document.body.dataset.notice === 'empty')
    t.match(await page.$eval('#notice', e => e.textContent ?? ''), /Nothing matches/)
    await page.goto(`${c.base}/?from=yesterday`, { waitUntil: 'domcontentloaded' })
    await page.waitForFunction(() => document.body.dataset.notice === 'error')
    t.match(await page.$eval('#notice', e => e.textContent ?? ''), /from: "yesterday" is not a time/)
  })

  t.test('no console errors, page errors or failed requests', async t => {
    // The last step asked for a bad query on purpose: its 400s are the only resource errors allowed.
    t.same(w.problems.filter(p => !/status of 400/.test(p)), [])
  })
})

t.test('the query language in the search box', async t => {
  const c = await startCollector(t)
  await post(c.base, stored)
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  const { page } = w
  await settled(w)
  const box = async (): Promise<string> => await page.$eval('#q', e => (e as HTMLInputElement).value)
  const inUrl = async (): Promise<string | null> => await page.evaluate(() => new URLSearchParams(location.search).get('query'))
  const untilQuery = async (q: string): Promise<void> => {
    await page.waitForFunction(want => new URLSearchParams(location.search).get('query') === want, {}, q)
    await settled(w)
  }
  const heads = async (): Promise<string[]> =>
    await page.$$eval('#results .row-head', els => els.map(e => `${e.querySelector('.lv')!.textContent} ${e.querySelector('.app')!.textContent}`))
  const retype = async (text: string): Promise<void> => {
    await page.click('#q', { clickCount: 3 })
    await page.keyboard.press('Backspace')
    await page.keyboard.type(text)
  }

  t.test('a typed query goes into the URL and narrows the results', async t => {
    await retype('level >= ERROR and app_name = web')
    await page.keyboard.press('Enter')
    await untilQuery('level >= ERROR and app_name = web')
    const got = await heads()
    t.equal(got.length, stored.filter(e => e.level === 'error' && e.app_name === 'web').length)
    t.same([...new Set(got)], ['ERROR web'])
  })

  t.test('a query that does not parse: the message at its position, the text as typed, the results left', async t => {
    const before = await messages(page)
    await retype('app_name = web and >= 500')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#qerror:not([hidden])')
    t.match(await page.$eval('#qerror .why', e => e.textContent ?? ''), /expected a word.*found ">=" at 20/)
    const [lead, marked] = await page.$eval('#qerror .echo', e => [e.firstChild!.textContent, e.querySelector('mark')!.textContent])
    t.equal(lead, 'app_name = web and ', 'the 19 characters before position 20')
    t.equal(marked, '>', 'the character at position 20 is marked')
    t.equal(await page.evaluate(() => document.body.dataset.queryError), '20')
    t.equal(await page.$eval('#q', e => e.getAttribute('aria-invalid')), 'true')
    t.equal(await box(), 'app_name = web and >= 500', 'the text is untouched')
    t.equal(await inUrl(), 'app_name = web and >= 500', 'and in the URL: a reload shows it again')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'q')
    t.equal(await page.$eval('#q', e => (e as HTMLInputElement).selectionStart), 19, 'the caret is put at the place')
    t.same(await messages(page), before, 'the previous results stay')
    t.equal(await page.evaluate(() => document.body.dataset.stale), 'true')
    t.match(await page.$eval('#summary', e => e.textContent ?? ''), /results of the previous query/)

    await page.keyboard.type('x')
    await page.waitForSelector('#qerror', { hidden: true })
    t.equal(await page.$eval('#q', e => e.getAttribute('aria-invalid')), null, 'typing clears the error')
    await retype('app_name = web and req.method = GET')
    await page.keyboard.press('Enter')
    await untilQuery('app_name = web and req.method = GET')
    t.equal(await rows(w), 50)
    t.equal(await page.evaluate(() => document.body.dataset.stale), undefined, 'fresh results')
  })

  t.test('completion offers the stored field names: keyboard and mouse', async t => {
    const url = await inUrl()
    await retype('req.m')
    await page.waitForFunction(() => document.body.dataset.completion === 'open')
    t.same(await page.$$eval('#qlist [role="option"] .name', els => els.map(e => e.textContent)), ['req.method'])
    t.equal(await page.$eval('#q', e => e.getAttribute('aria-expanded')), 'true')
    await page.keyboard.press('ArrowDown')
    t.equal(await page.$eval('#q', e => e.getAttribute('aria-activedescendant')), await page.$eval('#qlist [role="option"]', e => e.id))
    t.equal(await page.$eval('#qlist [role="option"]', e => e.getAttribute('aria-selected')), 'true')
    await page.keyboard.press('Enter')
    t.equal(await box(), 'req.method ', 'Enter takes the highlighted name')
    t.equal(await page.$eval('#q', e => e.getAttribute('aria-expanded')), 'false')
    t.equal(await inUrl(), url, 'and does not search')

    await page.keyboard.type('= GET and ap')
    await page.waitForFunction(() => document.body.dataset.completion === 'open')
    t.same(await page.$$eval('#qlist [role="option"] .name', els => els.map(e => e.textContent)), ['app_name'])
    await page.click('#qlist [role="option"]')
    t.equal(await box(), 'req.method = GET and app_name ', 'a click takes it')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'q', 'the box keeps the focus')

    await page.keyboard.type('= worker and ti')
    await page.waitForFunction(() => document.body.dataset.completion === 'open')
    t.same(await page.$$eval('#qlist [role="option"] .name', els => els.map(e => e.textContent)), ['timestamp'])
    await page.keyboard.press('Escape')
    t.equal(await page.$eval('#q', e => e.getAttribute('aria-expanded')), 'false', 'Esc closes the list')
    t.equal(await page.evaluate(() => document.activeElement?.id), 'q', 'and only the list')
    await page.keyboard.press('Tab')
    t.equal(await box(), 'req.method = GET and app_name = worker and ti', 'Tab with the list closed leaves the text alone')

    await retype('req.method = GET and app_name = worker and me')
    await page.waitForFunction(() => document.body.dataset.completion === 'open')
    await page.keyboard.press('Tab')
    t.equal(await box(), 'req.method = GET and app_name = worker and message ', 'Tab takes the first')
    await page.keyboard.type('contains timeout')
    await page.keyboard.press('Enter')
    await untilQuery('req.method = GET and app_name = worker and message contains timeout')
    const want = stored.filter(e => e.app_name === 'worker' && e.message.includes('timeout')).map(e => e.message)
    t.same(await messages(page), want)
  })

  t.test('clicking a value adds field = value; with Shift, not field = value', async t => {
    await page.goto(`${c.base}/?query=${encodeURIComponent('level >= ERROR')}`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    t.equal(await rows(w), 30)
    const open = async (): Promise<void> => {
      await page.click('#results .row:first-child .row-head')
      await page.waitForSelector('#results .row.open .json')
    }
    await open()
    const app = '#results .row.open .jv[data-path="app_name"]'
    t.equal(await page.$eval(app, e => e.textContent), '"web"', 'event 4, the newest error')
    t.match(await page.$eval(app, e => e.getAttribute('title')), /^Click: add app_name = web to the query\nShift\+click: add not app_name = web$/)
    await page.click(app)
    await untilQuery('level >= ERROR and app_name = web')
    t.equal(await box(), 'level >= ERROR and app_name = web')
    t.same([...new Set(await heads())], ['ERROR web'])
    t.equal(await rows(w), 10)

    await open()
    await page.click(app)
    t.equal(await box(), 'level >= ERROR and app_name = web', 'not added twice')
    t.equal(await inUrl(), 'level >= ERROR and app_name = web')

    t.equal(await page.$eval('#results .row.open .jv[data-path="req.id"]', e => e.textContent), '"r-4"')
    await page.keyboard.down('Shift')
    await page.click('#results .row.open .jv[data-path="req.id"]')
    await page.keyboard.up('Shift')
    await untilQuery('level >= ERROR and app_name = web and not req.id = r-4')
    t.equal(await rows(w), 9)
    t.notOk((await messages(page)).includes('event 4 ok'), 'the clicked event is left out')
    t.equal(await page.evaluate(() => getSelection()?.toString() ?? ''), '', 'Shift+click selected no text')
  })

  t.test('Live on a query that does not parse stops and says why', async t => {
    await page.goto(`${c.base}/?query=${encodeURIComponent('level >=')}`, { waitUntil: 'domcontentloaded' })
    await page.waitForSelector('#qerror:not([hidden])')
    t.equal(await box(), 'level >=', 'the link\'s text is in the box')
    t.match(await page.$eval('#qerror .why', e => e.textContent ?? ''), /expected a value after ">=" at 9/)
    await page.click('#live')
    await page.waitForFunction(() => document.querySelector('#live')!.getAttribute('title')!.startsWith('Live stopped: query: expected a value'))
    t.equal(await page.evaluate(() => document.body.dataset.live), 'off')
  })

  t.test('older links with q and f.<field> still work, as chips', async t => {
    await page.goto(`${c.base}/?q=TIMEOUT&f.app_name=web`, { waitUntil: 'domcontentloaded' })
    await settled(w)
    t.same(await messages(page), stored.filter(e => e.app_name === 'web' && e.message.includes('timeout')).map(e => e.message))
    t.same(await page.$$eval('#filters .fchip', els => els.map(e => e.textContent)), ['message contains "TIMEOUT"×', 'app_name = web×'])
    t.equal(await box(), '', 'the box is the query language only')
    await page.click('#filters .fchip')
    await page.waitForFunction(() => location.search === '?f.app_name=web')
    await settled(w)
    t.equal(await rows(w), 50)
  })

  t.test('no console errors, page errors or failed requests', async t => {
    // The refused queries were asked on purpose: their 400s are the only resource errors allowed.
    t.same(w.problems.filter(p => !/status of 400/.test(p)), [])
    t.ok(w.problems.some(p => /status of 400/.test(p)), 'the 400s did happen')
  })
})

t.test('an empty collector says how to send the first event', async t => {
  const c = await startCollector(t)
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  await w.page.waitForFunction(() => document.body.dataset.notice === 'empty')
  const text = await w.page.$eval('#notice', e => e.textContent ?? '')
  t.match(text, /No logs yet/)
  t.match(text, new RegExp(`curl -X POST ${c.base}/log`))
  t.same(w.problems, [])
})

t.test('a collector too busy for the page\'s queries: each is asked again after its Retry-After, then answered', async t => {
  // One query at a time; a query waits half a second for the slot, then is answered 503 + Retry-After: 1.
  const c = await startCollector(t, { QUERY_CONCURRENCY: '1', QUERY_QUEUE_WAIT: '0.5' })
  await post(c.base, stored)
  // Another reader holds the one slot (as a long export would): the page's first queries are all refused.
  const queries = (c.app as unknown as { collector: { queries: QueryAdmission } }).collector.queries
  const held = await queries.admit(new AbortController().signal)
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  await poll(() => queries.status().refused >= 1, 25, { ms: 60_000, what: 'a query of the page refused' })
  // While it waits out the Retry-After, the page says why nothing is shown yet.
  await w.page.waitForFunction(() => document.body.dataset.waiting === 'busy')
  t.match(await w.page.$eval('#summary', e => e.textContent ?? ''), /The collector is busy with other queries; asking again in 1 s/, 'the wait is explained')
  held.finish()
  // Answered, or given up on (without the retries: at once, an error where the results go).
  await w.page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? '') && !document.body.classList.contains('busy'))
  t.equal(await w.page.evaluate(() => document.body.dataset.state), 'ready', 'the search answered')
  t.equal(await rows(w), 100, 'the first page of results, once a slot came free')
  await w.page.waitForFunction(() => document.body.dataset.histogram === 'drawn')
  t.ok(queries.status().refused >= 1, `${queries.status().refused} refused, each asked again`)
  t.not(await w.page.evaluate(() => document.body.dataset.notice), 'error', 'no error shown')
  t.equal(await w.page.evaluate(() => document.body.dataset.waiting), undefined, 'and no longer said to wait')
  t.match(await w.page.$eval('#summary', e => e.textContent ?? ''), /^100\+ events/, 'the count of results where the wait was explained')
  // The refusals themselves are the only failed requests (Chromium logs each 503 as a console error).
  t.same(w.problems.filter(p => !/status of 503/.test(p)), [])
})

t.test('live: new events at the top; pause, scroll and resume without loss', async t => {
  const c = await startCollector(t)
  await post(c.base, stored.slice(0, 120))
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  const { page } = w
  await settled(w)
  await page.click('#live')
  await page.waitForFunction(() => document.body.dataset.live === 'live')

  await post(c.base, [{ level: 'error', app_name: 'api', message: 'live one' }])
  await page.waitForFunction(() => document.querySelector('#results .row .msg')?.textContent === 'live one')

  await page.click('#live') // pause
  await page.waitForFunction(() => document.body.dataset.live === 'paused')
  await post(c.base, [{ level: 'info', app_name: 'api', message: 'while paused 1' }, { level: 'info', app_name: 'api', message: 'while paused 2' }])
  await page.waitForFunction(() => document.body.dataset.pending === '2')
  t.equal((await messages(page))[0], 'live one', 'paused: the view stays still')
  t.match(await page.$eval('#newcount', e => e.textContent ?? ''), /2 new/)
  await page.click('#live') // resume
  await page.waitForFunction(() => document.body.dataset.pending === '0' && document.body.dataset.live === 'live')
  t.same((await messages(page)).slice(0, 3), ['while paused 2', 'while paused 1', 'live one'], 'resumed: all of them, in order')

  // Scrolled down: the view stays still too, and "N new" brings them in.
  await page.evaluate(() => { scrollTo(0, 600) })
  await page.waitForFunction(() => scrollY >= 600)
  await post(c.base, [{ level: 'warn', app_name: 'web', message: 'below the fold' }])
  await page.waitForFunction(() => document.body.dataset.pending === '1')
  t.equal((await messages(page))[0], 'while paused 2')
  await page.click('#newcount')
  await page.waitForFunction(() => document.querySelector('#results .row .msg')?.textContent === 'below the fold')
  const all = await messages(page)
  t.equal(all.filter(m => m === 'below the fold' || m.startsWith('while paused') || m === 'live one').length, 4, 'each once')

  // The tail follows the filters: a filtered view shows only what matches.
  await page.click('#levels [data-level="ERROR"]')
  await settled(w)
  await page.waitForFunction(() => document.body.dataset.live === 'live')
  await post(c.base, [{ level: 'info', app_name: 'api', message: 'not an error' }, { level: 'error', app_name: 'api', message: 'an error' }])
  await page.waitForFunction(() => document.querySelector('#results .row .msg')?.textContent === 'an error')
  t.notOk((await messages(page)).includes('not an error'))
  t.same(w.problems, [])
})

t.test('with keys: asks once for a read key, says when it is refused, keeps it for the tab', async t => {
  const c = await startCollector(t, { API_KEYS: 'ingest-key-1234567', READ_API_KEYS: 'reader-key-1234567' })
  await post(c.base, stored.slice(0, 5), { authorization: 'Bearer ingest-key-1234567' })
  const browser = await newContext(t)
  const w = await openPage(browser, `${c.base}/`)
  const { page } = w
  await page.waitForFunction(() => document.body.dataset.keyprompt === 'asked')
  t.ok(await page.$eval('#keydialog', e => (e as HTMLDialogElement).open))
  await page.type('#keyinput', 'ingest-key-1234567') // a real key, but one that may not read
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.body.dataset.keyprompt === 'refused')
  t.match(await page.$eval('#keymsg', e => e.textContent ?? ''), /may not read logs \(403\)/)
  await page.type('#keyinput', 'reader-key-1234567')
  await page.keyboard.press('Enter')
  await settled(w)
  t.equal(await rows(w), 5)
  t.notOk(await page.$eval('#keydialog', e => (e as HTMLDialogElement).open), 'one dialog for all the refused requests')
  t.equal(await page.evaluate(() => sessionStorage.getItem('maap.readKey')), 'reader-key-1234567')
  await page.click('#live')
  await page.waitForFunction(() => document.body.dataset.live === 'live')
  await post(c.base, [{ level: 'info', app_name: 'api', message: 'live with a key' }], { authorization: 'Bearer ingest-key-1234567' })
  await page.waitForFunction(() => document.querySelector('#results .row .msg')?.textContent === 'live with a key')
  await page.reload({ waitUntil: 'domcontentloaded' })
  await settled(w)
  t.equal(await page.evaluate(() => document.body.dataset.keyprompt), undefined, 'a reload in the same tab does not ask again')
  t.ok(!page.url().includes('reader-key'), 'the key is never in the URL')
  // The only errors: the browser reporting the 401s and the 403 the prompt answered.
  t.same(w.problems.filter(p => !/status of 40[13]/.test(p)), [])
  t.ok(w.problems.some(p => /status of 401/.test(p)), 'the 401 did happen')
})

t.test('the built page is what the build made', async t => {
  const built = readFileSync(join(__dirname, '..', 'dist', 'ui', 'index.html'), 'utf8')
  t.equal(built, readFileSync(join(__dirname, '..', 'ui', 'index.html'), 'utf8'), 'run npm run build after changing collector/ui')
})
