// Alerts end to end in embedded mode, against real parts: the collector as a child process, webhook
// receivers on loopback, a real SMTP server and the example receiver (examples/alerts/receiver.js) as a
// child process. Issue #21, "Done when".
//
//   test ─► POST /logs ─► collector (journal ─► each evaluator ─► outbox ─► delivery) ─► hook / SMTP / receiver.js
//                               └── GET /logs (the link), /alerts/:id/history, /status, /metrics
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { poll, startCollector } from '../support'
import { readMail, smtpReceiver } from '../../collector/test/alerts-receivers'
import { api, createAlert, deduped, history, hook, postEvents, signature } from './alerts-support'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../mongo/server.mjs')

const SECRET = 'webhook-secret-e2e'

t.test('embedded: an each alert with a signed webhook, its link, history, /status and /metrics; a silence still sends', async t => {
  const c = await startCollector(t)
  const h = await hook(t)
  const alert = await createAlert(c, {
    name: 'payments errors',
    query: 'app_name = payments and level >= ERROR',
    channels: [{ type: 'webhook', url: h.url, secret: SECRET }],
    sample: 100
  })
  await postEvents(c, [
    { app_name: 'payments', level: 'error', message: 'card declined #1' },
    { app_name: 'payments', level: 'info', message: 'card accepted #2' },
    { app_name: 'shipping', level: 'error', message: 'label failed #3' },
    { app_name: 'payments', level: 'critical', message: 'ledger down #4' },
    { app_name: 'payments', level: 'error', message: 'card declined #5' }
  ])
  // No event comes after these: the journal's clock alone closes the group once its window has passed.
  await poll(() => h.received.length >= 1)
  t.equal(h.received.length, 1, 'one notification')
  const got = h.received[0]!
  const n = got.json
  t.equal(n.alert.id, alert.id)
  t.equal(n.alert.name, 'payments errors')
  t.equal(n.state, 'firing')
  t.equal(n.count, 3)
  t.same(n.events.map(e => e.message), ['card declined #1', 'ledger down #4', 'card declined #5'], 'the matching events, oldest first')
  t.same(n.events.map(e => e.level), ['ERROR', 'CRITICAL', 'ERROR'])
  t.equal(got.headers['idempotency-key'], n.notification_id, 'Idempotency-Key is the notification id')
  t.equal(got.headers['x-maap-signature'], signature(SECRET, got.body), 'X-Maap-Signature is the HMAC-SHA256 of the exact body')
  t.notOk(got.body.includes(SECRET), 'the secret is not in the body')

  // The link opens exactly these events through GET /logs.
  const link = new URL(n.link)
  t.equal(link.origin, c.url, 'links use the listening address when PUBLIC_URL is unset')
  const page = await api(c, 'GET', `/logs?${link.searchParams.toString()}`)
  t.equal(page.status, 200)
  t.same((page.json.events as Array<{ _id: string }>).map(e => e._id).sort(), n.events.map(e => e._id).sort(), "the link's query answers exactly the notified events")

  const delivered = await poll(async () => {
    const hist = await history(c, alert.id)
    return hist.length === 1 && hist[0]!.deliveries[0]!.status === 'delivered' ? hist : undefined
  })
  t.equal(delivered[0]!.id, n.notification_id)
  t.equal(delivered[0]!.count, 3)
  t.match(delivered[0]!.deliveries[0], { type: 'webhook', attempts: 1, last_error: null })
  const listed = (await api(c, 'GET', '/alerts')).json.alerts as Array<{ id: string, last_notified_at: string, channels: Array<{ secret?: string }>, deliveries: unknown }>
  t.equal(listed[0]!.last_notified_at, n.created_at)
  t.same(listed[0]!.deliveries, { pending: 0, failed: 0 })
  t.notOk(JSON.stringify(listed).includes(SECRET), 'GET /alerts masks the secret')

  const status = (await api(c, 'GET', '/status')).json
  t.match(status.alerts, { alerts: 1, enabled: 1, notifications: 1, outbox: { pending: 0, failed: 0 } })
  t.notOk(JSON.stringify(status).includes(SECRET), '/status holds no secret')
  const metrics = (await (await fetch(`${c.url}/metrics`)).text())
  t.match(metrics, /maap_alert_deliveries_total\{channel="webhook",result="delivered"\} 1\b/)
  t.match(metrics, /maap_alert_notifications_total 1\b/)
  t.match(metrics, /maap_alert_outbox_pending 0\b/)

  // One more error, then silence: it goes out once its window has passed, with no event after it.
  await postEvents(c, [{ app_name: 'payments', level: 'error', message: 'one at 3 a.m. #6' }])
  await poll(() => h.received.length >= 2)
  const late = h.received[1]!.json
  t.equal(late.count, 1)
  t.equal(late.events[0]!.message, 'one at 3 a.m. #6')
  t.not(late.notification_id, n.notification_id)
  t.equal(deduped(h).length, 2, 'each notification once')
  t.equal(await c.stop(), 0, 'stops cleanly')
})

