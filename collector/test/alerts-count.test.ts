// `count` alerts over a real collector's read side (embedded journal, and the provisioned MongoDB): `above`
// fires once, repeats per repeat_after and resolves once; `below` fires for a quiet app and neither fires
// nor resolves while MongoDB is down; a revision starts fresh; two evaluators on one MongoDB notify once.
// Time is the test's clock: events are timestamped on it and the evaluator is ticked after moving it.
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { connectTestClient, poll, testMongoUri, uniqueDbName } from '../../test/support'
import { countSource, notificationEvent } from '../src/alerts/count-source'
import { CountEvaluator, conditionJson, countInterval, countLease, durationText, evaluatesCounts, type CountEvaluatorOptions } from '../src/alerts/count'
import type { AlertDefinition, CountState, Notification } from '../src/alerts/model'
import { LEASE_COLLECTION, type LeaseDocument } from '../src/retention/lease'
import { Searcher } from '../src/read/search'
import { JournalSet } from '../src/read/sources'
import { buildTestApp } from './helpers'
import { postEvents } from './read-helpers'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, restartableKind, startMongoServer } = require('../../test/mongo/server.mjs')

const MINUTE = 60_000
const noFlush = { FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', LOG_RETENTION_DAYS: '0', MAX_DOCUMENTS: '0', MAX_COLLECTION_SIZE: '0' }

class FakeOutbox {
  readonly added: Notification[] = []
  async add (n: Notification): Promise<void> {
    if (!this.added.some(a => a.id === n.id)) this.added.push(n)
  }
}

class FakeStore {
  readonly states = new Map<string, CountState>()
  failNext = false
  async countState (id: string): Promise<CountState | undefined> {
    return this.states.get(id)
  }

  async setCountState (s: CountState): Promise<void> {
    if (this.failNext) {
      this.failNext = false
      throw new Error('store down')
    }
    this.states.set(s.alert_id, { ...s })
  }
}

/** The test's clock, a minute ahead of real time so every event's real received_at is before "now". */
function testClock (): { now: () => number, advance: (ms: number) => void } {
  let now = Date.now() + MINUTE
  return { now: () => now, advance: ms => { now += ms } }
}

function alert (over: Partial<AlertDefinition> & Pick<AlertDefinition, 'condition'>): AlertDefinition {
  const at = new Date(Date.now() - 1000).toISOString()
  return {
    id: 'a1',
    name: 'payments errors',
    query: 'app_name = payments and level >= error',
    channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 's' }, { type: 'email', to: ['oncall@example.com'] }],
    group_window_ms: 30_000,
    sample: 10,
    repeat_after_ms: null,
    enabled: true,
    revision: 1,
    active_since: at,
    created_at: at,
    updated_at: at,
    ...over
  }
}

function searcherOf (app: FastifyInstance): Searcher {
  return (app as unknown as { collector: { searcher: Searcher } }).collector.searcher
}

function evaluator (app: FastifyInstance, clock: { now: () => number }, over: Partial<CountEvaluatorOptions> = {}): { ev: CountEvaluator, outbox: FakeOutbox, store: FakeStore } {
  const outbox = new FakeOutbox()
  const store = new FakeStore()
  const ev = new CountEvaluator({ ...countSource(searcherOf(app)), outbox, store, publicUrl: 'http://logs.example/', now: clock.now, intervalMs: 1000, ...over })
  return { ev, outbox, store }
}

const payments = (clock: { now: () => number }, n: number, tag: string): object[] =>
  Array.from({ length: n }, (_, i) => ({ app_name: 'payments', level: 'error', message: `${tag} ${i}`, timestamp: clock.now() - 1000 + i }))

