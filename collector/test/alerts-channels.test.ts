// The alert channels against real receivers on loopback: a webhook's body, headers and signature (checked
// with node:crypto), no redirect followed, a slow receiver cut at the timeout, a huge error answer kept to
// 1 KB, Retry-After read; Slack's body (text, blocks, limits, escaping); an e-mail received by a real SMTP
// server with its subject, both parts and escaped HTML; and the test send answering each channel's result.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import type { AlertDefinition, ChannelContext, Notification } from '../src/alerts/model'
import { closeEmailTransports, emailMessage, formatDuration, parseRetryAfter, sendToChannel, slackBody, SLACK_LIMITS, testChannels, testNotification, USER_AGENT, webhookSignature } from '../src/alerts/channels'
import { VERSION } from '../src/version'
import { notification, readMail, receiver, smtpReceiver } from './alerts-receivers'

const ctx: ChannelContext = { smtpUrl: undefined, emailFrom: 'maap@test.local', timeoutMs: 5000 }

t.teardown(closeEmailTransports)

function firing (overrides: Partial<Notification> = {}): Notification {
  return { ...notification('a1', 1, [{ type: 'webhook', url: 'http://unused' }]), ...overrides }
}

t.test('webhook: the body, Idempotency-Key, User-Agent, and a signature over the exact bytes', async t => {
  const r = await receiver(t)
  const n = firing({ alert_name: 'payments 5xx', count: 12 })
  const result = await sendToChannel({ type: 'webhook', url: r.url, secret: 's3cret' }, n, ctx)
  t.same(result, { ok: true, status: 200 })
  t.equal(r.received.length, 1)
  const got = r.received[0]!
  t.equal(got.headers['idempotency-key'], n.id)
  t.equal(got.headers['content-type'], 'application/json')
  t.equal(got.headers['user-agent'], `maap-collector/${VERSION}`)
  t.equal(USER_AGENT, `maap-collector/${VERSION}`)
  const expected = `sha256=${createHmac('sha256', 's3cret').update(got.body).digest('hex')}`
  t.equal(got.headers['x-maap-signature'], expected, 'the receiver can verify the signature over the bytes it got')
  t.equal(webhookSignature('s3cret', got.body), expected)
  const body = JSON.parse(got.body.toString('utf8')) as Record<string, unknown>
  t.same(Object.keys(body).sort(), ['alert', 'condition', 'count', 'created_at', 'events', 'link', 'notification_id', 'range', 'state'])
  t.same(body, {
    notification_id: n.id,
    alert: { id: 'a1', name: 'payments 5xx' },
    state: 'firing',
    condition: { type: 'each' },
    count: 12,
    events: n.events,
    link: n.link,
    range: n.range,
    created_at: n.created_at
  })
  t.notOk(got.body.includes('http://unused'), 'channels (and their secrets) are not in the body')

  await sendToChannel({ type: 'webhook', url: r.url }, n, ctx)
  t.equal(r.received[1]!.headers['x-maap-signature'], undefined, 'no secret, no signature')
})

t.test('webhook: a redirect is not followed and is retried; other 4xx are permanent, 408/429/5xx are not', async t => {
  const r = await receiver(t, (req, res) => {
    if (req.path === '/hook') {
      res.writeHead(302, { location: '/elsewhere' })
      res.end()
    } else res.end('followed')
  })
  const redirected = await sendToChannel({ type: 'webhook', url: r.url }, firing(), ctx)
  t.equal(redirected.ok, false)
  t.equal(redirected.status, 302)
  t.match(redirected.error, /redirect is not followed/)
  t.notOk(redirected.permanent)
  t.same(r.received.map(x => x.path), ['/hook'], 'the Location was never asked for')

  for (const [status, permanent] of [[400, true], [404, true], [410, true], [408, false], [429, false], [500, false], [503, false]] as const) {
    r.answer = (_req, res) => { res.writeHead(status); res.end(`no ${status}`) }
    const result = await sendToChannel({ type: 'slack', url: r.url }, firing(), ctx)
    t.same({ ok: result.ok, status: result.status, permanent: result.permanent === true, error: result.error },
      { ok: false, status, permanent, error: `HTTP ${status}: no ${status}` }, `HTTP ${status}`)
  }
})