t.test('email, Slack and webhook channels: the message, its parts, and POST /alerts/:id/test answering each', async t => {
  const smtp = await smtpReceiver(t)
  const h = await hook(t)
  const slack = await hook(t)
  const c = await startCollector(t, { env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ALERT_EMAIL_FROM: 'alerts@maap.test', PUBLIC_URL: 'https://logs.maap.test' } })
  const alert = await createAlert(c, {
    name: 'payments 5xx',
    query: 'app_name = payments and http.status >= 500',
    channels: [{ type: 'webhook', url: h.url }, { type: 'email', to: ['oncall@maap.test'] }, { type: 'slack', url: slack.url }]
  })
  await postEvents(c, [
    { app_name: 'payments', level: 'error', message: 'upstream <timeout> #1', http: { status: 504 } },
    { app_name: 'payments', level: 'info', message: 'fine #2', http: { status: 200 } },
    { app_name: 'payments', level: 'error', message: 'bad gateway #3', http: { status: 502 } }
  ])
  await poll(() => smtp.mails.length >= 1 && h.received.length >= 1 && slack.received.length >= 1)
  const mail = readMail(smtp.mails[0]!.raw)
  t.same(smtp.mails[0]!.to, ['oncall@maap.test'])
  t.equal(smtp.mails[0]!.from, 'alerts@maap.test')
  t.equal(mail.headers.subject, '[MAAP] firing: payments 5xx (2 events)')
  const link = h.received[0]!.json.link
  t.ok(link.startsWith('https://logs.maap.test/?'), 'links start with PUBLIC_URL')
  const text = mail.parts['text/plain'] ?? ''
  const html = mail.parts['text/html'] ?? ''
  for (const m of ['upstream <timeout> #1', 'bad gateway #3']) t.ok(text.includes(m), `the text part has "${m}"`)
  t.notOk(text.includes('fine #2'))
  t.ok(text.includes(link), 'the text part has the link')
  t.ok(html.includes('upstream &lt;timeout&gt; #1'), 'the HTML part has the events, escaped')
  t.ok(html.includes('bad gateway #3'))
  t.ok(html.includes(link.replaceAll('&', '&amp;')), 'the HTML part has the link')
  const slackBody = slack.received[0]!.json as unknown as { text: string, blocks: unknown[] }
  t.ok(slackBody.text.includes('payments 5xx') && Array.isArray(slackBody.blocks), 'Slack gets text and blocks')
  t.notOk(JSON.stringify(smtp.mails).includes(`${smtp.port}/`), 'nothing of SMTP_URL leaks into the message')

  const tested = await api(c, 'POST', `/alerts/${alert.id}/test`)
  t.equal(tested.status, 200)
  t.same(tested.json, {
    results: [
      { channel: 0, type: 'webhook', ok: true, status: 200, error: null },
      { channel: 1, type: 'email', ok: true, status: 250, error: null },
      { channel: 2, type: 'slack', ok: true, status: 200, error: null }
    ]
  }, 'the test answers what each channel returned')
  t.equal(h.received.length, 2, 'the test reached the webhook')
  t.equal(slack.received.length, 2, 'the test reached Slack')
  t.equal(smtp.mails.length, 2, 'the test reached the mailbox')
  t.ok(String(h.received[1]!.headers['idempotency-key']).startsWith('test-'), 'a test notification has an id of its own')

  // A receiver that refuses: the test says so, with its status.
  slack.answer = (_got, res) => { res.writeHead(404).end('no_service') }
  const refused = await api(c, 'POST', `/alerts/${alert.id}/test`)
  t.match(refused.json.results[2], { type: 'slack', ok: false, status: 404, error: /no_service/ })
})

