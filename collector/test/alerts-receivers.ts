// Real receivers on loopback for the alert delivery tests: an HTTP server that keeps every request (headers
// and the exact body bytes) and answers as the test says, and an SMTP server (the smtp-server package) that
// keeps every message, with a small MIME reader for what nodemailer sends.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import type { Notification } from '../src/alerts/model'

export interface Received { path: string, headers: IncomingHttpHeaders, body: Buffer }

export type Answer = (req: Received, res: ServerResponse) => void

export interface Receiver {
  url: string
  received: Received[]
  /** How many requests were open at once, at most. */
  maxOpen: number
  answer: Answer
}

const ok: Answer = (_req, res) => { res.end('ok') }

/** An HTTP receiver on 127.0.0.1, closed at the test's end (open requests are cut). */
export async function receiver (t: { teardown: (fn: () => unknown) => void }, answer: Answer = ok): Promise<Receiver> {
  let open = 0
  const r: Receiver = { url: '', received: [], maxOpen: 0, answer }
  const server = createServer((req: IncomingMessage, res) => {
    open++
    r.maxOpen = Math.max(r.maxOpen, open)
    res.on('close', () => { open-- })
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const got = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      r.received.push(got)
      r.answer(got, res)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return r
}

export interface Mail { from: string, to: string[], raw: string }

/** An SMTP server on 127.0.0.1 without TLS; `options` add checks (onAuth, onRcptTo). */
export async function smtpReceiver (t: { teardown: (fn: () => unknown) => void }, options: Partial<SMTPServerOptions> = {}): Promise<{ port: number, mails: Mail[] }> {
  const mails: Mail[] = []
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onData (stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address
        mails.push({ from, to: session.envelope.rcptTo.map(a => a.address), raw: Buffer.concat(chunks).toString('utf8') })
        callback()
      })
    },
    ...options
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>(resolve => server.close(() => resolve())) })
  return { port: (server.server.address() as AddressInfo).port, mails }
}

function decode (body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (encoding === 'quoted-printable') {
    const bytes = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1')
    return bytes.toString('utf8')
  }
  return body
}

function headersOf (block: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return out
}

/** A message's headers and its parts by content type (decoded), for a multipart/alternative message. */
export function readMail (raw: string): { headers: Record<string, string>, parts: Record<string, string> } {
  const split = raw.indexOf('\r\n\r\n')
  const headers = headersOf(raw.slice(0, split))
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1]
  const parts: Record<string, string> = {}
  if (boundary === undefined) return { headers, parts }
  for (const chunk of raw.slice(split + 4).split(`--${boundary}`)) {
    const at = chunk.indexOf('\r\n\r\n')
    if (at < 0) continue
    const h = headersOf(chunk.slice(0, at))
    const type = (h['content-type'] ?? '').split(';')[0]!.trim()
    if (type !== '') parts[type] = decode(chunk.slice(at + 4), (h['content-transfer-encoding'] ?? '').toLowerCase())
  }
  return { headers, parts }
}

/** A notification as the evaluator makes them, for tests: `i` makes the id and the time distinct. */
export function notification (alertId: string, i: number, channels: Notification['channels'], createdAt = new Date()): Notification {
  const at = createdAt.toISOString()
  return {
    id: `${alertId}-n${i}`,
    alert_id: alertId,
    alert_name: `alert ${alertId}`,
    revision: 1,
    state: 'firing',
    condition: { type: 'each' },
    count: 1,
    events: [{ _id: `e${i}`, timestamp: at, received_at: at, level: 'ERROR', app_name: 'payments', message: `failure ${i}` }],
    link: `http://maap.test/?query=x${i}`,
    range: { from: at, to: at },
    created_at: at,
    channels,
    deliveries: channels.map((c, channel) => ({ channel, type: c.type, status: 'pending', attempts: 0, last_error: null, delivered_at: null }))
  }
}
