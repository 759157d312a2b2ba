// The cluster request/reply protocol (cluster/ipc.ts) over in-memory channels that deliver like IPC does
// (asynchronously, in order): ids match replies, timeouts bound a wait, exits end it early, and
// unexpected messages are reported. The real processes are in test/faults/worker-ops.test.ts.
import t from 'tap'
import { EventEmitter } from 'node:events'
import { PrimaryRelay, TAG, UnexpectedMessageError, WorkerIpc, type Channel, type Handlers, type WorkerReply } from '../src/cluster/ipc'

/** One end of a pipe: what is sent here arrives as a 'message' at the other end, on a later tick. */
class End extends EventEmitter implements Channel {
  peer!: End
  broken: Error | undefined
  throws = false
  sent: unknown[] = []
  send (message: unknown, callback?: (err: Error | null) => void): boolean {
    if (this.throws) throw new Error('channel closed')
    this.sent.push(message)
    const copy = JSON.parse(JSON.stringify(message)) as unknown
    setImmediate(() => {
      if (this.broken === undefined) this.peer.emit('message', copy)
      callback?.(this.broken ?? null)
    })
    return true
  }
}

function pipe (): [End, End] {
  const a = new End()
  const b = new End()
  a.peer = b
  b.peer = a
  return [a, b]
}

interface Logged { fields: object, msg: string }

function logger (): { log: (fields: object, msg: string) => void, lines: Logged[] } {
  const lines: Logged[] = []
  return { lines, log: (fields, msg) => lines.push({ fields, msg }) }
}

const answer = (value: unknown, ms = 0): () => Promise<unknown> => async () => await new Promise(resolve => setTimeout(() => resolve(value), ms))

/** A primary and `handlers.length` workers, each worker's channel attached to the relay. */
function cluster (handlers: Array<Partial<Handlers>>, opts: { timeoutMs?: number, extraIds?: number[], reduce?: ConstructorParameters<typeof PrimaryRelay>[0]['reduce'] } = {}) {
  const primaryLog = logger()
  const workerLog = logger()
  const members = handlers.map((h, i) => {
    const [workerEnd, primaryEnd] = pipe()
    const full: Handlers = { status: answer({ worker: i + 1 }), metrics: answer([]), flush: answer({ flushed: 0 }), ...h }
    return { id: i + 1, channel: primaryEnd, workerEnd, ipc: new WorkerIpc(workerEnd, full, workerLog.log) }
  })
  let serving = members.map(m => ({ id: m.id, channel: m.channel }))
  const relay = new PrimaryRelay({
    members: () => serving,
    workerIds: () => [...members.map(m => m.id), ...(opts.extraIds ?? [])],
    timeoutMs: () => opts.timeoutMs ?? 1000,
    ...(opts.reduce === undefined ? {} : { reduce: opts.reduce }),
    log: primaryLog.log
  })
  for (const m of members) relay.attach({ id: m.id, channel: m.channel })
  return { relay, members, primaryLog, workerLog, stopServing: (id: number) => { serving = serving.filter(m => m.id !== id) } }
}

t.test('a worker asks; every worker answers; replies come back by worker id', async t => {
  const c = cluster([{ status: answer('one', 30) }, { status: answer('two', 0) }])
  const replies = await c.members[0]!.ipc.ask('status', 2000) as WorkerReply[]
  t.same(replies, [{ worker_id: 1, ok: true, value: 'one' }, { worker_id: 2, ok: true, value: 'two' }])
  t.same(c.primaryLog.lines, [])
})

t.test('questions in flight at once get their own replies (matched by id, not by order)', async t => {
  const c = cluster([
    { status: answer('s1', 40), flush: answer({ flushed: 3 }, 0) },
    { status: answer('s2', 0), flush: answer({ flushed: 4 }, 20) }
  ])
  const [status, flush, status2] = await Promise.all([
    c.members[0]!.ipc.ask('status', 2000), c.members[1]!.ipc.ask('flush', 2000), c.members[1]!.ipc.ask('status', 2000)
  ]) as WorkerReply[][]
  t.same(status!.map(r => r.ok && r.value), ['s1', 's2'])
  t.same(flush!.map(r => r.ok && r.value), [{ flushed: 3 }, { flushed: 4 }])
  t.same(status2!.map(r => r.ok && r.value), ['s1', 's2'])
})

t.test('the primary reduces a kind when told to (metrics: aggregated there)', async t => {
  const c = cluster([{ metrics: answer(2) }, { metrics: answer(5) }], {
    reduce: { metrics: async replies => replies.reduce((n, r) => n + (r.ok ? r.value as number : 0), 0) }
  })
  t.equal(await c.members[1]!.ipc.ask('metrics', 2000), 7)
})

t.test('a handler that fails, a worker that does not answer in time, one not serving, one that exits', async t => {
  const c = cluster([
    { status: async () => { throw new Error('disk on fire') } },
    { status: answer('late', 300) },
    { status: answer('never', 5000) },
    {}
  ], { timeoutMs: 100, extraIds: [5] })
  c.stopServing(4)
  const asked = c.members[0]!.ipc.ask('status', 2000)
  setTimeout(() => c.relay.gone(3), 20)
  const replies = await asked as WorkerReply[]
  t.same(replies, [
    { worker_id: 1, ok: false, error: 'disk on fire' },
    { worker_id: 2, ok: false, error: 'no answer within 100 ms' },
    { worker_id: 3, ok: false, error: 'the worker exited before answering' },
    { worker_id: 4, ok: false, error: 'not serving (starting or restarting)' },
    { worker_id: 5, ok: false, error: 'not serving (starting or restarting)' }
  ])
  // Worker 2 answers after the timeout: the primary says so and ignores it.
  while (!c.primaryLog.lines.some(l => l.msg.startsWith('late reply'))) await new Promise(resolve => setTimeout(resolve, 20))
  t.match(c.primaryLog.lines, [{ fields: { worker_id: 2 }, msg: /^late reply from a worker/ }])
})

