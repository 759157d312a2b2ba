// Real headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH) driving the web page of an
// in-process collector on port 0. Every console message of type error/warning and every page error is
// collected, so each test can assert that the page ran cleanly (a CSP violation is a console error).
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, listen } from './helpers'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export async function launch (t: { teardown: (fn: () => unknown) => void }): Promise<Browser> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
    defaultViewport: { width: 1280, height: 800 }
  })
  t.teardown(() => browser.close())
  return browser
}

/**
 * For a test file: a function that gives each test a browser context of its own (no pages, storage, cache
 * or cookies in common with another test's; closed at that test's end), all in one Chromium launched at
 * the first call and closed at the end of `file` (the file's root test). A launch costs a second or more
 * of a core; a context, milliseconds.
 */
export function contextPerTest (file: { teardown: (fn: () => unknown) => void }): (t: { teardown: (fn: () => unknown) => void }) => Promise<BrowserContext> {
  let browser: Promise<Browser> | undefined
  return async t => {
    browser ??= launch(file)
    const context = await (await browser).createBrowserContext()
    t.teardown(() => context.close())
    return context
  }
}

export interface UiCollector { app: FastifyInstance, base: string, logDir: string }

export async function startCollector (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string> = {}): Promise<UiCollector> {
  // The page fires a search, a histogram and value lists at once, and this collector shares its thread with
  // the test and the machine with Chromium: on a loaded CI machine a query waited past QUERY_QUEUE_WAIT's
  // 2 s and was answered 503, which these tests (about the page, not admission) read as a broken page.
  const { app, logDir } = await buildTestApp(t, { QUERY_QUEUE_WAIT: '60', ...env })
  return { app, logDir, base: await listen(app) }
}

export interface WatchedPage { page: Page, problems: string[] }

export async function openPage (browser: Browser | BrowserContext, url: string): Promise<WatchedPage> {
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', msg => {
    if (msg.type() === 'error' || msg.type() === 'warn') problems.push(`console.${msg.type()}: ${msg.text()}`)
  })
  page.on('pageerror', err => problems.push(`pageerror: ${(err as Error).message}`))
  page.on('requestfailed', req => {
    // Aborted fetches are the page's own doing (a new query cancels the old one, a closed tail).
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ''}`)
  })
  await page.goto(url, { waitUntil: 'domcontentloaded' })
  return { page, problems }
}

export async function post (base: string, events: unknown[], headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${base}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(events)
  })
  if (res.status !== 200) throw new Error(`POST /logs answered ${res.status}: ${await res.text()}`)
}

/** The messages of the rows shown, top to bottom. */
export async function messages (page: Page): Promise<string[]> {
  return await page.$$eval('#results .row .msg', els => els.map(e => e.textContent ?? ''))
}