t.test('webhook: Retry-After in seconds or as a date', async t => {
  const r = await receiver(t, (_req, res) => { res.writeHead(429, { 'retry-after': '7' }); res.end() })
  const seconds = await sendToChannel({ type: 'webhook', url: r.url }, firing(), ctx)
  t.equal(seconds.retryAfterMs, 7000)
  t.equal(seconds.error, 'HTTP 429')
  r.answer = (_req, res) => { res.writeHead(503, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() }); res.end() }
  const date = await sendToChannel({ type: 'webhook', url: r.url }, firing(), ctx)
  t.ok(date.retryAfterMs! > 3_500_000 && date.retryAfterMs! <= 3_600_000, 'an HTTP date, relative to now')

  t.equal(parseRetryAfter(null), undefined)
  t.equal(parseRetryAfter(' '), undefined)
  t.equal(parseRetryAfter('soon'), undefined)
  t.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', 5000), 0, 'a date in the past: now')
})

t.test('webhook: a 1 MB error answer keeps at most 1 KB', async t => {
  const r = await receiver(t, (_req, res) => { res.writeHead(500); res.end('é'.repeat(512 * 1024)) })
  const result = await sendToChannel({ type: 'webhook', url: r.url }, firing(), ctx)
  t.equal(result.status, 500)
  t.ok(Buffer.byteLength(result.error!) <= 1024, `${Buffer.byteLength(result.error!)} bytes`)
  t.ok(result.error!.startsWith('HTTP 500: éé'))
  t.notOk(result.error!.includes('\uFFFD'), 'no character cut in two')
})

t.test('webhook: a receiver that does not answer is cut at the timeout; a refused connection is a retryable failure', async t => {
  const r = await receiver(t, () => { /* never answers */ })
  const slow = await sendToChannel({ type: 'webhook', url: r.url }, firing(), { ...ctx, timeoutMs: 300 })
  t.same(slow, { ok: false, error: 'no answer within 300 ms' })

  // A port that was just free: nothing listens there now.
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise(resolve => probe.close(resolve))
  const refusedUrl = `http://127.0.0.1:${port}/hook`
  const refused = await sendToChannel({ type: 'webhook', url: refusedUrl }, firing(), ctx)
  t.equal(refused.ok, false)
  t.equal(refused.status, undefined)
  t.notOk(refused.permanent)
  t.match(refused.error, /ECONNREFUSED/)
})

t.test('slack: text and blocks that read well, mrkdwn escaped', async t => {
  const r = await receiver(t)
  const n = firing({
    alert_name: 'payments 5xx',
    count: 12,
    events: [{ _id: 'e1', timestamp: '2024-05-01T10:00:00.000Z', received_at: '2024-05-01T10:00:00.100Z', level: 'ERROR', app_name: 'payments', message: '<!channel> card & `declined` > now' }]
  })
  const result = await sendToChannel({ type: 'slack', url: r.url }, n, ctx)
  t.equal(result.ok, true)
  const body = JSON.parse(r.received[0]!.body.toString('utf8')) as ReturnType<typeof slackBody>
  t.same(body, slackBody(n))
  t.equal(body.text, '[firing] payments 5xx — 12 events')
  t.same(body.blocks[0], { type: 'header', text: { type: 'plain_text', text: 'Firing: payments 5xx', emoji: false } })
  const all = JSON.stringify(body.blocks)
  t.ok(all.includes('*12 events*'))
  t.ok(all.includes('05-01 10:00:00 ERROR payments  &lt;!channel&gt; card &amp; ˋdeclinedˋ &gt; now'), 'escaped, no backtick inside the code block')
  t.notOk(all.includes('<!channel>'))
  t.ok(all.includes('1 of 12 events shown'))
  t.same(body.blocks.at(-1), { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'View in MAAP' }, url: n.link }] })

  const resolved = slackBody({ ...n, state: 'resolved', condition: { type: 'count', above: 10, window: '5m' } })
  t.equal(resolved.text, '[resolved] payments 5xx — 12 events in 5m (above 10)')
  t.equal((resolved.blocks[0] as { text: { text: string } }).text.text, 'Resolved: payments 5xx')
})