t.test('no workers at all: the answer is immediate', async t => {
  const c = cluster([{}], { extraIds: [2] })
  c.stopServing(1)
  t.same(await c.members[0]!.ipc.ask('flush', 2000), [
    { worker_id: 1, ok: false, error: 'not serving (starting or restarting)' },
    { worker_id: 2, ok: false, error: 'not serving (starting or restarting)' }
  ])
})

t.test('a worker whose channel fails is reported, not waited for', async t => {
  const c = cluster([{}, {}])
  c.members[1]!.channel.broken = new Error('EPIPE')
  c.members[0]!.channel.throws = false
  const replies = await c.members[0]!.ipc.ask('status', 2000) as WorkerReply[]
  t.match(replies[1], { worker_id: 2, ok: false, error: 'cannot reach the worker: EPIPE' })
  const d = cluster([{}, {}])
  d.members[1]!.channel.throws = true
  t.match((await d.members[0]!.ipc.ask('status', 2000) as WorkerReply[])[1], { ok: false, error: 'cannot reach the worker: channel closed' })
})

t.test('the asking worker: a timeout, a primary it cannot reach, close() while waiting', async t => {
  const [workerEnd] = pipe() // nobody listens at the other end
  const log = logger()
  const ipc = new WorkerIpc(workerEnd, { status: answer(1), metrics: answer(1), flush: answer(1) }, log.log)
  await t.rejects(ipc.ask('status', 50), /the cluster primary did not answer "status" within 50 ms/)
  workerEnd.broken = new Error('channel closed')
  await t.rejects(ipc.ask('status', 1000), /cannot reach the cluster primary: channel closed/)
  workerEnd.broken = undefined
  workerEnd.throws = true
  await t.rejects(ipc.ask('flush', 1000), /cannot reach the cluster primary: channel closed/)
  workerEnd.throws = false
  const waiting = ipc.ask('metrics', 1000)
  ipc.close()
  await t.rejects(waiting, /closed while waiting for the cluster primary/)
  t.equal(workerEnd.listenerCount('message'), 0, 'close() stops listening')
})

t.test('unexpected messages are reported loudly; messages without our tag are not ours', async t => {
  const [workerEnd] = pipe()
  const log = logger()
  const ipc = new WorkerIpc(workerEnd, { status: answer(1), metrics: answer(1), flush: answer(1) }, log.log)
  const waiting = ipc.ask('status', 1000)
  await new Promise(resolve => setImmediate(resolve))
  const asked = workerEnd.sent[0] as { id: number }
  t.match(asked, { [TAG]: 'ask', kind: 'status' })
  workerEnd.emit('message', { type: 'prom-client:getMetricsReq' }) // someone else's: ignored
  workerEnd.emit('message', 'hello') // ignored
  workerEnd.emit('message', { [TAG]: 'bogus', id: asked.id })
  const err = await waiting.catch((e: unknown) => e)
  t.type(err, UnexpectedMessageError, 'the question it names fails with it')
  t.match(log.lines, [{ msg: 'unexpected cluster message', fields: { err: /unexpected cluster message: .*bogus/ } }])
  workerEnd.emit('message', { [TAG]: 'collect', id: 9, kind: 'reboot' })
  t.equal(log.lines.length, 2, 'an unknown kind is unexpected too')
  workerEnd.emit('message', { [TAG]: 'answer', id: 12345, ok: true, value: 1 })
  t.match(log.lines[2], { msg: /^late answer from the cluster primary/ })

  const primaryLog = logger()
  const relay = new PrimaryRelay({ members: () => [], workerIds: () => [1], timeoutMs: () => 100, log: primaryLog.log })
  const [, toPrimary] = pipe()
  relay.attach({ id: 1, channel: toPrimary })
  relay.attach({ id: 1, channel: toPrimary }) // attaching again (a restarted worker) replaces the listener
  t.equal(toPrimary.listenerCount('message'), 1)
  toPrimary.emit('message', { [TAG]: 'ask', id: 4, kind: 'format-disk' })
  toPrimary.emit('message', { [TAG]: 'collected', id: 4 })
  toPrimary.emit('message', { type: 'not ours' })
  t.equal(primaryLog.lines.length, 2)
  t.match(primaryLog.lines[0], { fields: { worker_id: 1 }, msg: 'unexpected cluster message' })
  await new Promise(resolve => setImmediate(resolve))
  t.match(toPrimary.sent, [{ [TAG]: 'answer', id: 4, ok: false, error: /unexpected cluster message/ }], 'the asker is told')
  relay.gone(1)
  t.equal(toPrimary.listenerCount('message'), 0, 'an exited worker is no longer listened to')
  toPrimary.throws = true
  relay.attach({ id: 1, channel: toPrimary })
  toPrimary.emit('message', { [TAG]: 'ask', id: 5, kind: 'status' })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(primaryLog.lines.length, 2, 'an answer to a worker that is gone is dropped without an error')
})
