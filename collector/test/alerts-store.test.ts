// Both DefinitionStores keep the same contract: CRUD with unique names, the revision rules, count state
// (deleted with its alert), history idempotent by id and newest first without channels, and onChange seen
// by another instance (another worker process or collector) on the same files or database.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectTestClient, poll, testMongoUri, uniqueDbName } from '../../test/support'
import type { AlertInput, DefinitionStore, Notification } from '../src/alerts/model'
import { NameTakenError } from '../src/alerts/model'
import { FileDefinitionStore } from '../src/alerts/store-file'
import { MongoDefinitionStore } from '../src/alerts/store-mongo'
import { formatDuration, parseDuration } from '../src/alerts/definition'
import { buildTestApp } from './helpers'

const input = (over: Partial<AlertInput> = {}): AlertInput => ({
  name: 'a', query: 'level >= error', condition: { type: 'each' }, channels: [{ type: 'slack', url: 'https://hooks.slack.com/x' }],
  group_window_ms: 30_000, sample: 10, repeat_after_ms: null, enabled: true, ...over
})

function notification (alertId: string, id: string, createdAt: string): Notification {
  return {
    id, alert_id: alertId, alert_name: 'a', revision: 1, state: 'firing', condition: { type: 'each' }, count: 1, events: [],
    link: 'http://x/', range: { from: createdAt, to: createdAt }, created_at: createdAt,
    channels: [{ type: 'webhook', url: 'https://h.example/p', secret: 'k' }],
    deliveries: [{ channel: 0, type: 'webhook', status: 'pending', attempts: 0, last_error: null, delivered_at: null }]
  }
}

async function taken (p: Promise<unknown>): Promise<boolean> {
  return await p.then(() => false, (err: unknown) => err instanceof NameTakenError)
}

async function contract (t: Tap.Test, open: () => DefinitionStore): Promise<void> {
  const store = open()
  const other = open()
  t.teardown(async () => { await store.close(); await other.close() })
  let changes = 0
  other.onChange(() => { changes++ })

  const s = await store.createSearch({ name: 'errors', query: 'level >= error' })
  t.ok(await taken(store.createSearch({ name: 'errors', query: 'x' })), 'the name is taken')
  await poll(() => changes > 0)
  t.same(await other.getSearch(s.id), s, 'the other instance reads it')
  const s2 = await store.createSearch({ name: 'warnings', query: 'level >= warn' })
  t.ok(await taken(store.updateSearch(s2.id, { name: 'errors', query: 'x' })), 'the name is taken')
  t.equal((await store.updateSearch(s.id, { name: 'errs', query: 'y' }))?.name, 'errs')
  t.equal(await store.updateSearch('nope', { name: 'z', query: 'y' }), undefined)
  t.same((await store.listSearches()).map(x => x.name).sort(), ['errs', 'warnings'])
  t.equal(await store.deleteSearch(s.id), true)
  t.equal(await store.deleteSearch(s.id), false)
  t.equal(await store.getSearch(s.id), undefined)

  const seen = changes
  const a = await store.createAlert(input())
  await poll(() => changes > seen)
  t.match(a, { revision: 1, enabled: true })
  t.equal(a.active_since, a.created_at)
  t.ok(await taken(store.createAlert(input())), 'the name is taken')
  const renamed = (await store.updateAlert(a.id, input({ name: 'b', sample: 5 })))!
  t.equal(renamed.revision, 1)
  t.equal(renamed.active_since, a.active_since)
  const requeried = (await store.updateAlert(a.id, input({ name: 'b', query: 'level >= warn' })))!
  t.equal(requeried.revision, 2)
  t.equal(await store.updateAlert('nope', input({ name: 'q' })), undefined)
  t.same(await other.getAlert(a.id), requeried)
  t.equal((await other.listAlerts()).length, 1)

  await store.setCountState({ alert_id: a.id, revision: 2, state: 'firing', since: a.created_at, last_notified_at: null })
  t.match(await other.countState(a.id), { alert_id: a.id, state: 'firing' })

  const n1 = notification(a.id, 'n1', '2026-01-01T00:00:00.000Z')
  await store.recordNotification(n1)
  await store.recordNotification(notification(a.id, 'n2', '2026-01-01T00:01:00.000Z'))
  await store.recordNotification(n1)
  const h = await other.history(a.id, 10)
  t.same(h.map(n => n.id), ['n2', 'n1'], 'newest first, each once')
  t.notOk('channels' in h[0]!, 'without channels')
  t.same((await store.history(a.id, 1)).map(n => n.id), ['n2'])
  await other.recordDeliveries('n1', [{ channel: 0, type: 'webhook', status: 'delivered', attempts: 1, last_error: null, delivered_at: '2026-01-01T00:00:01.000Z' }])
  t.equal((await store.history(a.id, 10))[1]!.deliveries[0]!.status, 'delivered')
  await store.recordDeliveries('unknown', [])

  t.equal(await store.deleteAlert(a.id), true)
  t.equal(await store.deleteAlert(a.id), false)
  t.equal(await store.countState(a.id), undefined, 'its count state goes with it')
  t.equal(await other.getAlert(a.id), undefined)
}

