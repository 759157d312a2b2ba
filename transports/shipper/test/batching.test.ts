import t from 'tap'
import { once } from 'node:events'
import { Shipper } from '@maap-event-logger/shipper'
import { captureStderr, startStub } from '../../../test/support'

t.test('a full batch (count) is sent without waiting for the interval', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, appName: 'batch', batchSize: 3, batchInterval: 3_600_000 }, {})
  t.teardown(() => shipper.close())
  for (let i = 0; i < 7; i++) shipper.write({ level: 30, msg: `m${i}`, time: i })
  await stub.waitForRequests(2)
  t.same(stub.requests.map(r => r.lines.length), [3, 3])
  const stats = await shipper.flush()
  t.same(stub.requests.map(r => r.lines.length), [3, 3, 1], 'flush sends the partial batch')
  t.equal(stats.sent, 7)
  t.equal(stats.queued, 0)
  t.same(stub.accepted.map(e => e.message), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'])
  t.match(stub.accepted[0], { level: 'info', app_name: 'batch', timestamp: 0 })
})

t.test('a full batch (bytes) is sent on its own; a batch never exceeds batchBytes', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, batchBytes: 300, batchInterval: 3_600_000 }, {})
  t.teardown(() => shipper.close())
  const big = 'x'.repeat(100)
  for (let i = 0; i < 5; i++) shipper.write({ msg: big })
  await shipper.flush()
  t.ok(stub.requests.length >= 3)
  for (const r of stub.requests) t.ok(Buffer.byteLength(r.lines.join('\n') + '\n') <= 300)
  t.equal(stub.accepted.length, 5)
})

t.test('batches reuse their buffers: later, shorter batches carry exactly their own records', async t => {
  const stub = await startStub(t)
  // One in flight at a time, so every batch after the first few is written into a buffer used before.
  const shipper = new Shipper({ url: stub.url, appName: 'reuse', batchSize: 4, batchInterval: 3_600_000, concurrency: 1 }, {})
  t.teardown(() => shipper.close())
  const messages: string[] = []
  for (let i = 0; i < 40; i++) {
    // Long records first, short ones later: stale bytes of an earlier batch would show up as extra lines.
    messages.push(`${'é'.repeat(40 - i)}${i}`)
    shipper.write({ level: 30, time: i, msg: messages[i] })
    if (i % 4 === 3) await shipper.flush()
  }
  await shipper.flush()
  t.same(stub.requests.map(r => r.lines.length), Array(10).fill(4))
  t.same(stub.accepted.map(e => e.message), messages)
})

t.test('a record larger than batchBytes travels alone, and the records around it are unharmed', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, appName: 'big', batchBytes: 200, batchInterval: 3_600_000 }, {})
  t.teardown(() => shipper.close())
  shipper.write({ msg: 'before' })
  shipper.write({ msg: 'x'.repeat(1000) })
  shipper.write({ msg: 'after' })
  const stats = await shipper.flush()
  t.equal(stats.sent, 3)
  t.same(stub.requests.map(r => r.lines.length), [1, 1, 1])
  t.same(stub.accepted.map(e => (e.message as string).length), [6, 1000, 5])
})

t.test('the interval sends a partial batch', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, batchInterval: 5 }, {})
  t.teardown(() => shipper.close())
  shipper.write('one line')
  await stub.waitForAccepted(1)
  t.match(stub.accepted[0], { message: 'one line', level: 'info' })
  t.equal((await shipper.flush()).sent, 1)
})

t.test('headers: NDJSON, bearer key, gzip when asked', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, apiKey: 'sekret', compress: true }, {})
  t.teardown(() => shipper.close())
  for (let i = 0; i < 200; i++) shipper.write({ msg: 'compressible '.repeat(10) })
  await shipper.flush()
  const [req] = stub.requests
  t.equal(req!.headers['content-type'], 'application/x-ndjson')
  t.equal(req!.headers.authorization, 'Bearer sekret')
  t.equal(req!.headers['content-encoding'], 'gzip')
  t.ok(req!.wireBytes < Buffer.byteLength(req!.lines.join('\n')) / 5, 'gzip actually shrank the body')
  t.equal(stub.accepted.length, 200)
})

t.test('auto compression stays off on loopback, and without a key no Authorization header', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url }, {})
  t.teardown(() => shipper.close())
  for (let i = 0; i < 200; i++) shipper.write({ msg: 'compressible '.repeat(10) })
  await shipper.flush()
  t.equal(stub.requests[0]!.headers['content-encoding'], undefined)
  t.equal(stub.requests[0]!.headers.authorization, undefined)
})

t.test('blank lines are skipped, unserialisable records are counted, never thrown', async t => {
  const stub = await startStub(t)
  const errors: Error[] = []
  const shipper = new Shipper({ url: stub.url, onError: err => errors.push(err) }, {})
  t.teardown(() => shipper.close())
  const circular: Record<string, unknown> = { msg: 'loop' }
  circular.self = circular
  t.equal(shipper.write(''), true)
  t.doesNotThrow(() => shipper.write(circular))
  shipper.write('kept')
  shipper.write(42 as unknown as string)
  shipper.write(null as unknown as string)
  const stats = await shipper.flush()
  t.equal(stats.dropped, 1)
  t.equal(stats.sent, 3)
  t.same(stub.accepted.map(e => e.message), ['kept', '42', 'null'])
  t.match(errors, [{ code: 'MAAP_SHIP_MAP', records: 1 }])
})

t.test("an unserialisable record is a drop like any other: 'dropped', and a line on stderr though someone listens", async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, onError: () => {} }, {})
  t.teardown(() => shipper.close())
  const drops: unknown[] = []
  shipper.on('dropped', d => drops.push(d))
  const stderr = captureStderr(t)
  const circular: Record<string, unknown> = { msg: 'loop' }
  circular.self = circular
  shipper.write(circular)
  stderr.stop()
  t.match(drops, [{ records: 1, reason: /^record could not be serialised \(.*circular/i }])
  t.equal(stderr.lines.length, 1)
  t.match(stderr.lines[0], /^maap-shipper: dropped 1 records: record could not be serialised .*\(dropped so far: 1\)\n$/)
})

t.test('backpressure: write() returns false above highWaterBytes while delivering, then drain', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, highWaterBytes: 2000, batchSize: 10 }, {})
  t.teardown(() => shipper.close())
  let wrote = 0
  while (shipper.write({ msg: 'y'.repeat(50) })) wrote++
  t.ok(wrote > 0 && wrote < 100, `accepted ${wrote} writes before asking to wait`)
  await once(shipper, 'drain')
  t.ok(shipper.stats().queuedBytes < 2000)
  await shipper.flush()
  t.equal(stub.accepted.length, wrote + 1)
})
