// POST/PUT /searches and /alerts through the collector: every 400 names its field, defaults, 409 on a taken
// name, masking and the masked round trip on PUT, the revision rules, history, and who may do what.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { FileDefinitionStore } from '../src/alerts/store-file'
import type { Notification } from '../src/alerts/model'
import { buildTestApp } from './helpers'

const webhook = { type: 'webhook', url: 'https://ops.example/hook/abc?token=s3cret', secret: 'shh-very-secret' }
const slack = { type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/XYZ' }
const alertBody = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ name: 'payments 5xx', query: 'app_name = payments and http.status >= 500', channels: [webhook, slack], ...over })

async function send (app: FastifyInstance, method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, payload?: unknown, key?: string) {
  const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }), headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
  return { status: res.statusCode, body: res.body === '' ? undefined : res.json() }
}

t.test('every refused alert body is a 400 naming its field', async t => {
  const { app } = await buildTestApp(t)
  const cases: Array<[Record<string, unknown>, string, string?]> = [
    [alertBody({ colour: 'red' }), 'colour'],
    [alertBody({ name: undefined }), 'name'],
    [alertBody({ name: 'x'.repeat(201) }), 'name'],
    [alertBody({ query: undefined }), 'query'],
    [alertBody({ condition: { type: 'sometimes' } }), 'condition.type'],
    [alertBody({ condition: { type: 'count', above: 3, window: '5 minutes' } }), 'condition.window'],
    [alertBody({ condition: { type: 'count', above: -1, window: '5m' } }), 'condition.above'],
    [alertBody({ condition: { type: 'count', below: 1.5, window: '5m' } }), 'condition.below'],
    [alertBody({ condition: { type: 'count', above: 1, below: 2, window: '5m' } }), 'condition.above'],
    [alertBody({ condition: { type: 'count', window: '5m' } }), 'condition.above'],
    [alertBody({ condition: { type: 'count', above: 1 } }), 'condition.window'],
    [alertBody({ condition: { type: 'each', window: '5m' } }), 'condition.window'],
    [alertBody({ channels: [webhook, { type: 'pager' }] }), 'channels[1].type'],
    [alertBody({ channels: [webhook, { type: 'slack', url: 'ftp://x.example/' }] }), 'channels[1].url'],
    [alertBody({ channels: [{ type: 'webhook', url: 'javascript:alert(1)' }] }), 'channels[0].url'],
    [alertBody({ channels: [{ type: 'webhook', url: 'https://user:pw@h.example/x' }] }), 'channels[0].url', 'secret'],
    [alertBody({ channels: [{ ...webhook, extra: 1 }] }), 'channels[0].extra'],
    [alertBody({ channels: [{ ...webhook, secret: 5 }] }), 'channels[0].secret'],
    [alertBody({ channels: [] }), 'channels'],
    [alertBody({ channels: [{ type: 'email', to: ['oncall@example.com'] }] }), 'channels[0].type', 'SMTP_URL'],
    [alertBody({ group_window: '10x' }), 'group_window'],
    [alertBody({ group_window: 0 }), 'group_window'],
    [alertBody({ repeat_after: '31d' }), 'repeat_after'],
    [alertBody({ sample: 0 }), 'sample'],
    [alertBody({ sample: 101 }), 'sample'],
    [alertBody({ enabled: 'yes' }), 'enabled']
  ]
  for (const [body, field, also] of cases) {
    const res = await send(app, 'POST', '/alerts', body)
    t.equal(res.status, 400, field)
    t.equal(res.body.code, 'MAAP_BAD_ALERT', field)
    t.ok(res.body.message.startsWith(`${field}:`), `${field}: ${String(res.body.message)}`)
    if (also !== undefined) t.match(res.body.message, also)
  }
  const notJson = await app.inject({ method: 'POST', url: '/alerts', payload: '[1]', headers: { 'content-type': 'application/json' } })
  t.equal(notJson.json().code, 'MAAP_BAD_ALERT')
  const query = await send(app, 'POST', '/alerts', alertBody({ query: 'level >= ' }))
  t.equal(query.status, 400)
  t.equal(query.body.code, 'MAAP_BAD_QUERY')
  t.type(query.body.position, 'number', 'a query error says where, as GET /logs does')
  const search = await send(app, 'POST', '/searches', { name: 's', query: 'a', extra: true })
  t.equal(search.body.code, 'MAAP_BAD_ALERT')
  t.match(search.body.message, /^extra:/)
})