t.test('durations', async t => {
  t.equal(parseDuration('30s', 'f'), 30_000)
  t.equal(parseDuration(' 2d ', 'f'), 172_800_000)
  t.equal(parseDuration(90, 'f'), 90_000)
  t.throws(() => parseDuration('1.5m', 'f'))
  t.throws(() => parseDuration(1.5, 'f'))
  t.equal(formatDuration(90_000), '90s')
  t.equal(formatDuration(3_600_000), '1h')
  t.equal(formatDuration(1500), '1.5s')
})

t.test('the file store, two instances on one LOG_DIR (two worker processes)', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-defs-'))
  await contract(t, () => new FileDefinitionStore(dir, { pollMs: 20 }))
})

t.test('concurrent creates of one name on two file-store instances: exactly one wins', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-defs-'))
  const stores = [new FileDefinitionStore(dir), new FileDefinitionStore(dir)]
  t.teardown(async () => { for (const s of stores) await s.close() })
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => stores[i % 2]!.createSearch({ name: 'same', query: 'x' })))
  t.equal(results.filter(r => r.status === 'fulfilled').length, 1)
  t.equal((await stores[0]!.listSearches()).length, 1)
})

t.test('the MongoDB store, two instances on one database (two collectors)', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('defs')
  t.teardown(() => client.db(dbName).dropDatabase())
  await contract(t, () => MongoDefinitionStore.open(testMongoUri(), dbName, 'logs', { pollMs: 20 }))
  const names = (await client.db(dbName).listCollections().toArray()).map(c => c.name).sort()
  t.same(names.filter(n => n.startsWith('logs_')), ['logs_alert_history', 'logs_alert_meta', 'logs_alert_state', 'logs_alerts', 'logs_searches'])
})

t.test('the routes with MongoDB: definitions live in the database', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('defsapi')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600' })
  const res = await app.inject({ method: 'POST', url: '/alerts', payload: { name: 'x', query: 'level >= error', channels: [{ type: 'slack', url: 'https://hooks.slack.com/services/a' }] } })
  t.equal(res.statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/alerts', payload: { name: 'x', query: 'a', channels: [{ type: 'slack', url: 'https://h.example/' }] } })).statusCode, 409)
  const doc = await client.db(dbName).collection('logs_alerts').findOne({ name: 'x' })
  t.equal(doc?._id, res.json().id)
  const search = await app.inject({ method: 'POST', url: '/searches', payload: { name: 's', query: 'a' } })
  t.equal(search.statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/searches' })).json().searches.length, 1)
  t.equal((await app.inject({ method: 'DELETE', url: `/alerts/${res.json().id as string}` })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: '/alerts' })).json().alerts.length, 0)
})
