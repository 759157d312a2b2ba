// The channels a notification goes to, behind one SendToChannel, and the test send of POST /alerts/:id/test:
//
//   Deliverer (outbox) ─┐
//                       ├─► sendToChannel ─► webhook.ts | slack.ts | email.ts ─► SendResult (never throws)
//   testChannels ───────┘        (no outbox, no history: the answer is what each channel returned)
import { randomUUID } from 'node:crypto'
import { alertLink, type AlertDefinition, type Channel, type ChannelContext, type Condition, type Notification, type SendResult, type SendToChannel } from '../model'
import { sendEmail } from './email'
import { formatDuration } from './render'
import { sendSlack } from './slack'
import { sendWebhook } from './webhook'

export { webhookBody, webhookSignature } from './webhook'
export { slackBody, escapeMrkdwn, SLACK_LIMITS } from './slack'
export { emailMessage, escapeHtml, closeEmailTransports } from './email'
export { parseRetryAfter, USER_AGENT } from './http'
export { formatDuration } from './render'

export const sendToChannel: SendToChannel = async (channel, notification, ctx) => {
  try {
    switch (channel.type) {
      case 'webhook': return await sendWebhook(channel, notification, ctx)
      case 'slack': return await sendSlack(channel, notification, ctx)
      case 'email': return await sendEmail(channel, notification, ctx)
      default: return { ok: false, permanent: true, error: `unknown channel type ${String((channel as { type: unknown }).type)}` }
    }
  } catch (err) {
    // The channels catch their own errors; this is the promise of SendToChannel kept for anything unforeseen.
    return { ok: false, error: err instanceof Error ? err.message : String(err) }
  }
}

/** A condition as the API shows it: windows as duration strings. */
export function conditionForApi (c: Condition): Record<string, unknown> {
  if (c.type === 'each') return { type: 'each' }
  return 'above' in c
    ? { type: 'count', above: c.above, window: formatDuration(c.window_ms) }
    : { type: 'count', below: c.below, window: formatDuration(c.window_ms) }
}

/** The notification POST /alerts/:id/test sends: firing, id `test-…`, one sample event that says it is a test. */
export function testNotification (alert: AlertDefinition, publicUrl: string, now: Date = new Date()): Notification {
  const at = now.toISOString()
  return {
    id: `test-${randomUUID()}`,
    alert_id: alert.id,
    alert_name: alert.name,
    revision: alert.revision,
    state: 'firing',
    condition: conditionForApi(alert.condition),
    count: 1,
    events: [{
      _id: '000000000000000000000000',
      timestamp: at,
      received_at: at,
      level: 'INFO',
      app_name: 'maap-collector',
      message: `TEST NOTIFICATION for alert "${alert.name}": a sample event, not a match. When the alert fires, its matching events are listed here.`
    }],
    link: alertLink(publicUrl, alert.query, { from: at, to: at }, { from: at, to: at }),
    range: { from: at, to: at },
    created_at: at,
    channels: alert.channels,
    deliveries: []
  }
}

export interface ChannelTestResult {
  /** Index into the alert's channels. */
  channel: number
  type: Channel['type']
  ok: boolean
  status: number | null
  error: string | null
}

/** Sends a test notification to every channel of `alert` at once and answers what each returned. */
export async function testChannels (alert: AlertDefinition, ctx: ChannelContext, publicUrl: string, send: SendToChannel = sendToChannel): Promise<ChannelTestResult[]> {
  const n = testNotification(alert, publicUrl)
  return await Promise.all(alert.channels.map(async (channel, i): Promise<ChannelTestResult> => {
    const r: SendResult = await send(channel, n, ctx)
    return { channel: i, type: channel.type, ok: r.ok, status: r.status ?? null, error: r.error ?? null }
  }))
}