t.test('e-mail channels with SMTP_URL; addresses are checked', async t => {
  const { app } = await buildTestApp(t, { SMTP_URL: 'smtp://user:pw@127.0.0.1:2525' })
  const bad = await send(app, 'POST', '/alerts', alertBody({ channels: [{ type: 'email', to: ['oncall@example.com', 'not an address'] }] }))
  t.equal(bad.status, 400)
  t.match(bad.body.message, /^channels\[0\]\.to\[1\]:/)
  for (const to of [[], 'a@b.example', ['a@b'], ['@b.example'], ['a@@b.example'], [`a@${'b'.repeat(64)}.example`]]) {
    const res = await send(app, 'POST', '/alerts', alertBody({ channels: [{ type: 'email', to }] }))
    t.equal(res.status, 400, JSON.stringify(to))
  }
  const ok = await send(app, 'POST', '/alerts', alertBody({ channels: [{ type: 'email', to: ['oncall@example.com'] }] }))
  t.equal(ok.status, 201)
  t.same(ok.body.channels, [{ type: 'email', to: ['oncall@example.com'] }], 'addresses are shown as they are')
  t.notOk(JSON.stringify(ok.body).includes('pw'))
})

t.test('alerts: defaults, masking, the masked round trip, revisions, 409, 404, delete', async t => {
  const { app } = await buildTestApp(t)
  const created = await send(app, 'POST', '/alerts', alertBody())
  t.equal(created.status, 201)
  const a = created.body
  t.match(a, {
    name: 'payments 5xx', condition: { type: 'each' }, group_window: '30s', sample: 10, repeat_after: null, enabled: true,
    revision: 1, state: 'ok', last_notified_at: null, deliveries: { pending: 0, failed: 0 }
  })
  t.equal(a.active_since, a.created_at)
  t.same(a.channels, [
    { type: 'webhook', url: 'https://ops.example/…', secret: '••••' },
    { type: 'slack', url: 'https://hooks.slack.com/…' }
  ])
  const listed = await send(app, 'GET', '/alerts')
  t.notOk(JSON.stringify(listed.body).includes('s3cret'), 'no secret in any answer')
  t.notOk(JSON.stringify(listed.body).includes('XYZ'))
  t.equal(listed.body.alerts.length, 1)

  t.equal((await send(app, 'POST', '/alerts', alertBody())).status, 409)
  t.equal((await send(app, 'POST', '/alerts', alertBody())).body.code, 'MAAP_NAME_TAKEN')

  // The page sends back what it was answered, renamed: secrets and URLs are kept, the revision too.
  const renamed = await send(app, 'PUT', `/alerts/${a.id as string}`, { ...alertBody({ name: 'renamed', channels: a.channels }), repeat_after: '1h' })
  t.equal(renamed.status, 200)
  t.equal(renamed.body.revision, 1, 'a rename keeps the revision')
  t.equal(renamed.body.active_since, a.active_since)
  t.equal(renamed.body.repeat_after, '1h')
  const store = new FileDefinitionStore(app.collector.config.logDir)
  const stored = await store.getAlert(a.id)
  t.same(stored?.channels, [webhook, slack], 'the masked values kept what was stored')

  // Reordered channels still find their counterparts; a masked value with none is refused.
  const reordered = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({ name: 'renamed', channels: [a.channels[1], a.channels[0]] }))
  t.equal(reordered.status, 200)
  t.same((await store.getAlert(a.id))?.channels, [slack, webhook])
  const stray = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({ channels: [{ type: 'slack', url: 'https://other.example/…' }] }))
  t.equal(stray.status, 400)
  t.match(stray.body.message, /^channels\[0\]\.url:/)
  const straySecret = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({ channels: [{ type: 'webhook', url: 'https://n.example/h', secret: '••••' }] }))
  t.match(straySecret.body.message, /^channels\[0\]\.secret:/)
  const noSecret = await send(app, 'POST', '/alerts', alertBody({ name: 'n', channels: [{ type: 'webhook', url: 'https://n.example/h', secret: '••••' }] }))
  t.equal(noSecret.status, 400, 'nothing for a masked value to stand for on POST')

  const requery = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({ name: 'renamed', query: 'app_name = payments', channels: a.channels }))
  t.equal(requery.body.revision, 2, 'a new query starts again')
  const recondition = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({
    name: 'renamed', query: 'app_name = payments', channels: a.channels, condition: { type: 'count', above: 5, window: 300 }
  }))
  t.equal(recondition.body.revision, 3, 'a new condition starts again')
  t.same(recondition.body.condition, { type: 'count', above: 5, window: '5m' }, 'windows answered as durations')
  const disabled = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({
    name: 'renamed', query: 'app_name = payments', channels: a.channels, condition: { type: 'count', above: 5, window: '5m' }, enabled: false
  }))
  t.equal(disabled.body.revision, 3, 'disabling keeps the revision')
  const enabled = await send(app, 'PUT', `/alerts/${a.id as string}`, alertBody({
    name: 'renamed', query: 'app_name = payments', channels: a.channels, condition: { type: 'count', above: 5, window: '5m' }, enabled: true
  }))
  t.equal(enabled.body.revision, 4, 'enabling again starts again')
  t.ok(enabled.body.active_since >= disabled.body.active_since)

  const other = await send(app, 'POST', '/alerts', alertBody({ name: 'other' }))
  t.equal((await send(app, 'PUT', `/alerts/${other.body.id as string}`, alertBody({ name: 'renamed' }))).status, 409)
  const missing = await send(app, 'GET', '/alerts/nope')
  t.equal(missing.status, 404)
  t.equal(missing.body.code, 'MAAP_UNKNOWN_ID')
  t.equal((await send(app, 'PUT', '/alerts/nope', alertBody())).status, 404)
  t.equal((await send(app, 'GET', '/alerts/nope/history')).status, 404)
  t.equal((await send(app, 'POST', '/alerts/nope/test')).status, 404)
  t.equal((await send(app, 'DELETE', `/alerts/${a.id as string}`)).status, 204)
  t.equal((await send(app, 'DELETE', `/alerts/${a.id as string}`)).status, 404)
  t.equal((await send(app, 'GET', '/alerts')).body.alerts.length, 1)
  await store.close()
})

