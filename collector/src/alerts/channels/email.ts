// A notification as an e-mail over SMTP (issue #21, "email"):
//
//   Notification ─► emailMessage ─► { subject, text, html } ─► nodemailer transport (one per SMTP_URL) ─► SMTP
//
// SMTP_URL carries the credentials: it is a key of the transport cache only, never in a result or a log
// line (an error that quotes it is scrubbed). Every value in the HTML part is escaped: an event's message
// is whatever an application logged.
import { createTransport } from 'nodemailer'
import type { ChannelContext, Notification, SendResult } from '../model'
import { clipBytes, countLine, eventFields, eventLine, oneLine, subject } from './render'

type Transport = ReturnType<typeof createTransport>

/** One transport per SMTP_URL and timeout: nodemailer's connection settings are parsed once. */
const transports = new Map<string, Transport>()

function transportFor (url: string, timeoutMs: number): Transport {
  const key = `${timeoutMs}\n${url}`
  let t = transports.get(key)
  if (t === undefined) {
    t = createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs })
    transports.set(key, t)
  }
  return t
}

/** Closes the cached transports (a collector that stops; tests). */
export function closeEmailTransports (): void {
  for (const t of transports.values()) t.close()
  transports.clear()
}

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;')
}

/** The subject and both parts of a notification's e-mail. */
export function emailMessage (n: Notification): { subject: string, text: string, html: string } {
  const name = oneLine(n.alert_name)
  const shown = n.events.length < n.count ? ` (${n.events.length} of ${n.count} shown)` : ''
  const text = [
    `${n.state === 'firing' ? 'Firing' : 'Resolved'}: ${name}`,
    `${countLine(n)}, ${n.range.from} → ${n.range.to}`,
    '',
    ...(n.events.length > 0 ? [`Events${shown}:`, ...n.events.map(e => `  ${eventLine(e, 500)}`), ''] : []),
    `View in MAAP: ${n.link}`,
    '',
    `Notification ${n.id}`
  ].join('\n')
  const rows = n.events.map(e => {
    const f = eventFields(e, 500)
    return `<tr><td style="white-space:nowrap">${escapeHtml(f.time)}</td><td>${escapeHtml(f.level)}</td><td>${escapeHtml(f.app)}</td><td style="font-family:monospace">${escapeHtml(f.message)}</td></tr>`
  })
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${n.state === 'firing' ? 'Firing' : 'Resolved'}: ${escapeHtml(name)}</h2>`,
    `<p><strong>${escapeHtml(countLine(n))}</strong>, ${escapeHtml(n.range.from)} → ${escapeHtml(n.range.to)}</p>`,
    ...(rows.length > 0
      ? [`<p>Events${escapeHtml(shown)}:</p>`, '<table cellpadding="4" style="border-collapse:collapse">',
          '<tr><th align="left">time</th><th align="left">level</th><th align="left">app</th><th align="left">message</th></tr>',
          ...rows, '</table>']
      : []),
    `<p><a href="${escapeHtml(n.link)}">View in MAAP</a></p>`,
    `<p style="color:#888">Notification ${escapeHtml(n.id)}</p>`,
    '</body></html>'
  ].join('\n')
  return { subject: subject(n), text, html }
}

interface SmtpError { responseCode?: number, message?: string, code?: string }

export async function sendEmail (channel: { to: string[] }, n: Notification, ctx: ChannelContext): Promise<SendResult> {
  if (ctx.smtpUrl === undefined) return { ok: false, permanent: true, error: 'SMTP_URL is not set: e-mail cannot be sent' }
  const url = ctx.smtpUrl
  const message = emailMessage(n)
  try {
    const info = await transportFor(url, ctx.timeoutMs).sendMail({
      from: ctx.emailFrom,
      to: channel.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      headers: { 'X-Maap-Notification-Id': n.id }
    })
    const status = Number.parseInt(String(info.response ?? '').slice(0, 3), 10)
    return Number.isNaN(status) ? { ok: true } : { ok: true, status }
  } catch (err) {
    const e = (err ?? {}) as SmtpError
    const error = clipBytes(String(e.message ?? err).split(url).join('SMTP_URL'))
    const result: SendResult = { ok: false, error }
    if (typeof e.responseCode === 'number') {
      result.status = e.responseCode
      // 5xx is the server's final no (unknown mailbox, refused sender, failed login); 4xx asks to try later.
      if (e.responseCode >= 500) result.permanent = true
    }
    return result
  }
}
