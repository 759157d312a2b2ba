// The shipper (the core of the pino and winston transports and maap-ship) → a real collector on loopback
// with APP_QUOTAS: a batch past the app's quota is answered 429 + Retry-After; the shipper waits that
// long and sends it again, and every record is stored once. One clock, moved by hand, drives both the
// collector's quota and the shipper's retry pause: nothing waits for real time.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, loadConfig } from '@maap-event-logger/collector'
import { Shipper } from '@maap-event-logger/shipper'
import { FakeClock, journaled, poll } from './support'

t.test('a batch refused for its app\'s quota is retried after Retry-After and stored once', async t => {
  const clock = new FakeClock()
  const logDir = mkdtempSync(join(tmpdir(), 'maap-quota-e2e-'))
  const app = await build(loadConfig({ LOG_DIR: logDir, APP_QUOTAS: 'e2e=60' }), false, { now: clock.now })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const errors: string[] = []
  const shipper = new Shipper({ url, appName: 'e2e', batchSize: 60, onError: err => errors.push(err.code) }, {}, { clock })
  t.teardown(() => shipper.close())
  const status = async () => (await app.inject({ method: 'GET', url: '/status' })).json()

  for (let i = 0; i < 60; i++) shipper.write({ level: 'info', msg: `r${i}`, i })
  t.equal((await shipper.flush()).sent, 60, 'the quota\'s worth is stored at once')

  for (let i = 60; i < 100; i++) shipper.write({ level: 'info', msg: `r${i}`, i })
  const flushed = shipper.flush()
  await poll(() => shipper.stats().retried >= 40)
  t.same((await status()).quotas.refused_requests, { e2e: 1 })
  t.ok(clock.requested.includes(40_000), 'the shipper waits the Retry-After the collector gave: 40 events at 1 a second')
  clock.advance(39_999)
  t.equal((await status()).accepted_total, 60, 'not sent again before Retry-After')
  clock.advance(1)
  const stats = await flushed
  t.equal(stats.sent, 100)
  t.equal(stats.dropped, 0)
  t.equal(stats.rejected, 0)
  t.ok(errors.includes('MAAP_SHIP_RETRY'), 'the retry was reported')

  const s = await status()
  t.equal(s.accepted_total, 100)
  t.same(s.quotas.refused_requests, { e2e: 1 }, 'refused once, then accepted')
  const stored = journaled(logDir).map(e => e.i as number).sort((a, b) => a - b)
  t.same(stored, Array.from({ length: 100 }, (_, i) => i), 'every record stored once')
})