t.test('slack: within Slack\'s limits whatever the events', async t => {
  const events = Array.from({ length: 100 }, (_, i) => ({ _id: `e${i}`, timestamp: '2024-05-01T10:00:00.000Z', received_at: '2024-05-01T10:00:00.000Z', level: 'ERROR', app_name: 'a'.repeat(4000), message: '<'.repeat(5000) }))
  const body = slackBody(firing({ alert_name: 'x'.repeat(400), count: 100, events, link: `http://maap.test/?q=${'y'.repeat(4000)}` }))
  t.ok(body.blocks.length <= SLACK_LIMITS.blocks, `${body.blocks.length} blocks`)
  for (const b of body.blocks) {
    const text = (b as { text?: { text: string } }).text?.text
    if (text !== undefined) t.ok(text.length <= (b.type === 'header' ? SLACK_LIMITS.header : SLACK_LIMITS.text), `${String(b.type)} ${text.length}`)
  }
  t.notOk(JSON.stringify(body.blocks).includes('"button"'), 'a link too long for a button is left out')
  t.match(JSON.stringify(body.blocks.at(-1)), /too long for Slack/)

  const many = Array.from({ length: 100 }, (_, i) => ({ ...events[0]!, app_name: 'payments', message: `m${i} ${'z'.repeat(100)}` }))
  const split = slackBody(firing({ count: 100, events: many }))
  const sections = split.blocks.filter(b => JSON.stringify(b).includes('```'))
  t.ok(sections.length > 1, 'the events span sections')
  t.equal(sections.map(b => (b as { text: { text: string } }).text.text.split('\n').length - 2).reduce((a, b) => a + b, 0), 100, 'every event shown')
})

t.test('email: received by a real SMTP server with the subject, both parts and escaped HTML', async t => {
  const smtp = await smtpReceiver(t)
  const n = firing({
    alert_name: 'payments 5xx',
    count: 12,
    events: [{ _id: 'e1', timestamp: '2024-05-01T10:00:00.000Z', received_at: '2024-05-01T10:00:00.000Z', level: 'ERROR', app_name: 'payments', message: '<script>alert("x")</script> & more' }]
  })
  const result = await sendToChannel({ type: 'email', to: ['oncall@example.com', 'b@example.com'] }, n, { ...ctx, smtpUrl: `smtp://127.0.0.1:${smtp.port}` })
  t.equal(result.ok, true)
  t.equal(result.status, 250)
  t.equal(smtp.mails.length, 1)
  const mail = smtp.mails[0]!
  t.equal(mail.from, 'maap@test.local')
  t.same(mail.to, ['oncall@example.com', 'b@example.com'])
  const { headers, parts } = readMail(mail.raw)
  t.equal(headers.subject, '[MAAP] firing: payments 5xx (12 events)')
  t.equal(headers['x-maap-notification-id'], n.id)
  t.match(headers['content-type'], /multipart\/alternative/)
  t.match(parts['text/plain'], '<script>alert("x")</script> & more')
  t.match(parts['text/plain'], `View in MAAP: ${n.link}`)
  t.match(parts['text/plain'], 'Events (1 of 12 shown):')
  const html = parts['text/html']!
  t.match(html, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more')
  t.notOk(html.includes('<script>'))
  t.match(html, `<a href="${n.link}">View in MAAP</a>`)
  t.equal(emailMessage({ ...n, state: 'resolved', count: 1 }).subject, '[MAAP] resolved: payments 5xx (1 event)')
})

t.test('email: SMTP refusals, permanent or not, and the SMTP_URL never in an error', async t => {
  const smtp = await smtpReceiver(t, {
    onAuth (auth, _session, callback) { callback(auth.password === 'right' ? null : new Error('bad login'), { user: auth.username }) },
    onRcptTo (address, _session, callback) {
      if (address.address.startsWith('nobody')) callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }))
      else if (address.address.startsWith('later')) callback(Object.assign(new Error('try later'), { responseCode: 451 }))
      else callback()
    }
  })
  const url = `smtp://user:wrong-pass@127.0.0.1:${smtp.port}`
  const badLogin = await sendToChannel({ type: 'email', to: ['a@example.com'] }, firing(), { ...ctx, smtpUrl: url })
  t.equal(badLogin.ok, false)
  t.equal(badLogin.permanent, true)
  t.notOk(badLogin.error!.includes('wrong-pass'), badLogin.error)

  const good = `smtp://user:right@127.0.0.1:${smtp.port}`
  const unknown = await sendToChannel({ type: 'email', to: ['nobody@example.com'] }, firing(), { ...ctx, smtpUrl: good })
  t.same({ ok: unknown.ok, status: unknown.status, permanent: unknown.permanent }, { ok: false, status: 550, permanent: true })
  const later = await sendToChannel({ type: 'email', to: ['later@example.com'] }, firing(), { ...ctx, smtpUrl: good })
  t.same({ ok: later.ok, status: later.status, permanent: later.permanent }, { ok: false, status: 451, permanent: undefined })
  t.equal((await sendToChannel({ type: 'email', to: ['a@example.com'] }, firing(), { ...ctx, smtpUrl: good })).ok, true)
  t.equal(smtp.mails.length, 1)

  const none = await sendToChannel({ type: 'email', to: ['a@example.com'] }, firing(), ctx)
  t.same(none, { ok: false, permanent: true, error: 'SMTP_URL is not set: e-mail cannot be sent' })
})

