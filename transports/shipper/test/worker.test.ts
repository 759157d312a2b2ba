import t from 'tap'
import { once } from 'node:events'
import * as threads from 'node:worker_threads'
import { hostShipper, startShipperThread } from '@maap-event-logger/shipper'
import { captureStderr, FakeClock, startStub } from '../../../test/support'


t.test('a shipper in a worker thread: write on this thread, flush and close resolve after delivery', async t => {
  const stub = await startStub(t, (req) => {
    const rejected = req.events.flatMap((e, index) => e.message === 'bad' ? [{ index, error: 'nope' }] : [])
    return { status: 200, body: { accepted: req.lines.length - rejected.length, rejected } }
  })
  const w = startShipperThread({ url: stub.url, appName: 'wk' })
  const rejected: unknown[] = []
  const errors: unknown[] = []
  w.on('rejected', r => rejected.push(r))
  w.on('error', e => errors.push(e))
  for (let i = 0; i < 50; i++) t.equal(w.write(JSON.stringify({ level: 'info', message: `w${i}` })), true)
  w.write('{"msg":"bad"}')
  const flushed = await w.flush()
  t.equal(flushed.sent, 50)
  t.equal(flushed.rejected, 1)
  t.match(rejected, [{ records: 1 }])
  t.match(errors, [{ name: 'ShipperError', code: 'MAAP_SHIP_REJECTED', records: 1 }])
  w.write('after flush')
  const closed = await w.close()
  t.equal(closed.sent, 51)
  t.equal(await w.close(), closed, 'idempotent')
  t.equal(w.write('after close'), false, 'no records once closed')
  t.equal(stub.accepted.at(-1)!.message, 'after flush')
  t.equal(stub.accepted[0]!.app_name, 'wk')
})

t.test('writes after close are dropped and counted on this thread: close() and flush() report them alike', async t => {
  const stub = await startStub(t)
  const clock = new FakeClock()
  const w = startShipperThread({ url: stub.url, appName: 'late' }, { clock })
  const drops: unknown[] = []
  w.on('dropped', d => drops.push(d))
  w.write('{"msg":"in time"}')
  const closing = w.close()
  const stderr = captureStderr(t)
  for (let i = 0; i < 10; i++) t.equal(w.write('{"msg":"while closing"}'), false)
  const closed = await closing
  t.match(closed, { sent: 1, dropped: 10 }, 'close() counts the writes it refused')
  t.same(await w.flush(), closed, 'flush() after close() answers with the same counters')
  for (let i = 0; i < 90; i++) w.write('{"msg":"after close"}')
  t.match(await w.flush(), { sent: 1, dropped: 100 }, 'flush() counts later refusals too')
  const before = stderr.lines.length
  clock.advance(999)
  t.equal(stderr.lines.length, before, 'not within the second after the last line')
  clock.advance(1)
  stderr.stop()
  t.equal(drops.length, 100)
  t.same(drops[0], { records: 1, reason: 'write after close' })
  const printed = stderr.lines.filter(l => l.includes('write after close'))
  t.same(printed, [
    'maap-shipper: dropped 1 records: write after close (dropped so far: 1)\n',
    'maap-shipper: dropped 9 records: write after close (dropped so far: 10)\n',
    'maap-shipper: dropped 90 records: write after close (dropped so far: 100)\n'
  ], 'the first at once, the rest summed: at close, then a second after the last line — though nobody listens to errors')
  t.equal(stub.accepted.length, 1)
})

// Requests 1–3 and 5–6 fail with a 503: two streaks of failures, each ended by a delivery.
const twoStreaks = (_req: unknown, n: number): { status: number, body?: unknown } =>
  n <= 2 || n === 4 || n === 5 ? { status: 503 } : { status: 200, body: { accepted: 1, rejected: [] } }

async function shipThroughTwoStreaks (t: Tap.Test, start: (url: string) => ReturnType<typeof startShipperThread>): Promise<string[]> {
  const stub = await startStub(t, twoStreaks)
  const w = start(stub.url)
  const stderr = captureStderr(t)
  const attempts: number[] = []
  w.on('retry', (r: { attempt: number }) => attempts.push(r.attempt))
  for (const message of ['first', 'second']) {
    w.write(JSON.stringify({ message }))
    // Not events.once(): it listens for 'error' too, which would make the errors heard.
    await new Promise(resolve => w.once('sent', resolve))
  }
  await w.close()
  stderr.stop()
  t.same(attempts, [1, 2, 3, 1, 2], 'two streaks of retries')
  return stderr.lines.filter(l => / failed \(503\); retry /.test(l))
}

t.test('unheard, a retry streak reaches stderr once, at its first failure', async t => {
  const printed = await shipThroughTwoStreaks(t, url => startShipperThread({ url, batchSize: 1, retryBaseMs: 2, retryMaxMs: 4 }))
  t.match(printed, [/^maap-shipper: sending 1 records failed \(503\); retry 1 in/, /retry 1 in/])
  t.equal(printed.length, 2, 'one line per streak')
})

