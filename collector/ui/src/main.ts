// The page. The URL's query is the state: every change pushes a new URL and runs load(), which asks
// the read API for the first page, the histogram and the apps at once.
//
//   URL ──parseQuery──▶ load() ─┬─ GET /logs           → results (more on scroll, through `next`)
//    ▲                          ├─ GET /logs/histogram → uPlot (drag → new from/to)
//    │ pushState                └─ GET /logs/values    → app picker
//   controls / histogram / clicked values                Live: GET /logs/tail (sse.ts) → top of results
//   search box focused: GET /logs/fields → field-name completion (once per app/level/range)
// A query the collector cannot parse (400 MAAP_BAD_QUERY with a position) is shown at the box; the
// results, histogram, paging and Live stay those of the last query that ran (`shown`), marked stale.
// Beside the box: Save and the saved searches (searches.ts), "Alert on this search" (alert-form.ts), and
// the alerts view at #alerts (alerts-view.ts), which hides the search while it is shown.
import { AlertForm } from './alert-form'
import { AlertsView } from './alerts-view'
import { ApiError, getJson, type FieldName, type Fields, type Hit, type Histogram, type Page, type Values } from './api'
import { Controls } from './controls'
import { byId, el } from './dom'
import { absoluteMs } from './format'
import { HistogramView } from './histogram'
import { Live } from './live'
import { apiParams, parseQuery, sameQuery, toParams, wholeQuery, type Query } from './query'
import { ResultsView } from './results'
import { SavedSearches } from './searches'
import { StatusLine } from './status'

let query = parseQuery(location.search)
/** The query whose results are on screen. */
let shown = query
let next: string | null = null
let loading: AbortController | null = null
let paging = false
const notice = byId('notice')
const more = byId('more')
const summary = byId('summary')
const status = new StatusLine()
const results = new ResultsView(byId('results'), (path, value, negate) => controls.pick(path, value, negate))
const controls = new Controls(query, (q, again) => navigate(q, again), fieldNames)
const chart = new HistogramView(byId('plot'), byId('legend'), (from, to) => {
  navigate({ ...query, from: new Date(from).toISOString(), to: new Date(to).toISOString() })
})
const live = new Live(byId<HTMLButtonElement>('live'), byId<HTMLButtonElement>('newcount'), results, () => shown)
// A saved search is the whole filter: applied, it replaces the box, app and level; the time range stays.
const saved = new SavedSearches(text => navigate({ ...query, query: text, app_name: '', level: '', q: '', fields: [] }))
const alertsView = new AlertsView()
const alertForm = new AlertForm(() => alertsView.show())
const alertOn = byId<HTMLButtonElement>('alerton')
alertOn.addEventListener('click', () => {
  const text = wholeQuery(query)
  if (text !== undefined) alertForm.open(text)
})

/** Save and Alert follow the URL's filters (disabled for an older link's q / f.<field>). */
function filtersShown (q: Query): void {
  saved.show(q)
  const text = wholeQuery(q)
  alertOn.disabled = text === undefined
  alertOn.title = text === undefined
    ? 'Remove the filters from the older link (the chips) to alert on this search'
    : 'Be notified of the events this search finds, from now on'
}
filtersShown(query)

/** `again`: the same query submitted once more runs again (a new search, or a refused one retried). */
function navigate (q: Query, again = false): void {
  if (sameQuery(q, query)) {
    if (alertsView.on) { history.pushState(null, '', location.pathname + location.search); alertsView.sync() }
    if (again) void load()
    return
  }
  history.pushState(null, '', toParams(q).size === 0 ? location.pathname : `?${toParams(q).toString()}`)
  query = q
  controls.show(q)
  filtersShown(q)
  alertsView.sync() // a search from the alerts view goes back to the results (the new URL has no #alerts)
  void load()
}

addEventListener('popstate', () => {
  const q = parseQuery(location.search)
  if (sameQuery(q, query)) return // only the hash moved (#alerts): hashchange has it
  query = q
  controls.q.value = query.query // back/forward: the box shows the URL's text even while focused
  controls.show(query)
  filtersShown(query)
  void load()
})

