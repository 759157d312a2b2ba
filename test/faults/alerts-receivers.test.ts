// Receivers that misbehave, on loopback, in front of a real collector: one answering 500s, one down (the
// connection refused) then back, one slower than ALERT_SEND_TIMEOUT, and one that never comes back with a
// short ALERT_DELIVERY_TIMEOUT. What arrives, in what order, how often, and what history, /status and
// /metrics say meanwhile. Issue #21, section 3.
//
//   collector ─► outbox ─► lane per alert channel ─► hook (500s) │ hook (down, then back) │ hook (slow) │ nothing
import t from 'tap'
import { poll, startCollector, type RunningCollector } from '../support'
import { api, createAlert, deduped, history, hook, postEvents, type HistoryEntry } from './alerts-support'

/** Polls the alert's history until `check` holds for it. */
async function untilHistory (c: RunningCollector, alertId: string, check: (h: HistoryEntry[]) => boolean): Promise<HistoryEntry[]> {
  return await poll(async () => {
    const h = await history(c, alertId)
    return check(h) ? h : undefined
  })
}

const event = (app: string, i: number): object => ({ app_name: app, level: 'error', message: `${app} failure #${i}` })

t.test('a receiver answering 500s, one down then back, one too slow: retried, shown, then everything once and in order', async t => {
  // 2 s: long enough that a loaded machine's 500 is answered in time, short enough for the slow one to pass it.
  const c = await startCollector(t, { env: { ALERT_SEND_TIMEOUT: '2' } })
  let failing = true
  const fails = await hook(t, (_got, res) => {
    if (failing) res.writeHead(500).end('database is on fire')
    else res.end('ok')
  })
  let slow = true
  const slowHook = await hook(t, (_got, res) => {
    // Answers long after the collector gave up on it (ALERT_SEND_TIMEOUT 2 s); the test's teardown cuts it.
    if (slow) setTimeout(() => res.end('late'), 30_000).unref()
    else res.end('ok')
  })
  const down = await hook(t)
  await down.close()
  const [aFails, aSlow, aDown] = await Promise.all([
    createAlert(c, { name: 'fails', query: 'app_name = fails', channels: [{ type: 'webhook', url: fails.url }] }),
    createAlert(c, { name: 'slow', query: 'app_name = slow', channels: [{ type: 'webhook', url: slowHook.url }] }),
    createAlert(c, { name: 'down', query: 'app_name = down', channels: [{ type: 'webhook', url: down.url }] })
  ])
  await postEvents(c, [event('fails', 1), event('slow', 1), event('down', 1)])

  const failing500 = await untilHistory(c, aFails.id, h => h[0]?.deliveries[0]?.status === 'retrying' && /database is on fire/.test(h[0].deliveries[0].last_error ?? ''))
  t.match(failing500[0]!.deliveries[0], { status: 'retrying', last_error: /500.*database is on fire|database is on fire/ }, 'a 500 is retried, its answer kept')
  const slowed = await untilHistory(c, aSlow.id, h => h[0]?.deliveries[0]?.status === 'retrying')
  t.match(slowed[0]!.deliveries[0], { status: 'retrying', last_error: /no answer within 2000 ms/ }, 'a send past ALERT_SEND_TIMEOUT is retried')
  const refused = await untilHistory(c, aDown.id, h => h[0]?.deliveries[0]?.status === 'retrying')
  t.match(refused[0]!.deliveries[0], { status: 'retrying', last_error: /ECONNREFUSED|refused|fetch failed/i })
  const listed = (await api(c, 'GET', '/alerts')).json.alerts as Array<{ name: string, deliveries: { pending: number } }>
  t.same(listed.map(a => a.deliveries.pending), [1, 1, 1], 'GET /alerts counts the deliveries pending')
  const status = (await api(c, 'GET', '/status')).json
  t.equal(status.alerts.outbox.pending, 3, '/status counts the outbox pending')
  t.match(await (await fetch(`${c.url}/metrics`)).text(), /maap_alert_deliveries_total\{channel="webhook",result="retrying"\} [1-9]/)

  // While `down` is down, two more groups (a window apart) queue behind its first.
  for (const i of [2, 3]) {
    await postEvents(c, [event('down', i)])
    await untilHistory(c, aDown.id, h => h.length === i)
  }
  failing = false
  slow = false
  await down.open()
  await untilHistory(c, aDown.id, h => h.length === 3 && h.every(n => n.deliveries[0]!.status === 'delivered'))
  await untilHistory(c, aFails.id, h => h[0]?.deliveries[0]?.status === 'delivered')
  await untilHistory(c, aSlow.id, h => h[0]?.deliveries[0]?.status === 'delivered')

  t.same(down.received.map(r => r.json.events[0]!.message), ['down failure #1', 'down failure #2', 'down failure #3'], 'the receiver that was down gets everything, in order, each once')
  t.equal(fails.received.at(-1)!.json.events[0]!.message, 'fails failure #1')
  t.equal(deduped(fails).length, 1, 'the failing one: one notification, however many attempts')
  t.ok(fails.received.length >= 2)
  t.equal(deduped(slowHook).length, 1, 'the slow one: one notification by Idempotency-Key (a late first attempt may also have arrived)')
  const [doneFails, doneSlow] = await Promise.all([history(c, aFails.id), history(c, aSlow.id)])
  t.match(doneFails[0]!.deliveries[0], { status: 'delivered', last_error: null })
  t.ok(doneFails[0]!.deliveries[0]!.attempts >= 2)
  t.ok(doneSlow[0]!.deliveries[0]!.attempts >= 2)
  t.equal((await api(c, 'GET', '/status')).json.alerts.outbox.pending, 0)
})

t.test('a receiver that never comes back: failed at ALERT_DELIVERY_TIMEOUT, counted in history, /status and /metrics', async t => {
  const gone = await hook(t)
  await gone.close()
  const ok = await hook(t)
  const c = await startCollector(t, { env: { ALERT_DELIVERY_TIMEOUT: '1' } })
  const alert = await createAlert(c, { name: 'gone', query: 'app_name = gone', channels: [{ type: 'webhook', url: gone.url }, { type: 'webhook', url: ok.url }] })
  await postEvents(c, [event('gone', 1)])
  const failed = await untilHistory(c, alert.id, h => h[0]?.deliveries[0]?.status === 'failed')
  t.match(failed[0]!.deliveries[0], { status: 'failed', last_error: /./ }, 'failed with the last error it had')
  t.ok(failed[0]!.deliveries[0]!.attempts >= 1)
  await untilHistory(c, alert.id, h => h[0]?.deliveries[1]?.status === 'delivered')
  t.equal(ok.received.length, 1, 'the other channel of the same notification is delivered')
  const s = await poll(async () => {
    const st = (await api(c, 'GET', '/status')).json
    return st.alerts.outbox.failed === 1 ? st : undefined
  })
  t.equal(s.alerts.outbox.pending, 0)
  const listed = (await api(c, 'GET', `/alerts/${alert.id}`)).json
  t.same(listed.deliveries, { pending: 0, failed: 1 })
  t.match(await (await fetch(`${c.url}/metrics`)).text(), /maap_alert_deliveries_total\{channel="webhook",result="failed"\} 1\b/)
})