t.test('above: fires once, repeats per repeat_after, resolves once (embedded journal)', async t => {
  const { app } = await buildTestApp(t)
  const clock = testClock()
  const { ev, outbox, store } = evaluator(app, clock)
  ev.setAlerts([alert({ condition: { type: 'count', above: 2, window_ms: 5 * MINUTE }, repeat_after_ms: 2 * MINUTE }),
    alert({ id: 'off', enabled: false, condition: { type: 'count', above: 0, window_ms: MINUTE } }),
    alert({ id: 'each', condition: { type: 'each' } })])
  t.equal(ev.stats().alerts, 1, 'only enabled count alerts')

  await ev.tick()
  t.equal(outbox.added.length, 0, 'nothing matches yet')
  await postEvents(app, [...payments(clock, 3, 'boom'), { app_name: 'payments', level: 'info', message: 'fine', timestamp: clock.now() - 500 }, { app_name: 'web', level: 'error', message: 'other' }])
  clock.advance(1000)
  await ev.tick()
  t.equal(outbox.added.length, 1, 'fires')
  const fired = outbox.added[0]!
  t.equal(fired.state, 'firing')
  t.equal(fired.count, 3)
  t.same(fired.events.map(e => e.message), ['boom 0', 'boom 1', 'boom 2'], 'the samples, oldest first')
  t.same(fired.condition, { type: 'count', above: 2, window: '5m' })
  t.equal(fired.range.to, new Date(clock.now()).toISOString())
  t.same(fired.deliveries.map(d => [d.channel, d.type, d.status, d.attempts]), [[0, 'webhook', 'pending', 0], [1, 'email', 'pending', 0]])
  t.same(fired.channels, alert({ condition: { type: 'each' } }).channels, 'channels copied')
  const link = new URL(fired.link)
  t.equal(link.origin, 'http://logs.example')
  t.match(link.searchParams.get('query'), /^\(app_name = payments and level >= error\) and received_at >= /)
  // The link's query and range show exactly what was counted.
  const shown = await app.inject({ method: 'GET', url: `/logs?${link.searchParams.toString()}` })
  t.equal(shown.json().events.length, 3, 'the link shows the counted events')
  t.equal(store.states.get('a1')?.state, 'firing')
  t.equal(ev.stats().firing, 1)

  clock.advance(MINUTE)
  await ev.tick()
  t.equal(outbox.added.length, 1, 'still firing: not again before repeat_after')
  clock.advance(MINUTE)
  await ev.tick()
  t.equal(outbox.added.length, 2, 'repeats after repeat_after')
  t.equal(outbox.added[1]!.state, 'firing')
  t.not(outbox.added[1]!.id, fired.id)

  clock.advance(4 * MINUTE)
  await ev.tick()
  t.equal(outbox.added.length, 3, 'resolves when the window no longer holds more than 2')
  t.equal(outbox.added[2]!.state, 'resolved')
  t.equal(outbox.added[2]!.count, 0)
  clock.advance(MINUTE)
  await ev.tick()
  t.equal(outbox.added.length, 3, 'resolved once')
  t.equal(ev.stats().firing, 0)
  t.equal(ev.stats().evaluations, 6)
})

t.test('a crash between the outbox and the state rebuilds the same notification', async t => {
  const { app } = await buildTestApp(t)
  const clock = testClock()
  const { ev, outbox, store } = evaluator(app, clock)
  const errors: string[] = []
  const ev2 = new CountEvaluator({ ...countSource(searcherOf(app)), outbox, store, publicUrl: 'http://x', now: clock.now, intervalMs: 1000, onError: err => errors.push(err.message) })
  const def = alert({ condition: { type: 'count', above: 0, window_ms: 5 * MINUTE } })
  ev.setAlerts([def])
  ev2.setAlerts([def])
  await postEvents(app, payments(clock, 1, 'x'))
  store.failNext = true
  await ev.tick()
  t.equal(outbox.added.length, 1, 'in the outbox')
  t.equal(store.states.size, 0, 'but the state was not stored')
  t.same(errors, [])
  t.equal(ev.stats().errors, 1)
  // Another process (or this one after a restart), later, evaluates from the stored state.
  clock.advance(30_000)
  await ev2.tick()
  t.equal(outbox.added.length, 1, 'the same id: taken once')
  t.same(errors, [], 'no error')
  t.equal(store.states.get('a1')?.state, 'firing')
})

t.test('a revision starts fresh at active_since; below waits a whole window', async t => {
  const { app } = await buildTestApp(t)
  const clock = testClock()
  const { ev, outbox, store } = evaluator(app, clock)
  await postEvents(app, payments(clock, 5, 'before'))
  // The revision starts after those events were received.
  const since = new Date(Date.now() + 1).toISOString()
  await new Promise(resolve => setImmediate(resolve))
  store.states.set('a1', { alert_id: 'a1', revision: 1, state: 'firing', since, last_notified_at: since })
  ev.setAlerts([alert({ revision: 2, active_since: since, condition: { type: 'count', above: 2, window_ms: 5 * MINUTE } }),
    alert({ id: 'quiet', query: 'app_name = quiet', revision: 1, active_since: new Date(clock.now()).toISOString(), condition: { type: 'count', below: 1, window_ms: MINUTE } })])
  await ev.tick()
  t.equal(outbox.added.length, 0, 'events before the revision are not counted, the old revision\'s firing is not resolved, and below has not seen a window')
  t.equal(store.states.get('a1')?.revision, 1, 'no new state without a notification')
  while (Date.now() <= Date.parse(since)) await new Promise(resolve => setImmediate(resolve))
  await postEvents(app, payments(clock, 3, 'after'))
  clock.advance(MINUTE)
  await ev.tick()
  t.same(outbox.added.map(n => [n.alert_id, n.state, n.count]), [['a1', 'firing', 3], ['quiet', 'firing', 0]], 'counted from active_since; below after a whole window')
  t.same(outbox.added[0]!.events.map(e => e.message), ['after 0', 'after 1', 'after 2'])
  t.equal(store.states.get('a1')?.revision, 2)
})

