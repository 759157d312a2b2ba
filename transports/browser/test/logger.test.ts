// The logger and its shipping core against a fake page (fake-page.ts): batching, flush, retry under
// one batch id, refusals counted, the bounded buffer, close, and what leaves by beacon when the page
// is hidden. Time only moves when the test moves it.
import t from 'tap'
import { createLoggerWith } from '../src/logger.js'
import { BATCH_BYTES, CLOSE_ROUNDS } from '../src/shipper.js'
import { FakePage, settled, type Reply, type SeenRequest } from './fake-page.js'

const opts = { url: 'http://localhost:9/', key: 'pk_shop_3f9a2c1d', appName: 'shop-web' }

function setup (reply?: (req: SeenRequest, n: number) => Reply, extra: Record<string, unknown> = {}, withBeacon = true) {
  const page = new FakePage(reply, withBeacon)
  const log = createLoggerWith({ ...opts, ...extra }, page.env)
  return { page, log }
}

t.test('a batch leaves at batchSize: text/plain NDJSON, key and batch id in the query, keepalive, no cookies', async t => {
  const { page, log } = setup(undefined, { batchSize: 3, fields: { release: '1.2' } })
  log.info('one')
  log.warn({ cart: 3 }, 'two')
  t.equal(page.requests.length, 0)
  log.child({ step: 'pay' }).error(new Error('declined'))
  await settled()
  t.equal(page.requests.length, 1)
  const [req] = page.requests
  t.equal(req!.url.origin + req!.url.pathname, 'http://localhost:9/logs')
  t.equal(req!.url.searchParams.get('key'), opts.key)
  t.match(req!.url.searchParams.get('batch'), /^[0-9a-f]{8}-[0-9a-f]{4}-7/)
  t.match(req!.init, { method: 'POST', keepalive: true, credentials: 'omit', mode: 'cors', headers: { 'content-type': 'text/plain;charset=UTF-8' } })
  t.match(req!.lines, [
    { level: 'INFO', message: 'one', app_name: 'shop-web', release: '1.2', timestamp: new Date(page.time).toISOString() },
    { level: 'WARNING', message: 'two', cart: 3 },
    { level: 'ERROR', message: 'declined', step: 'pay', err: { name: 'Error', message: 'declined' } }
  ])
  t.match(log.stats(), { sent: 3, buffered: 0, rejected: 0, dropped: 0, retried: 0 })
})

t.test('a part batch leaves after flushInterval; below the level nothing is built', async t => {
  const { page, log } = setup(undefined, { level: 'warn', flushInterval: 1000 })
  log.info('not sent')
  log.debug({ a: 1 })
  log.warn('sent')
  t.equal(log.level, 'warn')
  await page.advance(999)
  t.equal(page.requests.length, 0)
  await page.advance(1)
  t.same(page.requests.map(r => r.lines.map(l => l.message)), [['sent']])
  t.equal(page.pendingTimers, 0, 'no timer while nothing waits')
})

t.test('flush(): resolves once what was logged before it is acknowledged', async t => {
  const { page, log } = setup(() => 'hold')
  await log.flush() // nothing logged: at once
  log.info('a')
  let done = false
  const flushed = log.flush().then(() => { done = true })
  await settled()
  t.equal(page.requests.length, 1, 'a flush does not wait for the interval')
  t.notOk(done)
  page.requests[0]!.answer({ status: 200, body: { status: 'ok' } })
  await flushed
  t.match(log.stats(), { sent: 1, buffered: 0 })
})

t.test('503 then 200: retried after Retry-After under the same batch id, counted once as sent', async t => {
  const { page, log } = setup((_req, n) => n === 0 ? { status: 503, headers: { 'retry-after': '7' }, body: { code: 'MAAP_OVERLOADED', message: 'busy' } } : { status: 200, body: {} })
  log.info('x')
  const flushed = log.flush()
  await settled()
  t.match(log.stats(), { retried: 1, lastError: '503 MAAP_OVERLOADED: busy', buffered: 1 })
  t.equal(page.requested.at(-1), 7000, 'the pause is what the collector asked')
  await page.advance(7000)
  await flushed
  t.equal(page.requests.length, 2)
  t.equal(page.requests[1]!.url.searchParams.get('batch'), page.requests[0]!.url.searchParams.get('batch'))
  t.match(log.stats(), { sent: 1, retried: 2 - 1 })
})

t.test('network errors and 429 back off with jitter; 408 too', async t => {
  const answers: Reply[] = ['network-error', { status: 429, body: 'slow' }, { status: 408 }, { status: 200, body: { accepted: 1 } }]
  const { page, log } = setup((_req, n) => answers[n]!)
  log.info('x')
  const flushed = log.flush()
  await page.advance(60_000)
  await flushed
  t.same(page.requested.slice(-3), [375, 750, 1500], 'backoff doubles (random 0.5: three quarters of the ceiling)')
  t.match(log.stats(), { sent: 1, retried: 3, lastError: '408 {}' })
})