function notification (alertId: string, i: number, createdAt: string, status: 'pending' | 'failed' | 'delivered' = 'delivered'): Notification {
  return {
    id: `n${i}`, alert_id: alertId, alert_name: 'a', revision: 1, state: 'firing', condition: { type: 'each' }, count: 1, events: [],
    link: 'http://x/', range: { from: createdAt, to: createdAt }, created_at: createdAt,
    channels: [{ type: 'webhook', url: 'https://h.example/secret-path', secret: 'k' }],
    deliveries: [{ channel: 0, type: 'webhook', status, attempts: 1, last_error: null, delivered_at: null }]
  }
}

t.test('history, state and deliveries as GET /alerts shows them', async t => {
  const { app } = await buildTestApp(t)
  const a = (await send(app, 'POST', '/alerts', alertBody({ group_window: '1h' }))).body
  const store = new FileDefinitionStore(app.collector.config.logDir)
  t.teardown(() => store.close())
  const now = Date.now()
  await store.recordNotification(notification(a.id, 1, new Date(now - 3 * 3600_000).toISOString(), 'failed'))
  await store.recordNotification(notification(a.id, 2, new Date(now - 2 * 3600_000).toISOString()))
  await store.recordNotification(notification(a.id, 3, new Date(now - 1000).toISOString(), 'pending'))
  const got = (await send(app, 'GET', `/alerts/${a.id as string}`)).body
  t.equal(got.state, 'firing', 'the newest notification is within its group window')
  t.same(got.deliveries, { pending: 1, failed: 1 })
  t.equal(got.last_notified_at, new Date(now - 1000).toISOString())
  const history = await send(app, 'GET', `/alerts/${a.id as string}/history`)
  t.same(history.body.notifications.map((n: { id: string }) => n.id), ['n3', 'n2', 'n1'], 'newest first')
  t.notOk(JSON.stringify(history.body).includes('secret-path'), 'no channels in the history')
  const limited = await send(app, 'GET', `/alerts/${a.id as string}/history?limit=2`)
  t.same(limited.body.notifications.map((n: { id: string }) => n.id), ['n3', 'n2'])
  t.equal((await send(app, 'GET', `/alerts/${a.id as string}/history?limit=0`)).body.code, 'MAAP_BAD_QUERY')
  t.equal((await send(app, 'GET', `/alerts/${a.id as string}/history?lim=2`)).body.code, 'MAAP_BAD_QUERY')

  const count = (await send(app, 'POST', '/alerts', alertBody({ name: 'quiet', condition: { type: 'count', below: 1, window: '10m' } }))).body
  t.equal(count.state, 'ok')
  await store.setCountState({ alert_id: count.id, revision: 1, state: 'firing', since: new Date().toISOString(), last_notified_at: null })
  t.equal((await send(app, 'GET', `/alerts/${count.id as string}`)).body.state, 'firing', 'a count alert is what its count state says')
  const test = await send(app, 'POST', `/alerts/${count.id as string}/test`)
  t.equal(test.status, 200, 'a test answers what each channel returned, whatever it returned')
  t.equal(test.body.results.length, count.channels.length, 'one result per channel')
  t.match(test.body.results[0], { channel: 0, type: 'webhook', ok: Boolean })
})