t.test('below with MongoDB: fires for a quiet app; neither fires nor resolves while MongoDB is down', { timeout: 180_000 }, async t => {
  const port = await freePort()
  const kind = restartableKind()
  const dir = mkdtempSync(join(tmpdir(), 'maap-count-outage-'))
  let server = await startMongoServer({ kind, dir, port })
  t.teardown(async () => { await server?.stop() })
  const { app } = await buildTestApp(t, { MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`, MONGODB_DB_NAME: 'countoutage', ...noFlush })
  const clock = testClock()
  const { ev, outbox } = evaluator(app, clock)
  const start = new Date(Date.now() - 1000).toISOString()
  const quiet = alert({ id: 'quiet', query: 'app_name = quiet', active_since: start, condition: { type: 'count', below: 1, window_ms: MINUTE } })
  ev.setAlerts([quiet])

  await postEvents(app, [{ app_name: 'quiet', message: 'alive', timestamp: clock.now() - 1000 }])
  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  await ev.tick()
  t.equal(outbox.added.length, 0, 'one event in the window: not below 1')
  clock.advance(2 * MINUTE)
  await ev.tick()
  t.same(outbox.added.map(n => [n.state, n.count]), [['firing', 0]], 'quiet for a window: fires')
  t.same(outbox.added[0]!.condition, { type: 'count', below: 1, window: '1m' })

  await server.stop()
  server = undefined
  // A second alert whose first whole window passes during the outage.
  const silent = alert({ id: 'silent', query: 'app_name = silent', active_since: new Date(clock.now()).toISOString(), condition: { type: 'count', below: 1, window_ms: MINUTE } })
  ev.setAlerts([quiet, silent])
  clock.advance(2 * MINUTE)
  await postEvents(app, [{ app_name: 'quiet', message: 'back', timestamp: clock.now() - 1000 }])
  await ev.tick()
  t.equal(outbox.added.length, 1, 'MongoDB down: the quiet app does not resolve, the silent one does not fire')
  t.equal(ev.stats().incomplete, 2)

  server = await startMongoServer({ kind, dir, port })
  // Until the driver has found the server again, counts stay incomplete and nothing is decided.
  await poll(async () => {
    clock.advance(1000)
    await ev.tick()
    return outbox.added.length >= 3
  })
  t.same(outbox.added.slice(1).map(n => [n.alert_id, n.state, n.count]), [['quiet', 'resolved', 1], ['silent', 'firing', 0]], 'MongoDB back: both decided')
})

t.test('two evaluators on one MongoDB: one notifies; the other takes over without repeating', { timeout: 120_000 }, async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('count')
  t.teardown(() => client.db(dbName).dropDatabase())
  const { app } = await buildTestApp(t, { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, ...noFlush })
  const clock = testClock()
  const store = new FakeStore() // the definitions' store is shared by the collectors on one MongoDB
  const locks = client.db(dbName).collection<LeaseDocument>(LEASE_COLLECTION)
  const make = (owner: string): { ev: CountEvaluator, outbox: FakeOutbox } => {
    const outbox = new FakeOutbox()
    const ev = new CountEvaluator({ ...countSource(searcherOf(app)), outbox, store, lease: countLease(locks, dbName, 'logs', { owner, now: clock.now }), publicUrl: 'http://x', now: clock.now, intervalMs: 1000, onError: err => { t.fail(err.message) } })
    ev.setAlerts([alert({ condition: { type: 'count', above: 1, window_ms: 5 * MINUTE } })])
    return { ev, outbox }
  }
  const a = make('a')
  const b = make('b')
  await postEvents(app, payments(clock, 2, 'x'))
  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  for (let i = 0; i < 3; i++) {
    await Promise.all([a.ev.tick(), b.ev.tick()])
    clock.advance(1000)
  }
  t.equal(a.outbox.added.length + b.outbox.added.length, 1, 'one notification between them')
  const [leader, other] = a.outbox.added.length === 1 ? [a, b] : [b, a]
  t.equal(leader.ev.stats().leader, true)
  t.equal(other.ev.stats().leader, false)
  t.equal((await locks.findOne({ lease: `alerts:${dbName}.logs` }))?.owner, leader === a ? 'a' : 'b', 'the lease is alerts:<db>.<collection>')

  await leader.ev.stop()
  clock.advance(1000)
  await other.ev.tick()
  t.equal(other.outbox.added.length, 0, 'the new holder continues from the shared state: no second firing')
  clock.advance(5 * MINUTE)
  await other.ev.tick()
  t.same(other.outbox.added.map(n => n.state), ['resolved'], 'and resolves it')
  await other.ev.stop()
})

t.test('helpers: intervals, durations, conditions, who evaluates, events', async t => {
  t.equal(countInterval(5 * MINUTE), 15_000)
  t.equal(countInterval(60_000), 6000)
  t.equal(countInterval(2000), 1000)
  t.same([durationText(3_600_000), durationText(300_000), durationText(30_000), durationText(1500), durationText(86_400_000)], ['1h', '5m', '30s', '1500ms', '1d'])
  t.same(conditionJson({ type: 'count', below: 3, window_ms: 600_000 }), { type: 'count', below: 3, window: '10m' })
  t.equal(evaluatesCounts(undefined, false), true)
  t.equal(evaluatesCounts(1, false), true)
  t.equal(evaluatesCounts(2, false), false)
  t.equal(evaluatesCounts(2, true), true)
  t.same(notificationEvent({ _id: 'i', timestamp: 't', received_at: 'r', level: 'INFO', app_name: 'a', message: { x: 1 } }).message, '{"x":1}')
  t.equal(notificationEvent({}).message, '')
})

t.test('the timer evaluates by itself and stop() ends it', async t => {
  const { app } = await buildTestApp(t)
  const { ev, outbox } = evaluator(app, { now: Date.now }, { intervalMs: 1 })
  ev.setAlerts([alert({ condition: { type: 'count', above: 0, window_ms: MINUTE } })])
  await postEvents(app, [{ app_name: 'payments', level: 'error', message: 'one' }])
  ev.start()
  ev.start()
  await poll(() => outbox.added.length === 1)
  await ev.stop()
  ev.start()
  t.equal(outbox.added[0]!.count, 1)
})

t.test('a count alert created in a process that had none is evaluated at once, not when the old timer ends', { timeout: 20_000 }, async t => {
  const { app } = await buildTestApp(t)
  // The timer a process with no count alert sets is 15 s; an hour here, so only the check setAlerts
  // schedules now can evaluate the new alert before the test's timeout.
  const { ev, outbox } = evaluator(app, { now: Date.now }, { intervalMs: 3_600_000 })
  t.teardown(() => ev.stop())
  ev.setAlerts([])
  ev.start()
  await postEvents(app, [{ app_name: 'payments', level: 'error', message: 'one' }])
  ev.setAlerts([alert({ condition: { type: 'count', above: 0, window_ms: MINUTE } })])
  await poll(() => outbox.added.length === 1)
  t.equal(outbox.added[0]!.state, 'firing')
  t.equal(outbox.added[0]!.count, 1)
  t.equal(ev.stats().evaluations, 1, 'one evaluation: the one due at once')
})

t.test('a journal that cannot be listed makes a count incomplete', async t => {
  const base = mkdtempSync(join(tmpdir(), 'maap-count-workers-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  mkdirSync(join(base, 'worker-1'))
  const own = { dir: join(base, 'worker-1'), segments: () => [], end: () => ({ segment: '', offset: 0 }), confirmed: () => undefined }
  const { count } = countSource(new Searcher(new JournalSet(own, 1, false), undefined))
  const from = new Date(Date.now() - MINUTE)
  const to = new Date()
  t.same(await count('', from, to), { count: 0, complete: true }, 'every journal listed')
  writeFileSync(join(base, 'worker-2'), 'not a directory') // a sibling whose journal cannot be read
  t.same(await count('', from, to), { count: 0, complete: false }, 'a sibling missing')
  rmSync(base, { recursive: true, force: true })
  t.same(await count('', from, to), { count: 0, complete: false }, 'the workers\' directory gone')
})

t.test('no lease, no evaluation; no sample asked, none fetched', async t => {
  const errors: string[] = []
  const outbox = new FakeOutbox()
  let held = false
  const lease = {
    acquire: async () => { if (!held) throw new Error('MongoDB down'); return true },
    get held () { return held },
    release: async () => { throw new Error('still down') }
  }
  const ev = new CountEvaluator({
    count: async () => ({ count: 5, complete: true }),
    samples: async () => { throw new Error('not asked for') },
    outbox,
    store: new FakeStore(),
    lease,
    publicUrl: 'http://x',
    onError: err => errors.push(err.message)
  })
  ev.setAlerts([alert({ sample: 0, condition: { type: 'count', above: 1, window_ms: MINUTE } })])
  await ev.tick()
  t.same(errors, ['MongoDB down'])
  t.equal(ev.stats().leader, false)
  t.equal(outbox.added.length, 0)
  held = true
  await ev.tick()
  t.equal(outbox.added.length, 1)
  await ev.stop()
})