t.test('other 4xx: not retried, every event counted as rejected; a partial answer counts its rejections', async t => {
  const answers: Reply[] = [
    { status: 403, body: { code: 'MAAP_ORIGIN_REFUSED', message: 'origin' } },
    { status: 200, body: { status: 'partial', accepted: 1, rejected: [{ index: 0, error: 'bad' }] } },
    { status: 200, body: 'not json' }
  ]
  const { page, log } = setup((_req, n) => answers[n]!, { batchSize: 2 })
  log.info('a')
  log.info('b')
  await settled()
  log.info('c')
  log.info('d')
  await settled()
  log.info('e')
  await log.flush()
  t.equal(page.requests.length, 3)
  t.match(log.stats(), { sent: 2, rejected: 3, retried: 0, lastError: /rejected by the collector/ })
})

t.test('bounded memory: past maxBufferBytes the oldest are dropped and counted; flush settles on drops', async t => {
  const { page, log } = setup(() => 'hold', { maxBufferBytes: 400, batchSize: 1 })
  log.info('first') // in flight, held
  await settled()
  for (let i = 0; i < 20; i++) log.info(`waiting ${i}`)
  const s = log.stats()
  t.ok(s.dropped > 0, 'some dropped')
  t.equal(s.buffered + s.dropped, 21)
  log.info('x'.repeat(500))
  t.equal(log.stats().dropped, s.dropped + 1, 'an event over the bound by itself is dropped')
  const flushed = log.flush()
  for (let i = 0; page.requests.length > i; i++) {
    page.requests[i]!.answer({ status: 200, body: {} })
    await settled()
  }
  await flushed
  const sent = page.requests.map(r => r.lines[0]!.message)
  t.equal(sent[0], 'first')
  t.equal(sent.at(-1), 'waiting 19', 'the newest are kept')
  t.equal(log.stats().sent + log.stats().dropped, 22)
})

t.test('close(): flushes, stops listening and timers; later events are dropped and counted', async t => {
  const { page, log } = setup()
  log.info('a')
  t.ok(page.listening)
  await log.close()
  await log.close() // twice is once
  t.notOk(page.listening)
  t.equal(page.pendingTimers, 0)
  log.info('late')
  t.match(log.stats(), { sent: 1, dropped: 1 })
})

t.test('close(): events logged while it waits are sent too, not stranded', async t => {
  const { page, log } = setup(() => 'hold', { batchSize: 100 })
  log.info('before close')
  const closed = log.close()
  await settled()
  t.equal(page.requests.length, 1, 'the flush is under way')
  log.info('while closing 1')
  log.info('while closing 2')
  page.requests[0]!.answer({ status: 200, body: { status: 'success', accepted: 1, rejected: [] } })
  await settled()
  t.equal(page.requests.length, 2, 'a second round for what came in meanwhile')
  t.same(page.requests[1]!.lines.map(l => l.message), ['while closing 1', 'while closing 2'])
  page.requests[1]!.answer({ status: 200, body: { status: 'success', accepted: 2, rejected: [] } })
  await closed
  t.match(log.stats(), { sent: 3, buffered: 0, dropped: 0 })
  t.equal(page.pendingTimers, 0)
})

t.test('close(): a page that never stops logging gets CLOSE_ROUNDS flushes; what it logged past them is counted as dropped', async t => {
  const { page, log } = setup(() => 'hold', { batchSize: 100 })
  log.info('first')
  const closed = log.close()
  let answered = 0
  while (answered < CLOSE_ROUNDS) {
    await settled()
    const req = page.requests[answered]!
    // Every round, the page logs again before the answer comes.
    log.info(`during round ${answered}`)
    req.answer({ status: 200, body: { status: 'success', accepted: req.lines.length, rejected: [] } })
    answered++
  }
  await closed
  t.equal(page.requests.length, CLOSE_ROUNDS)
  const stats = log.stats()
  t.match(stats, { buffered: 0, dropped: 1 }, 'the last round\'s event: dropped, and counted')
  t.equal(stats.sent + stats.dropped, CLOSE_ROUNDS + 1, 'every event sent or counted')
})

t.test('page hidden: the buffer leaves by beacon in batches under 60 KB, oldest first, nothing left', async t => {
  const { page, log } = setup(undefined, { batchSize: 1000, flushInterval: 60_000 })
  for (let i = 0; i < 5; i++) log.info(`small ${i}`)
  page.pageHidden()
  t.equal(page.beacons.length, 1)
  t.equal(page.beacons[0]!.url.searchParams.get('key'), opts.key)
  t.match(page.beacons[0]!.url.searchParams.get('batch'), /^[0-9a-f-]{36}$/)
  t.same(page.beacons[0]!.lines.map(l => l.message), ['small 0', 'small 1', 'small 2', 'small 3', 'small 4'])
  t.match(log.stats(), { beaconed: 5, buffered: 0 })
  t.equal(page.pendingTimers, 0, 'the interval timer is gone with what it waited for')
  await log.flush()
  t.equal(page.requests.length, 0, 'nothing sent twice')
})