t.test('saved searches: CRUD, 409, 404', async t => {
  const { app } = await buildTestApp(t)
  const created = await send(app, 'POST', '/searches', { name: ' errors ', query: 'level >= error' })
  t.equal(created.status, 201)
  t.match(created.body, { name: 'errors', query: 'level >= error' })
  t.same(Object.keys(created.body).sort(), ['created_at', 'id', 'name', 'query', 'updated_at'])
  t.equal((await send(app, 'POST', '/searches', { name: 'errors', query: 'x' })).body.code, 'MAAP_NAME_TAKEN')
  const id = created.body.id as string
  t.same((await send(app, 'GET', `/searches/${id}`)).body, created.body)
  const updated = await send(app, 'PUT', `/searches/${id}`, { name: 'errs', query: 'level >= warn' })
  t.equal(updated.body.name, 'errs')
  t.equal(updated.body.created_at, created.body.created_at)
  t.equal((await send(app, 'GET', '/searches')).body.searches.length, 1)
  const bad = await send(app, 'PUT', `/searches/${id}`, { name: 'errs', query: '(' })
  t.equal(bad.body.code, 'MAAP_BAD_QUERY')
  t.equal((await send(app, 'DELETE', `/searches/${id}`)).status, 204)
  t.equal((await send(app, 'GET', `/searches/${id}`)).body.code, 'MAAP_UNKNOWN_ID')
  t.equal((await send(app, 'PUT', `/searches/${id}`, { name: 'x', query: 'x' })).status, 404)
  t.equal((await send(app, 'DELETE', `/searches/${id}`)).status, 404)
})

t.test('keys: alerts need the admin key, searches a read key (a pinned one for its app only), an ingest key neither', async t => {
  const { app } = await buildTestApp(t, { API_KEYS: 'ingest-key-0001', ADMIN_API_KEY: 'admin-key-00001', READ_API_KEYS: 'reader-key-0001,billing:billing-reader-01' })
  t.equal((await send(app, 'GET', '/alerts')).status, 401)
  t.equal((await send(app, 'GET', '/alerts', undefined, 'reader-key-0001')).status, 403)
  t.equal((await send(app, 'GET', '/alerts', undefined, 'ingest-key-0001')).status, 403)
  t.equal((await send(app, 'POST', '/alerts', alertBody(), 'admin-key-00001')).status, 201)
  t.equal((await send(app, 'GET', '/searches')).status, 401)
  t.equal((await send(app, 'GET', '/searches', undefined, 'ingest-key-0001')).status, 403)
  const any = await send(app, 'POST', '/searches', { name: 'all errors', query: 'level >= error' }, 'reader-key-0001')
  t.equal(any.status, 201)
  t.equal((await send(app, 'POST', '/searches', { name: 'billing errors', query: 'app_name = billing and level >= error' }, 'admin-key-00001')).status, 201)
  const pinned = 'billing-reader-01'
  t.equal((await send(app, 'POST', '/searches', { name: 'p1', query: 'level >= error' }, pinned)).body.code, 'MAAP_FORBIDDEN')
  t.equal((await send(app, 'POST', '/searches', { name: 'p1', query: 'app_name = api' }, pinned)).status, 403)
  t.equal((await send(app, 'POST', '/searches', { name: 'p1', query: 'app_name = billing or x' }, pinned)).status, 403)
  const mine = await send(app, 'POST', '/searches', { name: 'p1', query: 'app_name = billing timeout' }, pinned)
  t.equal(mine.status, 201)
  t.same((await send(app, 'GET', '/searches', undefined, pinned)).body.searches.map((s: { name: string }) => s.name).sort(), ['billing errors', 'p1'])
  t.equal((await send(app, 'GET', '/searches', undefined, 'reader-key-0001')).body.searches.length, 3)
  t.equal((await send(app, 'GET', `/searches/${any.body.id as string}`, undefined, pinned)).status, 403)
  t.equal((await send(app, 'DELETE', `/searches/${any.body.id as string}`, undefined, pinned)).status, 403)
  t.equal((await send(app, 'PUT', `/searches/${mine.body.id as string}`, { name: 'p1', query: 'timeout' }, pinned)).status, 403, 'cannot widen its own search')
  t.equal((await send(app, 'PUT', `/searches/${mine.body.id as string}`, { name: 'p2', query: 'app_name in (billing) timeout' }, pinned)).status, 200)
  t.equal((await send(app, 'DELETE', `/searches/${mine.body.id as string}`, undefined, pinned)).status, 204)
})

t.test('with read keys but no admin key nobody manages alerts; with no key at all everybody does', async t => {
  const { app } = await buildTestApp(t, { READ_API_KEYS: 'reader-key-0001' })
  t.equal((await send(app, 'GET', '/alerts', undefined, 'reader-key-0001')).status, 403)
  t.equal((await send(app, 'GET', '/alerts')).status, 401)
  const { app: open } = await buildTestApp(t)
  t.equal((await send(open, 'GET', '/alerts')).status, 200)
  t.equal((await send(open, 'GET', '/searches')).status, 200)
})
