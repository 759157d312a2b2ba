import t from 'tap'
import { once } from 'node:events'
import { Shipper } from '@maap-event-logger/shipper'
import { acceptAll, deadPort, startStub, captureStderr, holdProcess, FakeClock } from '../../../test/support'

t.test('429 with Retry-After: waits what the collector asked, then delivers', async t => {
  const stub = await startStub(t, (req, n) => n === 0
    ? { status: 429, headers: { 'retry-after': '1' }, body: { message: 'slow down' } }
    : acceptAll(req, n))
  const retries: Array<{ delayMs: number, status: number }> = []
  const clock = new FakeClock()
  const shipper = new Shipper({ url: stub.url, retryBaseMs: 1, onError: () => {} }, {}, { clock })
  shipper.on('retry', r => retries.push(r))
  t.teardown(() => shipper.close())
  shipper.write({ msg: 'a' })
  shipper.write({ msg: 'b' })
  const flushed = shipper.flush()
  await once(shipper, 'retry')
  t.equal(clock.requested.at(-1), 1000, 'the pause is the 1 s the collector asked for')
  clock.advance(999)
  t.equal(clock.pending, 1, 'still paused a millisecond before')
  t.equal(stub.requests.length, 1)
  clock.advance(1)
  const stats = await flushed
  t.match(retries, [{ delayMs: 1000, status: 429, attempt: 1, records: 2 }], 'Retry-After used instead of the 1 ms backoff')
  t.equal(stats.sent, 2)
  t.equal(stats.retried, 2)
  t.equal(stub.requests.length, 2)
  t.same(stub.accepted.map(e => e.message), ['a', 'b'])
})

t.test('503 and 500 are retried with growing backoff; 408 too', async t => {
  const statuses = [503, 500, 408]
  const stub = await startStub(t, (req, n) => n < statuses.length ? { status: statuses[n]! } : acceptAll(req, n))
  const retries: Array<{ delayMs: number, attempt: number, status: number }> = []
  const shipper = new Shipper({ url: stub.url, retryBaseMs: 10, onError: () => {} }, {})
  shipper.on('retry', r => retries.push(r))
  t.teardown(() => shipper.close())
  shipper.write({ msg: 'a' })
  const stats = await shipper.flush()
  t.same(retries.map(r => [r.attempt, r.status]), [[1, 503], [2, 500], [3, 408]])
  t.ok(retries[0]!.delayMs >= 5 && retries[0]!.delayMs <= 10)
  t.ok(retries[2]!.delayMs >= 20 && retries[2]!.delayMs <= 40)
  t.equal(stats.sent, 1)
})

t.test('collector unreachable, then back on the same port: nothing lost', async t => {
  const port = await deadPort()
  const shipper = new Shipper({ url: `http://127.0.0.1:${port}`, retryBaseMs: 20, retryMaxMs: 50, onError: () => {} }, {})
  t.teardown(() => shipper.close())
  for (let i = 0; i < 5; i++) shipper.write({ msg: `m${i}` })
  const flushed = shipper.flush()
  await once(shipper, 'retry')
  const stub = await startStub(t, acceptAll, port)
  const stats = await flushed
  t.equal(stats.sent, 5)
  t.ok(stats.retried >= 5)
  t.same(stub.accepted.map(e => e.message), ['m0', 'm1', 'm2', 'm3', 'm4'])
})

t.test('first failure of a streak reaches stderr when nobody listens', async t => {
  const port = await deadPort()
  const shipper = new Shipper({ url: `http://127.0.0.1:${port}`, retryBaseMs: 5, retryMaxMs: 5, closeTimeout: 1 }, {})
  holdProcess(t)
  const stderr = captureStderr(t)
  const written = stderr.lines
  shipper.write({ msg: 'a' })
  void shipper.flush()
  await once(shipper, 'retry')
  await once(shipper, 'retry')
  await shipper.close()
  stderr.stop()
  t.equal(written.filter(l => /sending 1 records failed/.test(l)).length, 1, 'one line per streak, not one per attempt')
  t.match(written.join(''), /dropped 1 records: close deadline/)
})

t.test('close deadline on a clock moved by hand: delivery stops at closeTimeout, the rest is counted', async t => {
  const stub = await startStub(t, () => ({ status: 503 }))
  const clock = new FakeClock()
  const drops: Array<{ records: number, reason: string }> = []
  const shipper = new Shipper({ url: stub.url, retryBaseMs: 100, retryMaxMs: 100, onError: () => {} }, {}, { clock })
  shipper.on('dropped', d => drops.push(d))
  const stderr = captureStderr(t)
  shipper.write({ msg: 'a' })
  let closed = false
  const closing = shipper.close().then(s => { closed = true; return s })
  t.equal(shipper.close(), shipper.close(), 'idempotent: the same promise')
  // Three retries, each after its (fake) 100 ms: nothing is lost before the deadline.
  for (let i = 1; i <= 3; i++) {
    await once(shipper, 'retry')
    t.equal(drops.length, 0, `retry ${i}: still held`)
    clock.advance(100)
  }
  await once(shipper, 'retry')
  t.equal(closed, false, 'close() waits while retries go on')
  clock.advance(8000 - 300)
  const stats = await closing
  stderr.stop()
  t.match(stats, { sent: 0, dropped: 1, queued: 0 })
  t.same(drops, [{ records: 1, reason: 'close deadline' }])
  t.match(stderr.lines.join(''), /maap-shipper: dropped 1 records: close deadline/)
  t.equal(shipper.write({ msg: 'late' }), false, 'closed: no more records')
})
