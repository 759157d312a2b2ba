// What the alert end-to-end tests share: a webhook receiver on loopback (node:http) that keeps every request
// and answers as the test says, the collector's alert API, and the checks every test makes of what arrived.
//
//   test ─► collector (child process) ─► POST /log(s) ─► journal ─► each evaluator ─► outbox ─► webhook ─► Hook
//     └──────── GET /alerts/:id/history, /status, /metrics ◄──────────┘
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { freshRequest, type RunningCollector } from '../support'

export interface Delivered {
  headers: IncomingHttpHeaders
  body: Buffer
  json: WebhookBody
}

export interface WebhookEvent { _id: string, timestamp: string, received_at: string, level: string, app_name: string, message: string }

export interface WebhookBody {
  notification_id: string
  alert: { id: string, name: string }
  state: string
  condition: Record<string, unknown>
  count: number
  events: WebhookEvent[]
  link: string
  range: { from: string, to: string, journal?: { from: JournalPoint, to: JournalPoint } }
  created_at: string
}

export interface JournalPoint { journal: string, segment: string, offset: number }

export type HookAnswer = (got: Delivered, res: ServerResponse) => void

export interface Hook {
  url: string
  port: number
  /** Every request, in the order they arrived (repeats included). */
  received: Delivered[]
  answer: HookAnswer
  /** Stops listening (connections are cut): the next sends are refused. */
  close: () => Promise<void>
  /** Listens again on the same port. */
  open: () => Promise<void>
}

const ok: HookAnswer = (_got, res) => { res.end('ok') }

/** A webhook receiver on 127.0.0.1, closed at the test's end. */
export async function hook (t: { teardown: (fn: () => unknown) => void }, answer: HookAnswer = ok): Promise<Hook> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const got = { headers: req.headers, body, json: JSON.parse(body.toString('utf8')) as WebhookBody }
      h.received.push(got)
      h.answer(got, res)
    })
  })
  const h: Hook = {
    url: '',
    port: 0,
    received: [],
    answer,
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    },
    open: async () => { await new Promise<void>(resolve => server.listen(h.port, '127.0.0.1', resolve)) }
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  h.port = (server.address() as AddressInfo).port
  h.url = `http://127.0.0.1:${h.port}/hook`
  t.teardown(async () => { if (server.listening) await h.close() })
  return h
}

/** The notifications a receiver that dedupes by Idempotency-Key keeps: the first of each id, in arrival order. */
export function deduped (h: Hook): WebhookBody[] {
  const seen = new Set<string>()
  const out: WebhookBody[] = []
  for (const got of h.received) {
    const id = String(got.headers['idempotency-key'])
    if (seen.has(id)) continue
    seen.add(id)
    out.push(got.json)
  }
  return out
}

export function signature (secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export interface Answer { status: number, json: any }

/** One request to the collector on a new connection (with WORKER_COUNT > 1, the next worker in turn). */
export async function api (c: RunningCollector, method: string, path: string, body?: unknown): Promise<Answer> {
  const a = await freshRequest(c, method, path, {
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: a.status, json: a.text === '' ? undefined : a.json() }
}

export interface AlertAnswer { id: string, name: string, state: string, deliveries: { pending: number, failed: number } }

export async function createAlert (c: RunningCollector, body: Record<string, unknown>): Promise<AlertAnswer> {
  const res = await api(c, 'POST', '/alerts', { condition: { type: 'each' }, group_window: '1s', ...body })
  if (res.status !== 201) throw new Error(`POST /alerts answered ${res.status}: ${JSON.stringify(res.json)}`)
  return res.json as AlertAnswer
}

export interface HistoryDelivery { channel: number, type: string, status: string, attempts: number, last_error: string | null, delivered_at: string | null }
export interface HistoryEntry extends Omit<WebhookBody, 'notification_id' | 'alert'> { id: string, alert_id: string, deliveries: HistoryDelivery[] }

export async function history (c: RunningCollector, alertId: string): Promise<HistoryEntry[]> {
  const res = await api(c, 'GET', `/alerts/${alertId}/history`)
  if (res.status !== 200) throw new Error(`history answered ${res.status}: ${JSON.stringify(res.json)}`)
  return (res.json as { notifications: HistoryEntry[] }).notifications
}

/** Posts events as one NDJSON batch; resolves once they are acknowledged (journaled). */
export async function postEvents (c: RunningCollector, events: object[]): Promise<void> {
  const res = await freshRequest(c, 'POST', '/logs', {
    headers: { 'content-type': 'application/x-ndjson' },
    body: events.map(e => JSON.stringify(e)).join('\n')
  })
  if (res.status !== 200 || res.json().accepted !== events.length) throw new Error(`POST /logs answered ${res.status}: ${res.text}`)
}

/** The seq a test put in an event's message (`… #<seq>`). */
export function seqOf (message: string): number {
  return Number(message.slice(message.lastIndexOf('#') + 1))
}

/**
 * Every notification carries all of its events (count = events, sample not exceeded) and no event is in two
 * notifications; answers each seq's notification id.
 */
export function notifiedSeqs (t: { fail: (message: string) => void }, notifications: WebhookBody[]): Map<number, string> {
  const where = new Map<number, string>()
  for (const n of notifications) {
    if (n.events.length !== n.count) t.fail(`notification ${n.notification_id} carries ${n.events.length} of its ${n.count} events`)
    for (const e of n.events) {
      const seq = seqOf(e.message)
      const before = where.get(seq)
      if (before !== undefined) t.fail(`event #${seq} is in notifications ${before} and ${n.notification_id}`)
      where.set(seq, n.notification_id)
    }
  }
  return where
}
