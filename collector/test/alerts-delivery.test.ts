// The Deliverer over an in-memory outbox and history (plain fakes of the model.ts interfaces) and real HTTP
// receivers on loopback, on a clock moved by hand: lanes in order, one failing lane not holding another,
// a receiver down then back getting everything once and in order, Retry-After, the delivery time-out, a
// permanent refusal, a history store that is down, the bound on sends in flight, and stop().
import t from 'tap'
import type { ServerResponse } from 'node:http'
import type { Channel, DefinitionStore, Delivery, Notification, Outbox, OutboxEntry } from '../src/alerts/model'
import { sendToChannel } from '../src/alerts/channels'
import { Deliverer, type DelivererOptions } from '../src/alerts/delivery'
import { FakeClock, poll } from '../../test/support'
import { notification, receiver } from './alerts-receivers'

const FINAL = new Set(['delivered', 'failed'])

class MemoryOutbox implements Outbox {
  readonly entries: OutboxEntry[] = []
  readonly #listeners: Array<() => void> = []
  async add (n: Notification): Promise<void> {
    if (this.entries.some(e => e.notification.id === n.id)) return
    this.entries.push({ notification: structuredClone(n), recorded: false })
    for (const l of this.#listeners) l()
  }

  async * open (): AsyncGenerator<OutboxEntry> {
    for (const e of [...this.entries]) {
      if (!e.recorded || e.notification.deliveries.some(d => !FINAL.has(d.status))) yield structuredClone(e)
    }
  }

  async update (id: string, deliveries: Delivery[], recorded: boolean): Promise<void> {
    const e = this.entries.find(x => x.notification.id === id)!
    e.notification.deliveries = structuredClone(deliveries)
    e.recorded = recorded
  }

  onAdded (listener: () => void): void { this.#listeners.push(listener) }

  stats (): { pending: number, failed: number, notifications: number, bytes: number } {
    const all = this.entries.flatMap(e => e.notification.deliveries)
    return { pending: all.filter(d => !FINAL.has(d.status)).length, failed: all.filter(d => d.status === 'failed').length, notifications: this.entries.length, bytes: 0 }
  }

  delivery (id: string, channel = 0): Delivery {
    return this.entries.find(x => x.notification.id === id)!.notification.deliveries[channel]!
  }
}

/** The history part of a DefinitionStore; `down` makes it fail as an unreachable MongoDB would. */
class MemoryHistory {
  down = false
  readonly notifications = new Map<string, Notification>()
  async recordNotification (n: Notification): Promise<void> {
    if (this.down) throw new Error('MongoDB is unreachable')
    if (!this.notifications.has(n.id)) this.notifications.set(n.id, structuredClone(n))
  }

  async recordDeliveries (id: string, deliveries: Delivery[]): Promise<void> {
    if (this.down) throw new Error('MongoDB is unreachable')
    this.notifications.get(id)!.deliveries = structuredClone(deliveries)
  }

  asStore (): DefinitionStore {
    return this as unknown as DefinitionStore
  }
}

interface Setup { outbox: MemoryOutbox, history: MemoryHistory, clock: FakeClock, deliverer: Deliverer, errors: Error[] }

function setup (t: { teardown: (fn: () => unknown) => void }, options: Partial<DelivererOptions> = {}): Setup {
  const outbox = new MemoryOutbox()
  const history = new MemoryHistory()
  const clock = new FakeClock()
  const errors: Error[] = []
  const deliverer = new Deliverer({
    outbox,
    send: sendToChannel,
    store: history.asStore(),
    ctx: { smtpUrl: undefined, emailFrom: 'maap@test.local', timeoutMs: 5000 },
    timeoutMs: 3_600_000,
    backoffBaseMs: 1000,
    backoffCapMs: 8000,
    clock,
    random: () => 1,
    onError: err => { errors.push(err) },
    ...options
  })
  deliverer.start()
  t.teardown(() => deliverer.stop())
  return { outbox, history, clock, deliverer, errors }
}

function ids (r: { received: Array<{ body: Buffer }> }): string[] {
  return r.received.map(x => (JSON.parse(x.body.toString('utf8')) as { notification_id: string }).notification_id)
}

const fail = (status: number, headers: Record<string, string> = {}) => (_req: unknown, res: ServerResponse) => { res.writeHead(status, headers); res.end(`down ${status}`) }

t.test('delivers to every channel, records the history, counts by type and result', async t => {
  const a = await receiver(t)
  const b = await receiver(t)
  const s = setup(t)
  const channels: Channel[] = [{ type: 'webhook', url: a.url }, { type: 'slack', url: b.url }]
  await s.outbox.add(notification('x', 1, channels, new Date(s.clock.now())))
  await poll(() => s.outbox.stats().pending === 0 && s.outbox.entries[0]!.recorded)
  t.same(ids(a), ['x-n1'])
  t.equal(b.received.length, 1)
  const d = s.outbox.delivery('x-n1')
  t.same({ status: d.status, attempts: d.attempts, last_error: d.last_error }, { status: 'delivered', attempts: 1, last_error: null })
  t.equal(d.delivered_at, new Date(s.clock.now()).toISOString())
  t.same(s.history.notifications.get('x-n1')!.deliveries.map(x => x.status), ['delivered', 'delivered'])
  t.same(s.deliverer.stats(), { sends: { 'webhook:delivered': 1, 'slack:delivered': 1 }, inFlight: 0, pending: 0, failed: 0 })
  t.same(s.errors, [])
})

t.test('Retry-After is honoured: the retry waits for it, on the clock', async t => {
  let first = true
  const r = await receiver(t, (req, res) => {
    if (first) {
      first = false
      fail(429, { 'retry-after': '120' })(req, res)
    } else res.end()
  })
  const s = setup(t)
  await s.outbox.add(notification('x', 1, [{ type: 'webhook', url: r.url }], new Date(s.clock.now())))
  await poll(() => s.outbox.delivery('x-n1').status === 'retrying')
  t.same({ attempts: s.outbox.delivery('x-n1').attempts, error: s.outbox.delivery('x-n1').last_error }, { attempts: 1, error: 'HTTP 429: down 429' })
  await poll(() => s.clock.pending > 0)
  t.equal(s.clock.requested.at(-1), 120_000, 'the next try is when the receiver asked')
  t.equal(r.received.length, 1)
  s.clock.advance(120_000)
  await poll(() => s.outbox.delivery('x-n1').status === 'delivered')
  t.equal(r.received.length, 2)
  t.same(s.deliverer.stats().sends, { 'webhook:retrying': 1, 'webhook:delivered': 1 })
})

t.test('a failing receiver holds back its own lane only; down then back, it gets every notification once, in order', async t => {
  const failing = await receiver(t, fail(503))
  const good = await receiver(t)
  // random 0: every retry is due at once, so the test needs no clock moves while the receiver is down.
  const s = setup(t, { random: () => 0 })
  for (let i = 1; i <= 5; i++) {
    await s.outbox.add(notification('down', i, [{ type: 'webhook', url: failing.url }], new Date(s.clock.now())))
    await s.outbox.add(notification('up', i, [{ type: 'webhook', url: good.url }], new Date(s.clock.now())))
  }
  await poll(() => good.received.length === 5 && failing.received.length >= 10)
  t.same(ids(good), ['up-n1', 'up-n2', 'up-n3', 'up-n4', 'up-n5'], 'the other lane went on, in order')
  t.same([...new Set(ids(failing))], ['down-n1'], 'only the head of the failing lane was tried')
  const accepted: string[] = []
  failing.answer = (req, res) => {
    accepted.push((JSON.parse(req.body.toString('utf8')) as { notification_id: string }).notification_id)
    res.end()
  }
  await poll(() => s.outbox.stats().pending === 0)
  t.same(accepted, ['down-n1', 'down-n2', 'down-n3', 'down-n4', 'down-n5'], 'back: everything, once, in order')
  t.ok(s.outbox.delivery('down-n1').attempts >= 10)
  t.equal(s.outbox.delivery('down-n2').attempts, 1)
})

t.test('past ALERT_DELIVERY_TIMEOUT a delivery is failed with its last error, counted; a permanent refusal fails at once', async t => {
  // The receiver refuses x-n1 only: the lane's next notification goes through once x-n1 has failed.
  const r = await receiver(t, (req, res) => {
    if (req.body.includes('"x-n1"')) fail(500)(req, res)
    else res.end()
  })
  const gone = await receiver(t, fail(410))
  const s = setup(t, { timeoutMs: 10_000 })
  await s.outbox.add(notification('x', 1, [{ type: 'webhook', url: r.url }, { type: 'slack', url: gone.url }], new Date(s.clock.now())))
  await poll(() => s.outbox.delivery('x-n1').status === 'retrying' && s.outbox.delivery('x-n1', 1).status === 'failed')
  t.same(s.outbox.delivery('x-n1', 1), { channel: 1, type: 'slack', status: 'failed', attempts: 1, last_error: 'HTTP 410: down 410', delivered_at: null }, 'a revoked hook is not retried for a day')
  s.clock.advance(5000)
  await poll(() => s.outbox.delivery('x-n1').attempts === 2)
  await s.outbox.add(notification('x', 2, [{ type: 'webhook', url: r.url }], new Date(s.clock.now())))
  t.notOk(ids(r).includes('x-n2'), 'held behind the head')
  s.clock.advance(5000)
  await poll(() => s.outbox.delivery('x-n1').status === 'failed' && s.outbox.delivery('x-n2').status === 'delivered')
  t.equal(s.outbox.delivery('x-n1').last_error, 'HTTP 500: down 500')
  t.equal(s.outbox.delivery('x-n1').attempts, 2)
  t.same(ids(r), ['x-n1', 'x-n1', 'x-n2'])
  t.equal(s.deliverer.stats().sends['webhook:failed'], 1)
  t.equal(s.deliverer.stats().sends['slack:failed'], 1)
  t.equal(s.deliverer.stats().failed, 2)
  await poll(() => s.history.notifications.get('x-n1')?.deliveries[0]!.status === 'failed')
  t.pass('the failure is visible in the history')
})

t.test('two channels timed out in one walk both end failed; a notification made past its deadline gets the whole timeout from when it was found', async t => {
  const a = await receiver(t, fail(500))
  const b = await receiver(t, fail(503))
  const s = setup(t, { timeoutMs: 10_000 })
  await s.outbox.add(notification('x', 1, [{ type: 'webhook', url: a.url }, { type: 'webhook', url: b.url }], new Date(s.clock.now())))
  await poll(() => s.outbox.delivery('x-n1').status === 'retrying' && s.outbox.delivery('x-n1', 1).status === 'retrying')
  // One wake, both past the deadline: the second change must not bring back the first one's older state.
  s.clock.advance(20_000)
  await poll(() => s.outbox.stats().pending === 0)
  t.same(s.outbox.entries[0]!.notification.deliveries.map(d => d.status), ['failed', 'failed'])

  // Made (e.g. by a collector that was down) after its deadline: not failed untried, and retried for the
  // whole timeout from when this deliverer found it.
  const late = await receiver(t)
  await s.outbox.add(notification('y', 1, [{ type: 'webhook', url: late.url }], new Date(s.clock.now() - 60_000)))
  await poll(() => s.outbox.delivery('y-n1').status === 'delivered')
  t.same(ids(late), ['y-n1'])
  const gone = await receiver(t, fail(500))
  await s.outbox.add(notification('z', 1, [{ type: 'webhook', url: gone.url }], new Date(s.clock.now() - 60_000)))
  await poll(() => s.outbox.delivery('z-n1').status === 'retrying')
  t.equal(s.outbox.delivery('z-n1').attempts, 1, 'retried, not failed after one attempt')
  s.clock.advance(20_000)
  await poll(() => s.outbox.delivery('z-n1').status === 'failed')
  t.match(s.outbox.delivery('z-n1'), { last_error: 'HTTP 500: down 500' }, 'failed once the timeout from when it was found passed, with its error')
})

t.test('a history store that is down never stops delivery; the history catches up when it returns', async t => {
  const r = await receiver(t)
  const s = setup(t)
  s.history.down = true
  for (let i = 1; i <= 3; i++) await s.outbox.add(notification('x', i, [{ type: 'webhook', url: r.url }], new Date(s.clock.now())))
  await poll(() => r.received.length === 3 && s.outbox.stats().pending === 0)
  t.same(ids(r), ['x-n1', 'x-n2', 'x-n3'])
  t.equal(s.history.notifications.size, 0)
  t.ok(s.outbox.entries.every(e => !e.recorded))
  t.ok(s.errors.some(e => e.message === 'MongoDB is unreachable'))
  s.history.down = false
  await poll(() => s.clock.pending > 0)
  s.clock.advance(60_000)
  await poll(() => s.outbox.entries.every(e => e.recorded))
  t.same([...s.history.notifications.values()].map(n => [n.id, n.deliveries[0]!.status]), [['x-n1', 'delivered'], ['x-n2', 'delivered'], ['x-n3', 'delivered']])
  t.equal(r.received.length, 3, 'nothing sent twice')
})

t.test('at most `concurrency` sends at once; stop() waits for them, bounded', async t => {
  const held: ServerResponse[] = []
  const r = await receiver(t, (_req, res) => { held.push(res) })
  const s = setup(t, { concurrency: 2, stopTimeoutMs: 200 })
  for (let i = 1; i <= 4; i++) await s.outbox.add(notification(`lane${i}`, 1, [{ type: 'webhook', url: r.url }], new Date(s.clock.now())))
  await poll(() => held.length === 2)
  t.equal(s.deliverer.stats().inFlight, 2)
  held.shift()!.end()
  await poll(() => held.length === 2 && r.received.length === 3)
  held.shift()!.end()
  held.shift()!.end()
  await poll(() => held.length === 1 && r.received.length === 4)
  t.equal(r.maxOpen, 2)
  await s.deliverer.stop()
  t.pass('stop returned while a receiver still holds a send')
  held.shift()!.end()
  await poll(() => s.deliverer.stats().inFlight === 0)
  t.equal(s.outbox.stats().pending, 0, 'the last send was still recorded')
})