t.test('testChannels: a test notification to every channel, and what each returned', async t => {
  const good = await receiver(t)
  const gone = await receiver(t, (_req, res) => { res.writeHead(404); res.end('no_service') })
  const smtp = await smtpReceiver(t)
  const alert: AlertDefinition = {
    id: 'al1',
    name: 'payments 5xx',
    query: 'app_name = payments',
    condition: { type: 'count', above: 10, window_ms: 300_000 },
    channels: [{ type: 'webhook', url: good.url, secret: 'k' }, { type: 'slack', url: gone.url }, { type: 'email', to: ['o@example.com'] }],
    group_window_ms: 30_000,
    sample: 10,
    repeat_after_ms: null,
    enabled: true,
    revision: 3,
    active_since: '2024-01-01T00:00:00.000Z',
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z'
  }
  const results = await testChannels(alert, { ...ctx, smtpUrl: `smtp://127.0.0.1:${smtp.port}` }, 'http://maap.test/')
  t.same(results, [
    { channel: 0, type: 'webhook', ok: true, status: 200, error: null },
    { channel: 1, type: 'slack', ok: false, status: 404, error: 'HTTP 404: no_service' },
    { channel: 2, type: 'email', ok: true, status: 250, error: null }
  ])
  const body = JSON.parse(good.received[0]!.body.toString('utf8')) as { notification_id: string, state: string, condition: unknown, events: Array<{ message: string }>, link: string }
  t.match(body.notification_id, /^test-/)
  t.equal(body.state, 'firing')
  t.same(body.condition, { type: 'count', above: 10, window: '5m' })
  t.match(body.events[0]!.message, /^TEST NOTIFICATION/)
  t.ok(body.link.startsWith('http://maap.test/?query='))
  t.equal(smtp.mails.length, 1)

  const n = testNotification({ ...alert, condition: { type: 'count', below: 1, window_ms: 90_000 } }, 'http://maap.test')
  t.same(n.condition, { type: 'count', below: 1, window: '90s' })
  t.same(testNotification({ ...alert, condition: { type: 'each' } }, 'http://x').condition, { type: 'each' })
  t.same([formatDuration(1500), formatDuration(86_400_000), formatDuration(3_600_000)], ['1500ms', '1d', '1h'])
})
