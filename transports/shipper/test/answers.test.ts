// How the shipper reacts to each kind of answer: partial and total rejection, permanent 4xx, 413.
import t from 'tap'
import { Shipper, type ShipperError } from '@maap-event-logger/shipper'
import { startStub, captureStderr } from '../../../test/support'

t.test('partial rejection keeps the accepted part and counts the rest', async t => {
  const stub = await startStub(t, req => {
    const rejected = req.events.flatMap((e, index) => e.bad === true ? [{ index, error: 'bad record' }] : [])
    return { status: 200, body: { status: rejected.length ? 'partial' : 'success', accepted: req.lines.length - rejected.length, rejected } }
  })
  const errors: ShipperError[] = []
  const rejectedEvents: unknown[] = []
  const shipper = new Shipper({ url: stub.url, onError: e => errors.push(e) }, {})
  shipper.on('rejected', e => rejectedEvents.push(e))
  t.teardown(() => shipper.close())
  for (let i = 0; i < 10; i++) shipper.write({ msg: `m${i}`, bad: i % 4 === 0 })
  const stats = await shipper.flush()
  t.equal(stats.sent, 7)
  t.equal(stats.rejected, 3)
  t.equal(stub.accepted.length, 7)
  t.match(errors, [{ code: 'MAAP_SHIP_REJECTED', records: 3, status: 200, message: /#0: bad record/ }])
  t.match(rejectedEvents, [{ records: 3, details: [{ index: 0 }, { index: 4 }, { index: 8 }] }])
})

t.test('400 with every record rejected: counted, not retried', async t => {
  const stub = await startStub(t, req => ({
    status: 400,
    body: { status: 'error', accepted: 0, rejected: req.lines.map((_, index) => ({ index, error: 'message required' })) }
  }))
  const shipper = new Shipper({ url: stub.url, onError: () => {} }, {})
  t.teardown(() => shipper.close())
  shipper.write({ msg: 'a' })
  shipper.write({ msg: 'b' })
  const stats = await shipper.flush()
  t.equal(stats.rejected, 2)
  t.equal(stats.retried, 0)
  t.equal(stub.requests.length, 1)
})

t.test('other 4xx (401, unframed 400) are permanent: counted and reported once', async t => {
  for (const [status, body] of [[401, { statusCode: 401, error: 'Unauthorized', message: 'bad key' }], [400, { statusCode: 400, error: 'Bad Request', message: 'unparseable' }]] as const) {
    const stub = await startStub(t, () => ({ status, body }))
    const errors: ShipperError[] = []
    const shipper = new Shipper({ url: stub.url, onError: e => errors.push(e) }, {})
    shipper.write({ msg: 'a' })
    const stats = await shipper.flush()
    t.equal(stats.rejected, 1, `${status}: rejected`)
    t.equal(stats.retried, 0, `${status}: not retried`)
    t.match(errors, [{ code: 'MAAP_SHIP_REJECTED', status, message: new RegExp(String(status)) }])
    await shipper.close()
  }
})

t.test('413 splits the batch until the halves pass; a single oversized record is rejected', async t => {
  // Refuses any request carrying the "huge" record with others, and the huge one alone as well.
  const stub = await startStub(t, req => {
    if (req.events.some(e => e.huge === true)) return { status: 413, body: { statusCode: 413, error: 'Payload Too Large', message: 'too large' } }
    if (req.lines.length > 2) return { status: 413, body: { statusCode: 413, error: 'Payload Too Large', message: 'too large' } }
    return { status: 200, body: { status: 'success', accepted: req.lines.length, rejected: [] } }
  })
  const shipper = new Shipper({ url: stub.url, onError: () => {} }, {})
  t.teardown(() => shipper.close())
  for (let i = 0; i < 8; i++) shipper.write({ msg: `m${i}`, huge: i === 5 })
  const stats = await shipper.flush()
  t.equal(stats.sent, 7)
  t.equal(stats.rejected, 1)
  t.same(stub.accepted.map(e => e.message).sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm6', 'm7'])
})

t.test('an unexpected 3xx is not retried forever', async t => {
  const stub = await startStub(t, () => ({ status: 302, headers: { location: '/elsewhere' } }))
  const shipper = new Shipper({ url: stub.url, onError: () => {} }, {})
  t.teardown(() => shipper.close())
  shipper.write({ msg: 'a' })
  t.equal((await shipper.flush()).rejected, 1)
})

t.test("without onError or 'error' listeners, rejections reach stderr", async t => {
  const stub = await startStub(t, () => ({ status: 403, body: { message: 'forbidden' } }))
  const shipper = new Shipper({ url: stub.url }, {})
  t.teardown(() => shipper.close())
  const stderr = captureStderr(t)
  const written = stderr.lines
  shipper.write({ msg: 'a' })
  await shipper.flush()
  stderr.stop()
  t.match(written.join(''), /maap-shipper: collector refused a batch of 1 records for good: collector answered 403/)
})

t.test("'error' listeners hear errors", async t => {
  const stub = await startStub(t, () => ({ status: 404 }))
  const shipper = new Shipper({ url: stub.url }, {})
  t.teardown(() => shipper.close())
  const errors: ShipperError[] = []
  shipper.on('error', e => errors.push(e))
  shipper.write({ msg: 'a' })
  await shipper.flush()
  t.match(errors, [{ code: 'MAAP_SHIP_REJECTED', status: 404 }])
})