t.test("heard — an 'error' listener, or the front end's heard() — retries stay off stderr", async t => {
  const listened = await shipThroughTwoStreaks(t, url => startShipperThread({ url, batchSize: 1, retryBaseMs: 2, retryMaxMs: 4 }).on('error', () => {}))
  t.same(listened, [], "an 'error' listener hears them")
  const hooked = await shipThroughTwoStreaks(t, url => startShipperThread({ url, batchSize: 1, retryBaseMs: 2, retryMaxMs: 4 }, { heard: () => true }))
  t.same(hooked, [], 'heard() says someone listens elsewhere')
})

t.test("the front end's heard() overrides its own 'error' listener, and names itself on stderr", async t => {
  const printed = await shipThroughTwoStreaks(t, url => startShipperThread({ url, batchSize: 1, retryBaseMs: 2, retryMaxMs: 4 }, { heard: () => false, stderrPrefix: 'maap-front' }).on('error', () => {}))
  t.match(printed, [/^maap-front: sending 1 records failed/, /^maap-front: /])
  t.equal(printed.length, 2)
})

t.test('a bad option throws on the calling thread, naming it', async t => {
  t.throws(() => startShipperThread({ batchSize: -1 }), { name: 'ShipperError', code: 'MAAP_SHIP_INVALID_OPTION', message: /batchSize/ })
})

t.test('the host answers unknown messages with an error event', async t => {
  const { port1, port2 } = new threads.MessageChannel()
  const shipper = hostShipper(port2, { url: 'http://127.0.0.1:1' })
  t.teardown(() => { port1.close(); return shipper.close() })
  port1.postMessage({ code: 'NOPE' })
  const [reply] = await once(port1, 'message')
  t.match(reply, { code: 'EVENT', name: 'error', data: { code: 'MAAP_SHIP_PROTOCOL' } })
})

t.test('EXIT closes the hosted shipper and settles, without a reply', async t => {
  const { port1, port2 } = new threads.MessageChannel()
  t.teardown(() => port1.close())
  let settled!: () => void
  const done = new Promise<void>(resolve => { settled = resolve })
  const shipper = hostShipper(port2, { url: 'http://127.0.0.1:1', closeTimeout: 50 }, () => settled())
  shipper.on('error', () => {})
  port1.postMessage({ code: 'WRITE', lines: ['{"msg":"pending"}'] })
  port1.postMessage({ code: 'EXIT' })
  await done
  t.match(shipper.stats(), { sent: 0, dropped: 1, queued: 0 }, 'settled: the record is accounted for')
})

/**
 * startShipperThread with its Worker class spied on: `started` holds each worker thread it starts. The
 * spy sits on node:worker_threads' own exports for the test (the shipper's compiled code reads `Worker`
 * there at each start), not through tap's mock plugin: that plugin's loader cost every test process and
 * every worker thread of the suite ~0.4 s of CPU, for this one use.
 */
function spiedStart (t: Tap.Test): { start: typeof startShipperThread, started: threads.Worker[] } {
  const started: threads.Worker[] = []
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const builtin = require('node:worker_threads') as { Worker: typeof threads.Worker }
  const Real = builtin.Worker
  class Spied extends Real {
    constructor (...args: ConstructorParameters<typeof threads.Worker>) {
      super(...args)
      started.push(this)
    }
  }
  builtin.Worker = Spied
  t.teardown(() => { builtin.Worker = Real })
  return { start: startShipperThread, started }
}

t.test('a worker that dies is reported, and waiters are released', async t => {
  const { start, started } = spiedStart(t)
  const w = start({ url: 'http://127.0.0.1:1', closeTimeout: 60_000 })
  const failures: Error[] = []
  w.on('failed', e => failures.push(e))
  w.write('pending')
  const flushed = w.flush()
  t.equal(started.length, 1)
  await started[0]!.terminate()
  const stats = await flushed
  t.equal(stats.sent, 0)
  t.match(failures, [{ message: /shipper worker exited .* unanswered/ }])
  t.equal(w.write('later'), false, 'a dead worker takes no records')
})

t.test('the application side fails loudly on a message it does not know: error, then the worker is stopped', async t => {
  const { start, started } = spiedStart(t)
  for (const bogus of [{ code: 'BOGUS' }, { code: 'FLUSHED', id: 999, stats: {} }, { code: 'EVENT', name: 'nonsense', data: null }]) {
    const w = start({ url: 'http://127.0.0.1:1' })
    const errors: Array<{ code: string, message: string }> = []
    w.on('error', e => errors.push(e))
    const failed = new Promise(resolve => w.once('failed', resolve))
    started.at(-1)!.emit('message', bogus)
    await failed
    t.match(errors, [{ code: 'MAAP_SHIP_PROTOCOL', message: /application thread got a message it does not know/ }], JSON.stringify(bogus))
    t.equal(w.write('later'), false, 'a stopped worker takes no records')
  }
})