function say (kind: 'empty' | 'error' | 'none', ...content: Array<Node | string>): void {
  notice.hidden = kind === 'none'
  notice.className = `notice ${kind}`
  notice.replaceChildren(...content)
  document.body.dataset.notice = kind
}

async function load (): Promise<void> {
  loading?.abort()
  const ctl = new AbortController()
  loading = ctl
  document.body.dataset.state = 'loading'
  document.body.classList.add('busy')
  controls.clearError()
  const asked = query
  const params = apiParams(asked)
  const signal = ctl.signal
  // The apps after the histogram: both read the same blocks, and the histogram is what the eye waits for.
  void loadHistogram(params, signal).then(() => loadApps(signal))
  try {
    // A refusal that will be asked again says so where the count of results goes, not a blank wait.
    const onBusy = (seconds: number): void => {
      if (signal.aborted) return
      document.body.dataset.waiting = 'busy'
      summary.textContent = `The collector is busy with other queries; asking again in ${seconds} s…`
    }
    const page = await getJson<Page>(`/logs?${params.toString()}`, { signal, onBusy })
    if (signal.aborted) return
    shown = asked
    delete document.body.dataset.stale
    results.clear()
    results.add(page.events, 'end')
    next = page.next
    live.restart() // after the page: the tail takes over from here (rows already shown are not repeated)
    status.answeredBy(page.mongodb_error === undefined ? page.source : `${page.source} (MongoDB: ${page.mongodb_error})`)
    summary.textContent = page.events.length === 0 ? '' : `${page.events.length.toLocaleString()}${next === null ? '' : '+'} events · ${page.took_ms} ms`
    if (page.events.length === 0) await explainEmpty(signal)
    else say('none')
    endMark()
    document.body.dataset.state = 'ready'
  } catch (err) {
    if (signal.aborted) return
    if (err instanceof ApiError && err.inQuery) {
      // What was typed stays; what is shown stays too, said to be the previous query's.
      controls.showError(err.message, err.position!, asked.query)
      if (results.count > 0) {
        document.body.dataset.stale = 'true'
        summary.textContent = 'Not updated: these are the results of the previous query.'
      }
      document.body.dataset.state = 'error'
      return
    }
    shown = asked
    results.clear()
    next = null
    live.restart()
    summary.textContent = ''
    showError(err, 'search')
    document.body.dataset.state = 'error'
  } finally {
    if (loading === ctl) {
      document.body.classList.remove('busy')
      delete document.body.dataset.waiting
    }
  }
}

function showError (err: unknown, what: string): void {
  const retry = el('button', 'link', 'Try again')
  retry.type = 'button'
  retry.addEventListener('click', () => { void load() })
  if (err instanceof ApiError && err.code === 'MAAP_BAD_QUERY') {
    say('error', `The collector refused this query — ${err.message}. Change it above, or `, clearLink(), '.')
  } else {
    say('error', `Could not ${what}: ${(err as Error).message} `, retry)
  }
}

function clearLink (): HTMLElement {
  const a = el('button', 'link', 'clear every filter')
  a.type = 'button'
  a.addEventListener('click', () => navigate({ query: '', app_name: '', level: '', q: '', from: '', to: '', fields: [] }))
  return a
}

/** No match: either nothing was ever stored (say how to send an event) or the filters exclude it all. */
async function explainEmpty (signal: AbortSignal): Promise<void> {
  const any = await getJson<Page>('/logs?limit=1', { signal }).catch(() => null)
  if (signal.aborted) return
  if (any !== null && any.events.length === 0) {
    const origin = location.origin
    const curl = `curl -X POST ${origin}/log -H 'content-type: application/json' \\\n  -d '{"level":"info","app_name":"hello","message":"my first event"}'`
    say('empty', el('strong', '', 'No logs yet.'), ' Send one and it shows up here (turn on Live to watch it arrive):',
      el('pre', 'curl', curl), 'With API_KEYS set, add ', el('code', '', "-H 'Authorization: Bearer <key>'"),
      '. From Node.js, use the pino or winston transport (see the README).')
  } else {
    say('empty', el('strong', '', 'Nothing matches.'), ' Try a wider time range, a lower level, or ', clearLink(), '.')
  }
}