t.test('the keepalive budget: at most 60 KB of beacons per hidden spell, minus the batch in flight; the rest waits', async t => {
  const { page, log } = setup(() => 'hold', { batchSize: 4, flushInterval: 60_000, maxBufferBytes: 1 << 20 })
  const big = 'x'.repeat(9_000) // ~9 KB an event
  for (let i = 0; i < 4; i++) log.info(`${i} ${big}`) // a full batch: in flight (held), ~36 KB
  await settled()
  t.equal(page.requests.length, 1)
  for (let i = 4; i < 10; i++) log.info(`${i} ${big}`)
  await settled()
  page.pageHidden()
  const beaconBytes = (): number => page.beacons.reduce((n, b) => n + new TextEncoder().encode(b.body).length, 0)
  t.equal(page.beacons.length, 1)
  t.ok(beaconBytes() + page.requests[0]!.body.length <= BATCH_BYTES, 'in flight + beacons within the budget')
  t.same(page.beacons[0]!.lines.map(l => String(l.message).split(' ')[0]), ['4', '5'])
  page.pageHidden() // pagehide after visibilitychange: the budget is spent
  t.equal(page.beacons.length, 1)
  page.pageShown()
  page.beaconAccepts = false
  page.pageHidden()
  t.equal(page.beacons.length, 1, 'sendBeacon said no: kept')
  t.match(log.stats(), { beaconed: 2, buffered: 8 })
  // The page stayed: what waited is sent as usual.
  page.requests[0]!.answer({ status: 200, body: {} })
  await settled()
  t.equal(page.requests.length, 2)
  page.requests[1]!.answer({ status: 200, body: {} })
  const flushed = log.flush()
  await settled()
  page.requests[2]?.answer({ status: 200, body: {} })
  await flushed
  t.match(log.stats(), { sent: 8, beaconed: 2, buffered: 0 })
})

t.test('a batch waiting for its retry leaves by beacon under its own id', async t => {
  const { page, log } = setup(() => ({ status: 503 }))
  log.info('retrying')
  void log.flush()
  await settled()
  t.equal(log.stats().retried, 1)
  log.info('newer')
  page.pageHidden()
  t.equal(page.beacons.length, 2)
  t.equal(page.beacons[0]!.url.searchParams.get('batch'), page.requests[0]!.url.searchParams.get('batch'))
  t.same(page.beacons.map(b => b.lines.map(l => l.message)), [['retrying'], ['newer']])
  t.equal(page.pendingTimers, 0, 'no retry left')
  await log.flush()
})

t.test('a batch waiting for its retry that does not fit the budget stays, and so does all after it', async t => {
  const { page, log } = setup(() => ({ status: 503 }), { batchSize: 1 })
  log.info('x'.repeat(70_000)) // over 64 KiB alone: sent without keepalive
  await settled()
  t.equal(page.requests[0]!.init.keepalive, false)
  log.info('small')
  page.pageHidden()
  t.equal(page.beacons.length, 0)
  t.match(log.stats(), { buffered: 2, beaconed: 0 })
})

t.test('sendBeacon that throws is a "no", with the reason', async t => {
  const { page, log } = setup()
  page.env.sendBeacon = () => { throw new TypeError('Illegal invocation') }
  log.info('a')
  page.pageHidden()
  t.match(log.stats(), { beaconed: 0, buffered: 1, lastError: 'sendBeacon: Illegal invocation' })
})

t.test('without sendBeacon: fetch keepalive; a failure moves its events from beaconed to dropped', async t => {
  const { page, log } = setup((_r, n) => n === 0 ? { status: 200, body: {} } : 'network-error', {}, false)
  log.info('a')
  page.pageHidden()
  await settled()
  t.match(page.requests[0]!.init, { keepalive: true })
  t.match(log.stats(), { beaconed: 1, dropped: 0 })
  page.pageShown()
  log.info('b')
  page.pageHidden()
  await settled()
  t.match(log.stats(), { beaconed: 1, dropped: 1, lastError: 'keepalive fetch: Failed to fetch' })
})

t.test('child(bindings): bindings win over the parent\'s, and must be an object', async t => {
  const { page, log } = setup(undefined, { fields: { a: 1, b: 1 } })
  log.child({ b: 2, c: 2 }).child({ c: 3 }).info({ d: 4 }, 'deep')
  await log.flush()
  t.match(page.requests[0]!.lines[0], { a: 1, b: 2, c: 3, d: 4 })
  t.throws(() => log.child(null as never), { message: /child\(bindings\) needs an object/ })
})
