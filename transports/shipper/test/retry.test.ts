import t from 'tap'
import { once } from 'node:events'
import { Shipper } from '@maap-event-logger/shipper'
import { acceptAll, deadPort, startStub } from './fixtures/stub-collector'
import { captureStderr, holdProcess } from './fixtures/process'

t.test('429 with Retry-After: waits what the collector asked, then delivers', async t => {
  const stub = await startStub(t, (req, n) => n === 0
    ? { status: 429, headers: { 'retry-after': '1' }, body: { message: 'slow down' } }
    : acceptAll(req, n))
  const retries: Array<{ delayMs: number, status: number }> = []
  const shipper = new Shipper({ url: stub.url, retryBaseMs: 1, onError: () => {} }, {})
  shipper.on('retry', r => retries.push(r))
  t.teardown(() => shipper.close())
  shipper.write({ msg: 'a' })
  shipper.write({ msg: 'b' })
  const stats = await shipper.flush()
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
