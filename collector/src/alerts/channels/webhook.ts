// A notification as a signed JSON POST (issue #21, "webhook"):
//
//   Notification ─► webhookBody ─► JSON bytes ─► HMAC-SHA256(secret, bytes) ─► postJson
//
// The signature is over the exact bytes sent, so a receiver verifies before parsing; Idempotency-Key is the
// notification id, so a receiver that dedupes by it sees each notification once even when a lost answer
// makes the collector send it again.
import { createHmac } from 'node:crypto'
import type { ChannelContext, Notification, SendResult } from '../model'
import { postJson } from './http'

/** What a webhook receives. */
export function webhookBody (n: Notification): Record<string, unknown> {
  return {
    notification_id: n.id,
    alert: { id: n.alert_id, name: n.alert_name },
    state: n.state,
    condition: n.condition,
    count: n.count,
    events: n.events,
    link: n.link,
    range: n.range,
    created_at: n.created_at
  }
}

/** `sha256=<hex>`: the value of X-Maap-Signature for `body` signed with `secret`. */
export function webhookSignature (secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export async function sendWebhook (channel: { url: string, secret?: string }, n: Notification, ctx: ChannelContext): Promise<SendResult> {
  const body = Buffer.from(JSON.stringify(webhookBody(n)))
  const headers: Record<string, string> = { 'idempotency-key': n.id }
  if (channel.secret !== undefined && channel.secret !== '') headers['x-maap-signature'] = webhookSignature(channel.secret, body)
  return await postJson(channel.url, body, headers, ctx.timeoutMs)
}
