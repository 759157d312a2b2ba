import t from 'tap'
import { Shipper } from '@maap-event-logger/shipper'
import { deadPort, startStub, captureStderr } from '../../../test/support'

t.test('close is idempotent; writes after close are counted as dropped, not thrown', async t => {
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url }, {})
  shipper.write({ msg: 'a' })
  const [a, b] = await Promise.all([shipper.close(), shipper.close()])
  t.equal(a, b)
  t.equal(a.sent, 1)
  const stderr = captureStderr(t)
  const errSpy = stderr.lines
  t.equal(shipper.write({ msg: 'late' }), false)
  stderr.stop()
  t.equal(shipper.stats().dropped, 1)
  t.match(errSpy.join(''), /write after close/)
})

t.test('flush with a timeout returns even while the collector is down', async t => {
  const stub = await startStub(t, () => ({ status: 503 }))
  const shipper = new Shipper({ url: stub.url, retryBaseMs: 5, retryMaxMs: 5, closeTimeout: 1, onError: () => {} }, {})
  shipper.write({ msg: 'a' })
  const stats = await shipper.flush(30)
  t.equal(stats.queued, 1, 'still pending, visible in stats')
  t.equal((await shipper.close()).dropped, 1)
})

t.test('drop lines on stderr are coalesced, and the total always gets out by close', async t => {
  const port = await deadPort()
  const shipper = new Shipper({ url: `http://127.0.0.1:${port}`, batchSize: 5, maxBufferBytes: 500, concurrency: 1, closeTimeout: 1, onError: () => {} }, {})
  let events = 0
  shipper.on('dropped', () => { events++ })
  const stderr = captureStderr(t)
  const written = stderr.lines
  // One synchronous burst: many drops within the same second.
  for (let i = 0; i < 200; i++) shipper.write({ msg: `m${i}`, pad: 'p'.repeat(40) })
  const stats = await shipper.close()
  stderr.stop()
  const lines = written.filter(l => l.includes('dropped'))
  const sum = lines.reduce((n, l) => n + Number(/dropped (\d+) records/.exec(l)![1]), 0)
  t.equal(sum, stats.dropped, 'the lines add up to every dropped record')
  t.equal(stats.dropped, 200)
  t.ok(lines.length < events, `${lines.length} lines for ${events} drops`)
  t.match(lines.at(-1), new RegExp(`\\(dropped so far: 200\\)`))
})