t.test('examples/alerts/receiver.js checks the signature and handles a redelivered notification once', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-receiver-'))
  const port: number = await freePort()
  const seenFile = join(dir, 'seen.txt')
  const startReceiver = async (): Promise<{ lines: string[], stop: () => Promise<void> }> => {
    const child = spawn(process.execPath, [resolve(__dirname, '..', '..', 'examples', 'alerts', 'receiver.js')], {
      env: { ...process.env, PORT: String(port), WEBHOOK_SECRET: SECRET, SEEN_FILE: seenFile }, stdio: ['ignore', 'pipe', 'inherit']
    })
    const lines: string[] = []
    const exited = new Promise(resolve => child.once('exit', resolve))
    t.teardown(() => { child.kill('SIGKILL') })
    await new Promise<void>(resolve => {
      createInterface({ input: child.stdout }).on('line', line => {
        lines.push(line)
        if (line.startsWith('listening on')) resolve()
      })
    })
    return { lines, stop: async () => { child.kill('SIGTERM'); await exited } }
  }
  let receiver = await startReceiver()
  // A second webhook to a test hook keeps the exact bytes and headers the collector sent, to send them again.
  const copy = await hook(t)
  const c = await startCollector(t)
  await createAlert(c, {
    name: 'payments errors',
    query: 'app_name = payments',
    channels: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET }, { type: 'webhook', url: copy.url, secret: SECRET }]
  })
  await postEvents(c, [{ app_name: 'payments', level: 'error', message: 'card declined #1' }])
  await poll(() => copy.received.length >= 1 && readSeen(seenFile).length >= 1)
  const sent = copy.received[0]!
  t.same(readSeen(seenFile), [sent.json.notification_id], 'the receiver handled the notification')
  t.ok(receiver.lines.some(l => l.includes('[firing] payments errors: 1 event(s)')), 'and printed it')

  const redeliver = async (body: Buffer): Promise<{ status: number, text: string }> => {
    const res = await fetch(`http://127.0.0.1:${port}/hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': String(sent.headers['idempotency-key']), 'x-maap-signature': String(sent.headers['x-maap-signature']) },
      body
    })
    return { status: res.status, text: await res.text() }
  }
  t.same(await redeliver(sent.body), { status: 200, text: 'already handled\n' }, 'a redelivery is answered 200, not handled again')
  const tampered = Buffer.from(sent.body.toString('utf8').replace('card declined', 'card accepted'))
  t.equal((await redeliver(tampered)).status, 401, 'a body that is not what was signed is refused')
  // Restarted on the same seen file: a redelivery is still a repeat.
  await receiver.stop()
  receiver = await startReceiver()
  t.same(await redeliver(sent.body), { status: 200, text: 'already handled\n' })
  t.same(readSeen(seenFile), [sent.json.notification_id], 'handled once in all')
  t.notOk(receiver.lines.some(l => l.startsWith('[firing]')), 'nothing handled after the restart')
})

function readSeen (file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}
