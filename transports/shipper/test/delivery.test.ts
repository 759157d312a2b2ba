// flush() says what became of the records written to the shipper: delivered, or why not (delivery.ts).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Shipper } from '@maap-event-logger/shipper'
import { Delivery } from '../src/delivery'
import { invalidOption } from '../src/errors'
import { resolveOptions } from '../src/options'
import { deadPort, FakeClock, poll, startStub } from '../../../test/support'

const quiet = { onError: () => {} }

t.test('the accounting: every record is in one place; a window reports once what is lost for good', async t => {
  const d = new Delivery()
  const base = { sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 }
  d.written(10)
  d.delivered(4, false)
  d.rejected(1, false)
  d.dropped(1, false)
  d.toDisk(2, false)
  // An earlier run's spool file: none of it is this shipper's.
  d.delivered(50, true)
  d.rejected(5, true)
  d.dropped(5, true)
  d.toDisk(7, true)
  d.fromDisk(7, true)
  t.match(d.report(base, d.begin()), { written: 10, delivered: 4, undelivered: 6, notDelivered: { pending: 2, spooled: 2, rejected: 1, dropped: 1 } })
  // The spooled ones come back and are delivered; the pending two are still pending.
  d.fromDisk(2, false)
  d.delivered(2, false)
  t.match(d.report(base, d.begin()), { written: 0, delivered: 2, undelivered: 2, notDelivered: { pending: 2, spooled: 0, rejected: 0, dropped: 0 } })
  d.delivered(2, false)
  t.match(d.report(base, d.begin()), { written: 0, delivered: 2, undelivered: 0 })
})

t.test('overlapping flushes: each reports its own window, so a loss is told to both callers, never to neither', async t => {
  const d = new Delivery()
  const base = { sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 }
  d.written(3)
  d.dropped(1, false)
  const a = d.begin()
  d.written(2)
  const b = d.begin()
  d.delivered(4, false)
  // b ends first, then a: a's report still holds the drop.
  t.match(d.report(base, b), { written: 5, delivered: 4, undelivered: 1, notDelivered: { dropped: 1 } })
  t.match(d.report(base, a), { written: 5, delivered: 4, undelivered: 1, notDelivered: { dropped: 1 } })
  // A flush begun after both ended starts where they left off.
  t.match(d.report(base, d.begin()), { written: 0, delivered: 0, undelivered: 0 })
  t.same(d.totals(), { written: 5, settled: 5 })
})

t.test('flush() resolves with the old counters and the delivery of what was written since the last flush', async t => {
  const stub = await startStub(t, (req, n) => n === 0
    ? { status: 200, body: { accepted: req.lines.length - 1, rejected: [{ index: 0, error: 'bad' }] } }
    : { status: 200, body: { accepted: req.lines.length, rejected: [] } })
  const shipper = new Shipper({ url: stub.url, ...quiet }, {})
  for (let i = 0; i < 5; i++) shipper.write({ msg: `a${i}` })
  const circle: Record<string, unknown> = {}
  circle.self = circle
  shipper.write(circle)
  const first = await shipper.flush()
  t.match(first, { sent: 4, rejected: 1, dropped: 1, queued: 0, written: 6, delivered: 4, undelivered: 2, notDelivered: { pending: 0, spooled: 0, rejected: 1, dropped: 1 } })
  for (let i = 0; i < 3; i++) shipper.write({ msg: `b${i}` })
  t.match(await shipper.flush(), { sent: 7, written: 3, delivered: 3, undelivered: 0 }, 'losses already reported are not reported again')
  const closed = await shipper.close()
  t.match(closed, { written: 0, delivered: 0, undelivered: 0 })
  shipper.write({ msg: 'late' })
  t.match(await shipper.flush(), { written: 1, undelivered: 1, notDelivered: { dropped: 1 } }, 'a write after close is written and dropped')
})

t.test('a flush that times out against a dead collector reports what is pending; nothing is spilled by it', async t => {
  const port = await deadPort()
  const shipper = new Shipper({ url: `http://127.0.0.1:${port}`, retryBaseMs: 5, retryMaxMs: 20, closeTimeout: 50, ...quiet }, {})
  for (let i = 0; i < 4; i++) shipper.write({ msg: `m${i}` })
  const r = await shipper.flush(200)
  t.match(r, { written: 4, delivered: 0, undelivered: 4, notDelivered: { pending: 4, spooled: 0 } })
  t.ok(r.retried > 0, 'it kept retrying while the flush waited')
  t.match(await shipper.close(), { undelivered: 4, notDelivered: { pending: 0, dropped: 4 } }, 'close() drops them without a spool')
})

