// The `query` parameter on every read route: ANDed with the older parameters, a bad one a 400 that says
// where, and a live tail that sends only what the expression matches.
import t from 'tap'
import { buildTestApp, listen } from './helpers'
import { postEvents, search } from './read-helpers'

const T0 = Date.parse('2026-11-30T00:00:00.000Z')
const events = [
  { message: 'GET /health', app_name: 'api', level: 'info', url: { path: '/health' }, http: { status: 200 } },
  { message: 'upstream timeout', app_name: 'api', level: 'error', url: { path: '/pay' }, http: { status: 504 }, region: 'eu' },
  { message: 'connection reset', app_name: 'web', level: 'warn', http: { status: 502 }, region: 'us', user_id: 'u1' },
  { message: 'slow request', app_name: 'web', level: 'info', duration_ms: 1500, host: 'web-2' }
].map((e, i) => ({ ...e, i, timestamp: T0 + i * 1000 }))

const q = (text: string): string => `query=${encodeURIComponent(text)}`

t.test('GET /logs, /logs/histogram and /logs/values take the language, ANDed with the older parameters', async t => {
  const { app } = await buildTestApp(t)
  await postEvents(app, events)
  const found = async (params: string): Promise<number[]> => (await search(app, params)).events.map(e => e.i as number).sort()
  t.same(await found(q('http.status >= 500 and not url.path = "/health"')), [1, 2])
  t.same(await found(q('timeout or "connection reset"')), [1, 2])
  t.same(await found(q('user_id exists')), [2])
  t.same(await found(q('region in (eu, us)') + '&app_name=web'), [2], 'and app_name=… still applies')
  t.same(await found(q('level >= warning') + '&q=reset'), [2], 'and q=… too')
  t.same(await found(q('duration_ms > 1000 and host = web-*')), [3])
  t.same(await found(q('  ')), [0, 1, 2, 3], 'an empty query is no query')
  const hist = await app.inject({ method: 'GET', url: `/logs/histogram?from=${T0 - 1000}&to=${T0 + 10_000}&${q('app_name = web')}` })
  t.equal(hist.json().total, 2)
  const values = await app.inject({ method: 'GET', url: `/logs/values?field=app_name&${q('http.status >= 500')}` })
  t.same(values.json().values, [{ value: 'api', count: 1 }, { value: 'web', count: 1 }])
})

t.test('a query that does not parse: 400 MAAP_BAD_QUERY, what was expected, where, on every route', async t => {
  const { app } = await buildTestApp(t)
  for (const route of ['/logs', '/logs/histogram', '/logs/values?field=level&', '/logs/tail']) {
    const res = await app.inject({ method: 'GET', url: `${route}${route.endsWith('&') ? '' : '?'}${q('level >= ERROR and http.status >=')}` })
    t.equal(res.statusCode, 400, route)
    t.same(res.json(), {
      statusCode: 400,
      code: 'MAAP_BAD_QUERY',
      error: 'Bad Request',
      message: 'query: expected a value after ">=" at 34',
      position: 34
    }, route)
  }
  const twice = await app.inject({ method: 'GET', url: `/logs?${q('a')}&${q('b')}` })
  t.match(twice.json(), { code: 'MAAP_BAD_QUERY', message: 'query: give it once' })
})

t.test('a live tail sends only the events its query matches', async t => {
  const { app } = await buildTestApp(t)
  const url = await listen(app)
  const ac = new AbortController()
  t.teardown(() => ac.abort())
  const res = await fetch(`${url}/logs/tail?${q('http.status >= 500 and not region = us')}`, { signal: ac.signal })
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const until = async (test: () => boolean): Promise<void> => {
    while (!test()) text += decoder.decode((await reader.read()).value, { stream: true })
  }
  await until(() => text.includes('event: ready'))
  await postEvents(app, events)
  await postEvents(app, [{ message: 'marker', app_name: 'api', http: { status: 599 }, i: 99 }])
  await until(() => text.includes('"i":99'))
  const got = [...text.matchAll(/"i":(\d+)/g)].map(m => Number(m[1]))
  t.same(got, [1, 99], 'the 504 in eu and the marker; not the 502 in us, nor the 200s')
})
