// read/admission.ts and read/budget.ts on their own: first come first served, the queue's wait limit, a
// client gone before or while waiting, how each end is counted, and how a budget stops and paces a scan.
import t from 'tap'
import { QueryAdmission } from '../src/read/admission'
import { QueryBudget, QueryStoppedError, SLICE_MS } from '../src/read/budget'

const limits = { concurrency: 1, queue: 2, queueWaitMs: 60_000, timeoutMs: 0, exportTimeoutMs: 0 }

// The admission's timers are unref'd (a server keeps its process alive): this one keeps the test's.
const alive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(alive))

t.test('slots go to the waiting in order; each end is counted once', async t => {
  const a = new QueryAdmission(limits)
  const first = await a.admit(new AbortController().signal)
  const order: string[] = []
  const second = a.admit(new AbortController().signal).then(ticket => { order.push('second'); return ticket })
  const third = a.admit(new AbortController().signal).then(ticket => { order.push('third'); return ticket })
  t.match(a.status(), { running: 1, queued: 2 })
  await t.rejects(a.admit(new AbortController().signal), { code: 'MAAP_TOO_MANY_QUERIES', statusCode: 503 })
  first.finish()
  first.finish() // once only
  const s = await second
  t.same(order, ['second'])
  s.budget.stop('time budget')
  s.finish()
  const th = await third
  t.same(order, ['second', 'third'])
  th.finish()
  t.match(a.status(), { running: 0, queued: 0, answered: 2, timed_out: 1, refused: 1, aborted: 0 })
})

t.test('a query waits at most QUERY_QUEUE_WAIT; a client gone before or while waiting is dropped, counted aborted', async t => {
  const a = new QueryAdmission({ ...limits, queueWaitMs: 20 })
  const running = await a.admit(new AbortController().signal)
  await t.rejects(a.admit(new AbortController().signal), { code: 'MAAP_TOO_MANY_QUERIES', message: /QUERY_QUEUE_WAIT/ })
  const gone = new AbortController()
  const waiting = a.admit(gone.signal)
  gone.abort()
  await t.rejects(waiting, QueryStoppedError)
  await t.rejects(a.admit(gone.signal), QueryStoppedError)
  t.match(a.status(), { running: 1, queued: 0, refused: 1, aborted: 2 })
  // The client of a running query goes: its budget stops, its end is counted aborted.
  const client = new AbortController()
  running.finish()
  const next = await a.admit(client.signal)
  client.abort()
  t.equal(next.budget.stopReason, 'client closed')
  t.throws(() => next.budget.check(), { reason: 'client closed' })
  next.finish()
  t.match(a.status(), { running: 0, aborted: 3, answered: 1 })
})

t.test('QUERY_TIMEOUT: the ticket\'s budget ends by the clock, and by its timer for a query that waits', async t => {
  const a = new QueryAdmission({ ...limits, timeoutMs: 5 })
  const ticket = await a.admit(new AbortController().signal)
  // No scan reads the clock here: the timer stops it (what an export waiting on its client relies on).
  await new Promise(resolve => ticket.budget.signal.addEventListener('abort', resolve))
  t.equal(ticket.budget.stopReason, 'time budget')
  t.equal(ticket.budget.signal.reason, 'time budget')
  t.equal(ticket.budget.remainingMs(), 0)
  ticket.finish()
  t.match(a.status(), { timed_out: 1 })
  // The timer may fire a fraction of a millisecond before the clock reaches the deadline (the event loop
  // counts whole milliseconds): once stopped, nothing is left, whatever the clock says.
  let clock = 0
  const early = new QueryBudget(5, () => clock)
  t.equal(early.remainingMs(), 5)
  clock = 4.8
  early.stop('time budget')
  t.equal(early.remainingMs(), 0, 'stopped: none left, 0.2 ms before the deadline')
})

t.test('a budget paces a scan: a turn of the event loop once SLICE_MS of work ran, an error once stopped', async t => {
  // A clock of the test's own: a slice of work is a step of it, not time the machine may stretch.
  let clock = 0
  const budget = new QueryBudget(Infinity, () => clock)
  t.equal(budget.pace(), undefined, 'nothing to wait for at first')
  t.equal(budget.remainingMs(), Infinity)
  clock += SLICE_MS - 1
  t.equal(budget.pace(), undefined, 'less than a slice: go on')
  clock += 1 // a slice of work
  let ranMeanwhile = false
  setImmediate(() => { ranMeanwhile = true })
  const turn = budget.pace()
  t.ok(turn !== undefined, 'a slice of work: yield')
  await turn
  t.ok(ranMeanwhile, 'what waited for the event loop ran')
  t.equal(budget.pace(), undefined, 'a new slice starts')
  const past = new QueryBudget(performance.now() - 1)
  t.throws(() => past.pace(), { name: 'QueryStoppedError', reason: 'time budget' })
  t.equal(past.stopped, 'time budget')
  past.stop('client closed')
  t.equal(past.stopReason, 'time budget', 'the first reason stays')
  // Another error once the budget has ended (MongoDB's maxTimeMS is its remainder) is that end; before, it is not a stop.
  t.match(past.stopOf(new Error('operation exceeded time limit')), { reason: 'time budget' })
  t.equal(budget.stopOf(new Error('connection reset')), undefined)
  const own = new QueryStoppedError('client closed')
  t.equal(budget.stopOf(own), own)
})