t.test('spooled records count as undelivered until replayed; an earlier run\'s file is not counted', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-delivery-'))
  // Left by an earlier run (its run number sorts before this one's).
  writeFileSync(join(dir, '000000000000001-0000000000-0000.ndjson'), '{"message":"old","app_name":"x","level":"INFO"}\n')
  let up = false
  const stub = await startStub(t, req => up
    ? { status: 200, body: { accepted: req.lines.length, rejected: [] } }
    : { status: 503 })
  const shipper = new Shipper({ url: stub.url, spoolDir: dir, closeTimeout: 30, retryBaseMs: 5, retryMaxMs: 10, ...quiet }, {})
  for (let i = 0; i < 3; i++) shipper.write({ msg: `s${i}` })
  // close() spills to the spool; a second shipper on the same directory replays it.
  t.match(await shipper.close(), { written: 3, undelivered: 3, notDelivered: { spooled: 3 } })
  up = true
  const next = new Shipper({ url: stub.url, spoolDir: dir, ...quiet }, {})
  await stub.waitForAccepted(4)
  await poll(() => next.stats().sent === 4)
  t.match(await next.flush(), { written: 0, delivered: 0, undelivered: 0, sent: 4 }, 'replayed records of earlier runs are in sent only')
  await next.close()
})

t.test('this run\'s own spool file, replayed, moves from spooled to delivered', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-delivery-'))
  let up = false
  const stub = await startStub(t, req => up
    ? { status: 200, body: { accepted: req.lines.length, rejected: [] } }
    : { status: 503 })
  const shipper = new Shipper({ url: stub.url, spoolDir: dir, batchSize: 2, maxBufferBytes: 200, concurrency: 1, retryBaseMs: 5, retryMaxMs: 10, ...quiet }, {})
  // Over the memory bound: the oldest batches go to the spool.
  for (let i = 0; i < 8; i++) shipper.write({ msg: `m${i}`, pad: 'x'.repeat(30) })
  const during = await shipper.flush(30)
  t.ok(during.notDelivered.spooled > 0, 'some are on disk')
  t.equal(during.undelivered, 8, 'none delivered yet')
  up = true
  await stub.waitForAccepted(8)
  const after = await shipper.flush(10_000)
  t.match(after, { written: 0, delivered: 8, undelivered: 0, notDelivered: { spooled: 0, pending: 0 } })
  await shipper.close()
})

t.test('serverless: a flush retries at once instead of waiting out an earlier backoff', async t => {
  let up = false
  const stub = await startStub(t, req => up
    ? { status: 200, body: { accepted: req.lines.length, rejected: [] } }
    : { status: 503 })
  for (const serverless of [true, false]) {
    const clock = new FakeClock()
    up = false
    const before = stub.requests.length
    // A one-hour backoff: the shipper's own guess, not the collector's word.
    const shipper = new Shipper({ url: stub.url, serverless, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, ...quiet }, {}, { clock })
    const retried = new Promise(resolve => shipper.once('retry', resolve))
    shipper.write({ msg: 'one' })
    clock.advance(1000) // the batch interval: sent, answered 503, an hour-long backoff begins
    await retried
    // A later invocation, with the collector back.
    up = true
    const flushing = shipper.flush(1000)
    if (serverless) {
      t.match(await flushing, { undelivered: 0, delivered: 1 }, 'retried at once: delivered')
    } else {
      await new Promise(resolve => setImmediate(resolve))
      clock.advance(1000) // the flush's own timeout
      t.match(await flushing, { undelivered: 1, notDelivered: { pending: 1 } }, 'without it, the hour is waited out')
      t.equal(stub.requests.length, before + 1, 'not retried')
    }
    void shipper.close()
    clock.advance(10_000)
  }
})

t.test('serverless: a flush keeps the collector\'s Retry-After; what it holds past the timeout is pending', async t => {
  let up = false
  const stub = await startStub(t, req => up
    ? { status: 200, body: { accepted: req.lines.length, rejected: [] } }
    : { status: 429, headers: { 'retry-after': '60' } })
  const clock = new FakeClock()
  const shipper = new Shipper({ url: stub.url, serverless: true, ...quiet }, {}, { clock })
  const retried = new Promise(resolve => shipper.once('retry', resolve))
  shipper.write({ msg: 'one' })
  clock.advance(1000) // the batch interval: sent, answered 429 with Retry-After: 60
  await retried
  up = true
  const timers = clock.pending
  const flushing = shipper.flush(5000)
  t.equal(clock.pending, timers + 1, 'the Retry-After wait is still on: the flush only added its own timeout')
  await new Promise(resolve => setImmediate(resolve))
  clock.advance(5000) // the flush's timeout: the collector's minute is not over
  t.match(await flushing, { undelivered: 1, delivered: 0, notDelivered: { pending: 1 } }, 'reported as pending')
  t.equal(stub.requests.length, 1, 'not sent again before the collector said')
  const later = shipper.flush(120_000)
  clock.advance(55_000) // the minute is over: sent again
  t.match(await later, { undelivered: 0, delivered: 1 })
  t.equal(stub.requests.length, 2)
  void shipper.close()
  clock.advance(10_000)
})