async function loadHistogram (params: URLSearchParams, signal: AbortSignal): Promise<void> {
  // No `buckets`: the collector picks about 60 of a round width, which also lets most journal blocks
  // be counted from their summaries instead of read.
  const p = new URLSearchParams(params)
  // Under a minute (a notification's link spans milliseconds) a round width, 1 s at least, is wider than
  // the range itself: equal buckets over it instead; reading so few events costs nothing.
  if (absoluteMs(p.get('to')) - absoluteMs(p.get('from')) < 60_000) p.set('buckets', '60')
  // Until this range's histogram is drawn, the one on screen (and a drag across it) is the last range's.
  document.body.dataset.histogram = 'loading'
  try {
    const h = await getJson<Histogram>(`/logs/histogram?${p.toString()}`, { signal })
    if (!signal.aborted) chart.draw(h)
  } catch (err) {
    if (signal.aborted) return
    if (err instanceof ApiError && err.inQuery) {
      // The last histogram stays, as the results do, marked stale with them.
      if (!chart.drawn) chart.clear('No histogram: the query above does not parse.')
      else document.body.dataset.histogram = 'drawn'
      return
    }
    document.body.dataset.histogram = 'absent'
    chart.clear(err instanceof ApiError && err.status === 404
      ? 'This collector has no histogram route (GET /logs/histogram): upgrade it to see events over time.'
      : `No histogram: ${(err as Error).message}`)
  }
}

async function loadApps (signal: AbortSignal): Promise<void> {
  // The apps in the chosen range, whatever app is selected now (so the picker can switch to another).
  const p = apiParams({ ...query, app_name: '' })
  p.set('field', 'app_name')
  p.set('limit', '50')
  try {
    const v = await getJson<Values>(`/logs/values?${p.toString()}`, { signal })
    if (!signal.aborted) controls.setApps(v.values)
  } catch {
    // Without the route the picker still offers the app in the URL; nothing else to do.
  }
  if (!signal.aborted) document.body.dataset.apps = 'loaded'
}

let namesFor = ''
let names: Promise<FieldName[]> | undefined

/** The field names the box completes: those under the page's other filters (not the query being typed). */
async function fieldNames (): Promise<FieldName[]> {
  const p = apiParams({ ...query, query: '', q: '', fields: [] })
  p.set('limit', '500')
  const key = p.toString()
  if (names === undefined || key !== namesFor) {
    namesFor = key
    names = getJson<Fields>(`/logs/fields?${key}`).then(f => f.fields)
  }
  return await names
}

function endMark (): void {
  more.textContent = next === null ? (results.count > 0 ? 'The end: no older events match.' : '') : 'Loading older events…'
  document.body.dataset.more = next === null ? 'end' : 'more'
}

async function loadMore (): Promise<void> {
  if (next === null || paging) return
  paging = true
  const cursor = next
  const signal = loading?.signal
  try {
    const p = apiParams(shown)
    p.set('cursor', cursor)
    const page = await getJson<Page>(`/logs?${p.toString()}`, signal === undefined ? {} : { signal })
    if (signal?.aborted === true || cursor !== next) return
    results.add(page.events, 'end')
    next = page.next
    endMark()
  } catch (err) {
    if (signal?.aborted !== true) showError(err, 'load older events')
  } finally {
    paging = false
  }
  // A short page may leave the sentinel on screen: keep going until it is not.
  if (next !== null && more.getBoundingClientRect().top < innerHeight + 200) void loadMore()
}

new IntersectionObserver(entries => {
  if (entries.some(e => e.isIntersecting)) void loadMore()
}, { rootMargin: '0px 0px 400px 0px' }).observe(more)

addEventListener('keydown', e => {
  const target = e.target as HTMLElement
  const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement
  if (e.key === 'Escape') {
    if (typing) { target.blur(); return }
    results.closeOpen()
    return
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]') !== null || alertsView.on) return
  if (e.key === '/') { e.preventDefault(); controls.q.focus(); controls.q.select() } else if (e.key === 'j') results.move(1)
  else if (e.key === 'k') results.move(-1)
  else if (e.key === 'Enter' && !(target instanceof HTMLButtonElement)) { e.preventDefault(); results.toggleSelected() }
})

export type { Hit }
status.start()
void load()
