// Alerts in MongoDB mode: two collectors on one database (definitions shared, `each` alerts over each one's own
// journal, a `count` alert under the lease: notified once, not once per collector), and MongoDB stopped
// (each alerts go on from the definitions in memory; the history catches up when it is back). Issue #21, §3.
//
//   collector A ─┐                          ┌─► hook (each: A's events from A, B's from B)
//   collector B ─┴─► MongoDB (definitions, history, logs, lease) ─► count alert on the lease holder ─► hook
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectTestClient, poll, startCollector, testMongoUri, uniqueDbName } from '../support'
import { api, createAlert, deduped, history, hook, notifiedSeqs, postEvents } from './alerts-support'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, restartableKind, startMongoServer } = require('../mongo/server.mjs')

t.test('two collectors on one MongoDB: shared definitions, each alerts once per journal, a count alert once (lease)', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('alerts2')
  t.teardown(() => client.db(dbName).dropDatabase())
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '0.2' }
  const [a, b] = await Promise.all([startCollector(t, { env }), startCollector(t, { env })])
  const eachHook = await hook(t)
  const countHook = await hook(t)
  const each = await createAlert(a, { name: 'each', query: 'app_name = payments and level >= ERROR', sample: 100, channels: [{ type: 'webhook', url: eachHook.url }] })
  const count = await createAlert(a, {
    name: 'busy', query: 'app_name = counted', condition: { type: 'count', above: 3, window: '3s' }, channels: [{ type: 'webhook', url: countHook.url }]
  })
  // Made on A, seen by B (its poll of the definitions' version).
  await poll(async () => ((await api(b, 'GET', '/alerts')).json.alerts as unknown[]).length === 2)

  const events = (from: number): object[] => Array.from({ length: 4 }, (_, i) => ({ app_name: 'payments', level: 'error', message: `payments failure #${from + i}` }))
  const counted = (n: number): object[] => Array.from({ length: n }, (_, i) => ({ app_name: 'counted', level: 'info', message: `counted #${i}` }))
  await Promise.all([postEvents(a, [...events(0), ...counted(3)]), postEvents(b, [...events(100), ...counted(3)])])

  // each: A's events notified by A, B's by B, every one once.
  const all = await poll(() => { const n = deduped(eachHook); return n.length >= 2 && n })
  const where = notifiedSeqs(t, all)
  t.same([...where.keys()].sort((x, y) => x - y), [0, 1, 2, 3, 100, 101, 102, 103], 'every event in one notification')
  t.equal(all.length, 2, 'one notification per collector')
  for (const n of all) {
    const seqs = n.events.map(e => Number(e.message.split('#')[1]))
    t.ok(seqs.every(s => s < 100) || seqs.every(s => s >= 100), "a notification holds one collector's events")
  }
  // The history is shared: B shows what A delivered, and the other way round.
  await poll(async () => (await history(b, each.id)).filter(n => n.deliveries[0]!.status === 'delivered').length === 2)

  // count: 6 in the window (3 from each collector, through MongoDB) > 3 → firing, then resolved once the window has passed.
  const fired = await poll(() => { const n = deduped(countHook); return n.length >= 2 && n })
  t.same(fired.map(n => n.state), ['firing', 'resolved'], 'fired and resolved, each once: by the lease holder only')
  t.equal(fired[0]!.count, 6, "both collectors' events counted")
  t.equal(countHook.received.length, 2, 'not once per collector')
  const [sa, sb] = await Promise.all([api(a, 'GET', '/status'), api(b, 'GET', '/status')])
  t.equal(sa.json.alerts.alerts, 2)
  t.equal(sb.json.alerts.alerts, 2)
  t.equal(sa.json.alerts.notifications + sb.json.alerts.notifications, 4, 'two each notifications and two count ones, over both')
  // The history is written after the send: wait for both, then nothing more came.
  await poll(async () => (await history(b, count.id)).filter(n => n.deliveries[0]!.status === 'delivered').length === 2)
  t.equal(countHook.received.length, 2, 'still once')
})

t.test('MongoDB stopped: each alerts keep notifying; the history catches up when MongoDB returns', async t => {
  const port: number = await freePort()
  const dbDir = mkdtempSync(join(tmpdir(), 'maap-alerts-outage-'))
  const kind = restartableKind()
  let server = await startMongoServer({ kind, dir: dbDir, port })
  t.teardown(() => server.stop())
  const h = await hook(t)
  const env = { MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`, MONGODB_DB_NAME: 'alerts_outage', FLUSH_INTERVAL: '0.2' }
  const c = await startCollector(t, { env })
  const alert = await createAlert(c, { name: 'errors', query: 'level >= ERROR', channels: [{ type: 'webhook', url: h.url }] })
  // The collector reads the definitions after the write answers: stop MongoDB only once it has them in memory.
  await poll(async () => (await api(c, 'GET', '/status')).json.alerts.alerts === 1)
  await server.stop()
  await postEvents(c, [{ app_name: 'payments', level: 'error', message: 'while MongoDB is down #1' }])
  await poll(() => h.received.length >= 1)
  t.equal(h.received[0]!.json.events[0]!.message, 'while MongoDB is down #1', 'notified with MongoDB down')
  t.equal(h.received[0]!.json.alert.id, alert.id)

  server = await startMongoServer({ kind, dir: dbDir, port })
  const caught = await poll(async () => {
    const res = await api(c, 'GET', `/alerts/${alert.id}/history`)
    const list = res.status === 200 ? res.json.notifications as Array<{ id: string, deliveries: Array<{ status: string }> }> : []
    return list.length === 1 && list[0]!.deliveries[0]!.status === 'delivered' && list
  }, 100)
  t.equal(caught[0]!.id, h.received[0]!.json.notification_id, 'the history has it, delivered')
  t.equal(h.received.length, 1, 'sent once')

  // A collector started while MongoDB is down has no definitions; it reads them once MongoDB is back (the
  // store's poll alone reloads only when the version moves, which it did not).
  await server.stop()
  const d = await startCollector(t, { env })
  await poll(async () => (await api(d, 'GET', '/status')).json.alerts.definitions_error !== null)
  t.equal((await api(d, 'GET', '/status')).json.alerts.alerts, 0, 'none read while MongoDB is down')
  server = await startMongoServer({ kind, dir: dbDir, port })
  await poll(async () => { const s = (await api(d, 'GET', '/status')).json.alerts; return s.alerts === 1 && s.definitions_error === null })
  await postEvents(d, [{ app_name: 'payments', level: 'error', message: 'to a collector that started with MongoDB down #2' }])
  const second = await poll(() => h.received.length >= 2 && h.received[1]!.json)
  t.equal(second.events[0]!.message, 'to a collector that started with MongoDB down #2', 'its alert in force once read')
  t.not(second.notification_id, h.received[0]!.json.notification_id, "another journal's notification has its own id")
})