t.test('the serverless option is a boolean (true/false text too, from JSON config)', async t => {
  t.equal(resolveOptions({ serverless: 'true' as unknown as boolean }, {}).serverless, true)
  t.equal(resolveOptions({ serverless: 'false' as unknown as boolean }, {}).serverless, false)
  t.equal(resolveOptions({}, {}).serverless, false)
  t.throws(() => resolveOptions({ serverless: 1 as unknown as boolean }, {}), invalidOption('serverless', 'true or false', 1))
})

t.test('overlapping flushes against a shipper: the flush that ends last still reports the loss the other reported', async t => {
  let up = false
  const stub = await startStub(t, req => up
    ? { status: 200, body: { accepted: req.lines.length, rejected: [] } }
    : { status: 503 })
  const clock = new FakeClock()
  // A backoff of 2 to 4 s: longer than the short flush's timeout.
  const shipper = new Shipper({ url: stub.url, retryBaseMs: 4000, retryMaxMs: 4000, ...quiet }, {}, { clock })
  const circle: Record<string, unknown> = {}
  circle.self = circle
  shipper.write(circle) // dropped: it cannot be serialised
  shipper.write({ msg: 'one' })
  const retried = new Promise(resolve => shipper.once('retry', resolve))
  const whole = shipper.flush() // logger.flush(cb), say: no timeout
  await retried
  const short = shipper.flush(500) // dest.flush(500), at the same time
  await new Promise(resolve => setImmediate(resolve))
  clock.advance(500)
  t.match(await short, { written: 2, undelivered: 2, notDelivered: { pending: 1, dropped: 1 } })
  up = true
  clock.advance(4000) // the backoff is over: delivered
  t.match(await whole, { written: 2, delivered: 1, undelivered: 1, notDelivered: { pending: 0, dropped: 1 } }, 'the drop is not hidden by the other flush')
  t.match(await shipper.flush(), { written: 0, undelivered: 0 }, 'a later flush starts after both')
  void shipper.close()
  clock.advance(10_000)
})

t.test('a flush does not wait for the replay of an earlier run\'s spool file: those records are not its caller\'s', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-delivery-'))
  writeFileSync(join(dir, '000000000000001-0000000000-0000.ndjson'), '{"message":"old","app_name":"x","level":"INFO"}\n')
  // A collector that never answers the old file's request, and accepts everything else.
  const held: ServerResponse[] = []
  let mine = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const lines = Buffer.concat(chunks).toString().split('\n').filter(l => l !== '')
      if (lines.some(l => l.includes('"old"'))) { held.push(res); return }
      mine += lines.length
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ accepted: lines.length, rejected: [] }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  const clock = new FakeClock()
  const shipper = new Shipper({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spoolDir: dir, concurrency: 2, ...quiet }, {}, { clock })
  await poll(() => held.length === 1) // the old file is out, its answer held
  shipper.write({ msg: 'new' })
  // The clock never moves: only the delivery of the caller's own record can end this flush.
  t.match(await shipper.flush(60_000), { written: 1, delivered: 1, undelivered: 0 })
  t.equal(mine, 1)
  for (const res of held) res.destroy()
  void shipper.close()
  clock.advance(60_000)
})

t.test('a flush with a timeout waits for its own spooled records to be replayed, not only spooled', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-delivery-'))
  let up = false
  const stub = await startStub(t, req => up
    ? { status: 200, body: { accepted: req.lines.length, rejected: [] } }
    : { status: 503 })
  const clock = new FakeClock()
  const shipper = new Shipper({ url: stub.url, spoolDir: dir, batchSize: 2, maxBufferBytes: 300, concurrency: 1, retryBaseMs: 1000, retryMaxMs: 1000, ...quiet }, {}, { clock })
  const retried = new Promise(resolve => shipper.once('retry', resolve))
  shipper.write({ msg: 'm0' })
  shipper.write({ msg: 'm1' }) // a full batch: sent, answered 503, a 1 s backoff
  await retried
  const flushing = shipper.flush(60_000)
  const spooled = new Promise(resolve => shipper.once('spooled', resolve))
  // More than memory holds: the oldest batch, the one retrying, goes to the spool.
  for (let i = 2; i < 10; i++) shipper.write({ msg: `m${i}`, pad: 'x'.repeat(30) })
  await spooled
  up = true
  clock.advance(1000) // the backoff is over: the spool is replayed, oldest first
  const r = await flushing
  t.equal(r.notDelivered.spooled, 0, 'nothing of this run is left on disk')
  t.ok(r.delivered >= 2, 'the records written before the flush were delivered before it resolved')
  await stub.waitForAccepted(10)
  void shipper.close()
  clock.advance(60_000)
})
