// `each` alerts over a real journal (a real JournalWriter, real segment files) and a real file outbox:
// grouping by received_at, the sample cap, the close by the journal's clock after silence, the same
// notifications (same ids) when a journal is evaluated again from scratch or after a crash mid-group, the
// head/app prefilter held to evaluating every alert on every line, and where a revision starts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { poll } from '../../test/support'
import { groupNotification, MAX_MESSAGE_CHARS } from '../src/alerts/each-group'
import { EachEvaluator } from '../src/alerts/evaluator'
import type { AlertDefinition, Notification } from '../src/alerts/model'
import { FileOutbox } from '../src/alerts/outbox'
import { lineHead } from '../src/journal/line-head'
import { JournalWriter } from '../src/journal/writer'

const T0 = Date.parse('2026-03-01T03:00:00.000Z')
const quiet = { info: () => {}, warn: () => {}, error: () => {} }
interface Test { teardown: (fn: () => unknown) => void }

interface Clock { ms: number }

function tempDir (t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `maap-${name}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}


let idSeq = 0
interface Ev { app: string, level: string, atMs: number, message?: string, extra?: Record<string, unknown>, id?: string }

/** A journal line as ingest writes it (head, then the event with received_at). */
function line (e: Ev): { text: string, id: string } {
  const id = e.id ?? (++idSeq).toString(16).padStart(24, '0')
  const ts = new Date(e.atMs).toISOString()
  const body = { ...e.extra, app_name: e.app, message: e.message ?? 'm', _id: id, received_at: ts }
  return { text: lineHead(ts, e.level) + JSON.stringify(body).slice(1) + '\n', id }
}

async function write (journal: JournalWriter, events: Ev[]): Promise<string[]> {
  const lines = events.map(line)
  await journal.append(lines.map(l => l.text).join(''), lines.length)
  return lines.map(l => l.id)
}

function alert (over: Partial<AlertDefinition> & { id: string, query: string }): AlertDefinition {
  return {
    name: over.id,
    condition: { type: 'each' },
    channels: [{ type: 'webhook', url: 'http://127.0.0.1:1/hook' }],
    group_window_ms: 30_000,
    sample: 100,
    repeat_after_ms: null,
    enabled: true,
    revision: 1,
    active_since: new Date(T0 - 3_600_000).toISOString(),
    created_at: new Date(T0).toISOString(),
    updated_at: new Date(T0).toISOString(),
    ...over
  }
}

async function evaluatorFor (t: Test, journal: JournalWriter, clock: Clock, outboxDir: string, defs: AlertDefinition[], opts: { prefilter?: boolean, chunkBytes?: number } = {}):
Promise<{ ev: EachEvaluator, outbox: FileOutbox }> {
  const outbox = await FileOutbox.open(outboxDir)
  const ev = new EachEvaluator({
    journal, dir: dirOf(journal), journalKey: '', journalId: 'test-journal', outbox, publicUrl: 'http://maap.test', log: quiet, now: () => clock.ms, ...opts
  })
  ev.setAlerts(defs)
  t.teardown(async () => { await ev.stop(); await outbox.close() })
  return { ev, outbox }
}

const dirs = new WeakMap<JournalWriter, string>()
function dirOf (j: JournalWriter): string {
  return dirs.get(j)!
}

async function notifications (outbox: FileOutbox): Promise<Notification[]> {
  const out: Notification[] = []
  for await (const e of outbox.open()) out.push(e.notification)
  return out
}

async function setup (t: Test, clock: Clock): Promise<JournalWriter> {
  const dir = tempDir(t, 'alerts-journal')
  const journal = new JournalWriter({ dir, fsync: 'off', segmentMaxBytes: 64 * 1024 * 1024, now: () => new Date(clock.ms) })
  await journal.open()
  t.teardown(() => journal.close())
  dirs.set(journal, dir)
  return journal
}

t.test('the journal clock: settledThrough never passes an append not yet committed', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  t.equal(journal.settledThrough(), T0, 'idle: now')
  clock.ms = T0 + 1000
  const a = journal.append(line({ app: 'a', level: 'INFO', atMs: clock.ms }).text, 1)
  clock.ms = T0 + 2000
  t.ok(journal.settledThrough() <= T0 + 1000, 'while the first group is written')
  const b = journal.append(line({ app: 'a', level: 'INFO', atMs: clock.ms }).text, 1)
  clock.ms = T0 + 3000
  t.ok(journal.settledThrough() <= T0 + 1000, 'the queued append is bounded too')
  await a
  t.ok(journal.settledThrough() <= T0 + 2000)
  await b
  clock.ms = T0 + 4000
  t.equal(journal.settledThrough(), T0 + 4000, 'idle again: now')
})

t.test('groups by window, caps the sample, and closes by the journal clock after silence', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const def = alert({ id: 'pay', query: 'app_name = payments and level = ERROR', sample: 2 })
  const { ev, outbox } = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), [def])
  const ids = await write(journal, [
    { app: 'payments', level: 'ERROR', atMs: T0 },
    { app: 'payments', level: 'INFO', atMs: T0 + 1000 },
    { app: 'orders', level: 'ERROR', atMs: T0 + 2000 },
    { app: 'payments', level: 'ERROR', atMs: T0 + 10_000 },
    { app: 'payments', level: 'ERROR', atMs: T0 + 29_999 },
    { app: 'payments', level: 'ERROR', atMs: T0 + 30_000 }
  ])
  clock.ms = T0 + 30_000
  await ev.drain()
  let got = await notifications(outbox)
  t.equal(got.length, 1, 'the first group closed when a match at its window came')
  t.equal(got[0]!.count, 3)
  t.same(got[0]!.events.map(e => e._id), [ids[0], ids[3]], 'the first `sample` events')
  t.equal(got[0]!.range.from, new Date(T0).toISOString())
  t.equal(got[0]!.range.to, new Date(T0 + 29_999).toISOString())
  t.equal(got[0]!.created_at, got[0]!.range.to)
  t.same(got[0]!.condition, { type: 'each' })
  t.same(got[0]!.deliveries, [{ channel: 0, type: 'webhook', status: 'pending', attempts: 0, last_error: null, delivered_at: null }])
  t.match(got[0]!.link, /^http:\/\/maap\.test\/\?query=/)
  t.equal(got[0]!.id.length, 26)
  t.equal(ev.stats().open_groups, 1)

  clock.ms = T0 + 59_999
  await ev.drain()
  t.equal((await notifications(outbox)).length, 1, 'not before the window has passed')
  clock.ms = T0 + 60_000
  await ev.drain()
  got = await notifications(outbox)
  t.equal(got.length, 2, 'silence: the clock closes the group')
  t.equal(got[1]!.count, 1)
  t.same(got[1]!.events.map(e => e._id), [ids[5]])
  t.equal(ev.stats().notifications, 2)
  t.equal(ev.stats().open_groups, 0)
})

t.test('start() wakes on commits and on the window passing, by itself', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const def = alert({ id: 'w', query: 'level = ERROR', group_window_ms: 50 })
  const { ev, outbox } = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), [def], {})
  // The real clock here: start() schedules itself.
  const real = Date.now()
  clock.ms = real
  ev.start()
  await write(journal, [{ app: 'a', level: 'ERROR', atMs: real }])
  const advance = setInterval(() => { clock.ms = Date.now() }, 10)
  t.teardown(() => clearInterval(advance))
  await poll(async () => (await notifications(outbox)).length === 1)
  t.pass('notified with no further commit')
})

/** Random events across apps, levels and awkward lines; the alerts' queries vary. */
function mixedEvents (n: number, seed: number): Ev[] {
  let x = seed
  // mulberry32: small, seeded, well mixed in its low bits.
  const rnd = (k: number): number => {
    x = (x + 0x6D2B79F5) | 0
    let r = Math.imul(x ^ (x >>> 15), 1 | x)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) % k
  }
  const apps = ['payments', 'orders', 'say "hi"', 'ünï']
  const levels = ['INFO', 'WARNING', 'ERROR', 'CRITICAL']
  const out: Ev[] = []
  let at = T0
  for (let i = 0; i < n; i++) {
    at += rnd(4000)
    const extra: Record<string, unknown> = { http: { status: [200, 404, 500, 503][rnd(4)] } }
    if (rnd(10) === 0) extra.ctx = { app_name: apps[rnd(4)] } // a nested app_name: the head can't tell
    out.push({ app: apps[rnd(4)]!, level: levels[rnd(4)]!, atMs: at, message: ['ok', 'timeout talking to db', 'Failed'][rnd(3)], extra })
  }
  return out
}

const MIXED_ALERTS = [
  alert({ id: 'a1', query: 'app_name = payments and http.status >= 500', group_window_ms: 20_000, sample: 3 }),
  alert({ id: 'a2', query: 'level in (ERROR, CRITICAL)', group_window_ms: 5_000 }),
  alert({ id: 'a3', query: 'app_name = "say \\"hi\\"" or app_name = ünï' }),
  alert({ id: 'a4', query: 'app_name = ünï and level = WARNING and timeout' }),
  alert({ id: 'a5', query: 'not app_name = orders and ctx.app_name = payments', group_window_ms: 60_000 }),
  alert({ id: 'a6', query: 'failed', group_window_ms: 1 })
]

async function evaluateAll (t: Test, journal: JournalWriter, clock: Clock, opts: { prefilter?: boolean, chunkBytes?: number }, defs = MIXED_ALERTS): Promise<Notification[]> {
  const { ev, outbox } = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), defs, opts)
  await ev.drain()
  return await notifications(outbox)
}

t.test('the prefilter gives the notifications evaluating every alert on every line gives', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const events = mixedEvents(600, 7)
  for (let i = 0; i < events.length; i += 50) await write(journal, events.slice(i, i + 50))
  // An old line without the head: read by parsing.
  const old = JSON.stringify({ timestamp: new Date(T0).toISOString(), level: 'ERROR', app_name: 'payments', message: 'Failed', _id: 'f'.repeat(24), received_at: new Date(events.at(-1)!.atMs).toISOString(), http: { status: 500 } }) + '\n'
  await journal.append(old, 1)
  clock.ms = events.at(-1)!.atMs + 120_000
  const fast = await evaluateAll(t, journal, clock, {})
  const slow = await evaluateAll(t, journal, clock, { prefilter: false })
  t.ok(fast.length > 20, `${fast.length} notifications`)
  for (const id of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']) t.ok(fast.some(n => n.alert_id === id), `${id} fired`)
  t.same(fast, slow)
  const small = await evaluateAll(t, journal, clock, { chunkBytes: 300 })
  t.same(small, fast, 'read in small chunks: the same')
})

t.test('re-evaluating a journal from scratch rebuilds the same notifications with the same ids', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const events = mixedEvents(400, 11)
  const live = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), MIXED_ALERTS)
  // Live: commits arrive in batches while the evaluator keeps up, its clock moving with them.
  for (let i = 0; i < events.length; i += 7) {
    clock.ms = events[Math.min(i + 6, events.length - 1)]!.atMs
    await write(journal, events.slice(i, i + 7))
    await live.ev.drain()
  }
  clock.ms += 120_000
  await live.ev.drain()
  const first = await notifications(live.outbox)
  const again = await evaluateAll(t, journal, clock, {})
  t.ok(first.length > 20)
  // Added in another order across alerts (clock closes came at other moments), each alert's in the same.
  const byId = (a: Notification, b: Notification): number => a.id < b.id ? -1 : 1
  t.same(again.sort(byId), first.sort(byId))
  for (const def of MIXED_ALERTS) {
    t.same(again.filter(n => n.alert_id === def.id), first.filter(n => n.alert_id === def.id), `${def.id}: the same, in order`)
  }
})

t.test('a restart from the stored positions mid-group: every matching event in exactly one notification', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const outboxDir = tempDir(t, 'outbox')
  const events = mixedEvents(300, 3)
  const defs = MIXED_ALERTS
  let run = await evaluatorFor(t, journal, clock, outboxDir, defs)
  const seen: Notification[] = []
  const collect = async (): Promise<void> => {
    for (const n of await notifications(run.outbox)) if (!seen.some(s => s.id === n.id)) seen.push(n)
  }
  for (let i = 0; i < events.length; i += 20) {
    clock.ms = events[Math.min(i + 19, events.length - 1)]!.atMs
    await write(journal, events.slice(i, i + 20))
    await run.ev.drain()
    if (i % 60 === 40) {
      await collect()
      // Killed: the objects are dropped without stop() or close(); a new pair opens the same outbox.
      run = await evaluatorFor(t, journal, clock, outboxDir, defs)
    }
  }
  clock.ms += 120_000
  await run.ev.drain()
  await collect()
  const scratch = await evaluateAll(t, journal, clock, {})
  t.same(seen.map(n => n.id).sort(), scratch.map(n => n.id).sort(), 'the same notifications')
  for (const def of defs) {
    const mine = seen.filter(n => n.alert_id === def.id)
    const total = mine.reduce((s, n) => s + n.count, 0)
    t.equal(total, scratch.filter(n => n.alert_id === def.id).reduce((s, n) => s + n.count, 0), `${def.id}: every match counted once`)
    if (def.sample >= 100) {
      const ids = mine.flatMap(n => n.events.map(e => e._id))
      t.equal(new Set(ids).size, ids.length, `${def.id}: no event twice`)
    }
  }
})

t.test('a revision starts at its active_since, also when learned late', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const { ev, outbox } = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), [])
  ev.setAlerts([])
  const ids: string[] = []
  for (let i = 0; i < 10; i++) {
    clock.ms = T0 + i * 1000
    ids.push(...await write(journal, [{ app: 'a', level: 'ERROR', atMs: clock.ms }]))
    await ev.drain() // the reader keeps up with no alert, leaving marks
  }
  // Learned at T0+9s (as another worker would, by polling), active since T0+4.5s.
  ev.setAlerts([alert({ id: 'late', query: 'level = ERROR', revision: 2, active_since: new Date(T0 + 4500).toISOString(), group_window_ms: 100_000 })])
  clock.ms = T0 + 200_000
  await ev.drain()
  const got = await notifications(outbox)
  t.equal(got.length, 1)
  t.equal(got[0]!.count, 5)
  t.same(got[0]!.events.map(e => e._id), ids.slice(5))
  t.equal(got[0]!.revision, 2)

  // A revision with no mark or segment before its start is evaluated from the oldest segment.
  const fresh = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), [alert({ id: 'x', query: 'level = ERROR', active_since: new Date(T0 + 7000).toISOString() })])
  await fresh.ev.drain()
  t.equal((await notifications(fresh.outbox))[0]!.count, 3)

  // A later revision of the same alert ignores the stored position of the earlier one.
  ev.setAlerts([alert({ id: 'late', query: 'level = ERROR', revision: 3, active_since: new Date(T0 + 8500).toISOString(), group_window_ms: 100_000 })])
  clock.ms = T0 + 400_000
  await ev.drain()
  const after = await notifications(outbox)
  t.equal(after.length, 2)
  t.equal(after[1]!.count, 1)
  t.equal(after[1]!.revision, 3)
  t.not(after[1]!.id, after[0]!.id)
})

t.test('a changed query closes the open group as it stands; ids differ by journal identity; long messages are cut', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  const { ev, outbox } = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), [alert({ id: 'c', query: 'level = ERROR', group_window_ms: 100_000 })])
  const first = await write(journal, [{ app: 'a', level: 'ERROR', atMs: T0, message: 'x'.repeat(5000) }, { app: 'a', level: 'ERROR', atMs: T0 + 10 }])
  await ev.drain()
  t.equal((await notifications(outbox)).length, 0, 'the group is open')
  ev.setAlerts([alert({ id: 'c', query: 'level >= ERROR', revision: 2, active_since: new Date(T0 + 20).toISOString(), group_window_ms: 100_000 })])
  await ev.drain()
  const got = await notifications(outbox)
  t.equal(got.length, 1, 'the old revision\'s group went out at the change')
  t.same(got[0]!.events.map(e => e._id), first)
  t.equal(got[0]!.revision, 1)
  t.equal(got[0]!.events[0]!.message.length, MAX_MESSAGE_CHARS, 'a long message is cut')
  t.ok(got[0]!.events[0]!.message.endsWith('…'))

  // The same journal positions under two journal identities (two collectors whose segments are named alike).
  const g = { first: { segment: 's', offset: 0 }, deadline: 0, count: 1, events: [], end: { segment: 's', offset: 9 }, receivedFrom: new Date(T0).toISOString(), receivedTo: new Date(T0).toISOString(), timestampFrom: new Date(T0).toISOString(), timestampTo: new Date(T0).toISOString() }
  const def = alert({ id: 'same', query: 'x' })
  t.not(groupNotification(def, { key: '', id: 'one' }, 'http://x', g).id, groupNotification(def, { key: '', id: 'two' }, 'http://x', g).id)
})

t.test('while requests keep the thread busy, evaluation yields to them, and still notifies every match', async t => {
  const clock = { ms: T0 }
  const journal = await setup(t, clock)
  // Under the load, evaluation gets 5 % of the thread: each chunk is followed by a pause 19 times its time,
  // and that time includes the busy work run while the chunk's notifications were written (~0.1-0.2 s of
  // pause per notification). 60 events make ~50 notifications: seconds. 400 made ~290, which took past the
  // 30 s after which evaluation stops yielding: the test waited for that, with a core kept busy all along.
  const events = mixedEvents(60, 5)
  for (let i = 0; i < events.length; i += 50) await write(journal, events.slice(i, i + 50))
  clock.ms = events.at(-1)!.atMs + 120_000
  const calm = await evaluateAll(t, journal, clock, { chunkBytes: 2000 })
  t.ok(calm.length > 20, `${calm.length} notifications to make`)
  const { ev, outbox } = await evaluatorFor(t, journal, clock, tempDir(t, 'outbox'), MIXED_ALERTS, { chunkBytes: 2000 })
  // A stand-in for ingest: the event loop kept busy most of the time, from before the evaluator reads.
  let ticks = 0
  const busy = setInterval(() => { ticks++; const until = performance.now() + 8; while (performance.now() < until); }, 10)
  t.teardown(() => clearInterval(busy))
  await poll(() => ticks >= 5)
  ev.start()
  await poll(async () => (await notifications(outbox)).length === calm.length)
  clearInterval(busy)
  t.ok(ev.stats().yields > 0, `${ev.stats().yields} pauses left the thread to the busy work`)
  t.same(await notifications(outbox), calm, 'the same notifications as read without a load')
})

t.test('a position in a segment retention deleted moves to the next one', async t => {
  const clock = { ms: T0 }
  const dir = tempDir(t, 'alerts-journal')
  const small = new JournalWriter({ dir, fsync: 'off', segmentMaxBytes: 100, now: () => new Date(clock.ms) })
  await small.open()
  dirs.set(small, dir)
  t.teardown(() => small.close())
  const outboxDir = tempDir(t, 'outbox')
  const def = alert({ id: 'r', query: 'level = ERROR', group_window_ms: 1 })
  let run = await evaluatorFor(t, small, clock, outboxDir, [def])
  await write(small, [{ app: 'a', level: 'ERROR', atMs: T0 }])
  clock.ms = T0 + 10
  await run.ev.drain()
  await write(small, [{ app: 'a', level: 'ERROR', atMs: T0 + 20 }])
  await write(small, [{ app: 'a', level: 'ERROR', atMs: T0 + 30 }])
  t.ok(small.segments.length >= 3)
  // The segment holding the stored position goes before a restart.
  const gone = small.segments.slice(0, 2)
  for (const s of gone) rmSync(join(dir, s))
  small.forgetSegments(gone)
  run = await evaluatorFor(t, small, clock, outboxDir, [def])
  clock.ms = T0 + 100
  await run.ev.drain()
  const got = await notifications(run.outbox)
  t.same(got.map(n => n.count), [1, 1], 'the first notification, then the event in the segment still there')
  t.equal(got[1]!.range.from, new Date(T0 + 30).toISOString())
  t.equal(run.ev.stats().skipped_segments, 1, 'the segment deleted before it was read to its end is counted')
})
