import t from 'tap'
import { once } from 'node:events'
import { MessageChannel } from 'node:worker_threads'
import { hostShipper, startShipperWorker } from '@maap-event-logger/shipper'
import { startStub } from './fixtures/stub-collector'

t.test('a shipper in a worker thread: write on this thread, flush and close resolve after delivery', async t => {
  const stub = await startStub(t, (req) => {
    const rejected = req.events.flatMap((e, index) => e.message === 'bad' ? [{ index, error: 'nope' }] : [])
    return { status: 200, body: { accepted: req.lines.length - rejected.length, rejected } }
  })
  const w = startShipperWorker({ url: stub.url, appName: 'wk' })
  const rejected: unknown[] = []
  const errors: unknown[] = []
  w.on('rejected', r => rejected.push(r))
  w.on('error', e => errors.push(e))
  for (let i = 0; i < 50; i++) w.write({ level: 'info', message: `w${i}` })
  w.write('{"msg":"bad"}')
  const flushed = await w.flush()
  t.equal(flushed.sent, 50)
  t.equal(flushed.rejected, 1)
  t.match(rejected, [{ records: 1 }])
  t.match(errors, [{ code: 'MAAP_SHIP_REJECTED' }])
  w.write('after flush')
  const closed = await w.close()
  t.equal(closed.sent, 51)
  t.equal(await w.close(), closed, 'idempotent')
  t.equal(stub.accepted.at(-1)!.message, 'after flush')
  t.equal(stub.accepted[0]!.app_name, 'wk')
  await once(w.worker, 'exit')
})

t.test('the host answers unknown messages with an error event', async t => {
  const { port1, port2 } = new MessageChannel()
  const shipper = hostShipper(port2, { url: 'http://127.0.0.1:1' })
  t.teardown(() => { port1.close(); return shipper.close() })
  port1.postMessage({ code: 'NOPE' })
  const [reply] = await once(port1, 'message')
  t.match(reply, { code: 'EVENT', name: 'error', data: { code: 'MAAP_SHIP_PROTOCOL' } })
})

t.test('a worker that dies is reported, and waiters are released', async t => {
  const w = startShipperWorker({ url: 'http://127.0.0.1:1', closeTimeout: 60_000 })
  const errors: Error[] = []
  w.on('error', e => errors.push(e))
  w.write('pending')
  const flushed = w.flush()
  await w.worker.terminate()
  const stats = await flushed
  t.equal(stats.sent, 0)
  t.match(errors, [{ message: /shipper worker exited .* unanswered/ }])
})
