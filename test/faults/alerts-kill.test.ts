// "Each matching event in exactly one notification per alert", against the faults that could break it: a
// SIGKILL in the middle of a burst (events being ingested, groups open, notifications being sent) followed by
// a restart on the same LOG_DIR, and WORKER_COUNT=2 (two journals, two evaluators, one definition store).
// The receiver dedupes by Idempotency-Key, as the README asks of webhooks. Issue #21, section 3.
//
//   burst (seq in each message) ─► collector ──SIGKILL──► collector again (same LOG_DIR, same port) ─► hook
//   check: per alert, every acknowledged matching seq in exactly one notification id; ranges do not overlap
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshRequest, poll, startCollector, type RunningCollector } from '../support'
import { api, createAlert, deduped, hook, notifiedSeqs, seqOf, type Hook, type JournalPoint, type WebhookBody } from './alerts-support'

/** seq % 10: 0 is an ERROR (both alerts), 1 a WARN (the second only), the rest INFO (neither). */
const levelOf = (seq: number): string => seq % 10 === 0 ? 'error' : seq % 10 === 1 ? 'warn' : 'info'
const QUERIES = { errors: 'app_name = burst and level >= ERROR', warnings: 'app_name = burst and level >= WARN' }
const matches = { errors: (seq: number) => seq % 10 === 0, warnings: (seq: number) => seq % 10 <= 1 }

interface Load { acked: Set<number>, next: number, stopped: boolean, url: () => RunningCollector }

/**
 * Batches of 5 on new connections, 50 ms apart (two clients: at most 200 events/s, so at most 40 matches of
 * the wider alert in a 1 s group: under the sample of 100, every event is carried and can be checked). A batch is acknowledged whole or not at all.
 */
async function burst (load: Load): Promise<void> {
  while (!load.stopped) {
    const seqs = Array.from({ length: 5 }, () => load.next++)
    const body = seqs.map(seq => JSON.stringify({ app_name: 'burst', level: levelOf(seq), message: `burst #${seq}`, seq })).join('\n')
    try {
      const res = await freshRequest(load.url(), 'POST', '/logs', { headers: { 'content-type': 'application/x-ndjson' }, body, timeoutMs: 5000 })
      if (res.status === 200 && res.json().accepted === seqs.length) for (const s of seqs) load.acked.add(s)
    } catch {} // the collector is down: these are not acknowledged, so nothing is owed for them
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const cmp = (a: JournalPoint, b: JournalPoint): number =>
  a.journal !== b.journal ? (a.journal < b.journal ? -1 : 1) : a.segment !== b.segment ? (a.segment < b.segment ? -1 : 1) : a.offset - b.offset

/** Per alert: all carried, none twice, every acknowledged match notified, nothing that does not match, ranges apart. */
function checkOnce (t: Tap.Test, h: Hook, alertIds: Record<keyof typeof QUERIES, string>, acked: Set<number>): void {
  // A notification sent again (after the kill) is the same notification, byte for byte.
  const bodies = new Map<string, string>()
  for (const r of h.received) {
    const id = String(r.headers['idempotency-key'])
    const before = bodies.get(id)
    if (before !== undefined && before !== r.body.toString('utf8')) t.fail(`notification ${id} was sent twice with different bodies`)
    bodies.set(id, r.body.toString('utf8'))
  }
  const all = deduped(h)
  for (const [name, id] of Object.entries(alertIds) as Array<[keyof typeof QUERIES, string]>) {
    const mine = all.filter(n => n.alert.id === id)
    const where = notifiedSeqs(t, mine)
    const missing = [...acked].filter(s => matches[name](s) && !where.has(s))
    t.same(missing, [], `${name}: every acknowledged match is in a notification`)
    const strays = [...where.keys()].filter(s => !matches[name](s))
    t.same(strays, [], `${name}: nothing that does not match`)
    const ranges = mine.map(n => n.range.journal!).sort((a, b) => cmp(a.from, b.from))
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]!.from.journal === ranges[i - 1]!.from.journal && cmp(ranges[i]!.from, ranges[i - 1]!.to) < 0) t.fail(`${name}: two notifications' journal ranges overlap`)
    }
    t.ok(mine.length >= 2, `${name}: ${mine.length} notifications, ${where.size} events`)
  }
}

async function untilNotified (h: Hook, ids: Record<keyof typeof QUERIES, string>, acked: Set<number>): Promise<WebhookBody[]> {
  return await poll(() => {
    const all = deduped(h)
    for (const [name, id] of Object.entries(ids) as Array<[keyof typeof QUERIES, string]>) {
      const seen = new Set(all.filter(n => n.alert.id === id).flatMap(n => n.events.map(e => seqOf(e.message))))
      for (const s of acked) if (matches[name](s) && !seen.has(s)) return undefined
    }
    return all
  }, 50)
}

t.test('SIGKILL in the middle of a burst, restarted on the same LOG_DIR: every match in exactly one notification per alert', async t => {
  // Answers a little late, so that sends are in flight when the collector is killed.
  const h = await hook(t, (_got, res) => { setTimeout(() => res.end('ok'), 50) })
  const logDir = mkdtempSync(join(tmpdir(), 'maap-alerts-kill-'))
  let c = await startCollector(t, { logDir })
  const errors = await createAlert(c, { name: 'errors', query: QUERIES.errors, sample: 100, channels: [{ type: 'webhook', url: h.url }] })
  const warnings = await createAlert(c, { name: 'warnings', query: QUERIES.warnings, sample: 100, channels: [{ type: 'webhook', url: h.url }] })
  const load: Load = { acked: new Set(), next: 0, stopped: false, url: () => c }
  const clients = [burst(load), burst(load)]
  // Killed once notifications went out and more are on their way (groups open, sends in flight).
  await poll(() => h.received.length >= 4 && load.acked.size >= 600)
  t.equal(await c.stop('SIGKILL'), 'SIGKILL')
  const killedAt = load.acked.size
  c = await startCollector(t, { logDir, port: c.port })
  await poll(() => load.acked.size >= killedAt + 400)
  load.stopped = true
  await Promise.all(clients)

  const ids = { errors: errors.id, warnings: warnings.id }
  await untilNotified(h, ids, load.acked)
  // Every notification made is delivered: the outbox is empty of pending ones, so nothing more is coming.
  await poll(async () => (await api(c, 'GET', '/status')).json.alerts.outbox.pending === 0)
  checkOnce(t, h, ids, load.acked)
})

t.test('WORKER_COUNT=2: an alert created through one worker is evaluated by both, every match in exactly one notification', async t => {
  const h = await hook(t)
  const c = await startCollector(t, { env: { WORKER_COUNT: '2' } })
  await c.waitForLog({ msg: /^all workers listening at / })
  const errors = await createAlert(c, { name: 'errors', query: QUERIES.errors, sample: 100, channels: [{ type: 'webhook', url: h.url }] })
  const warnings = await createAlert(c, { name: 'warnings', query: QUERIES.warnings, sample: 100, channels: [{ type: 'webhook', url: h.url }] })
  // Right away: the other worker learns of the alerts by its poll, and still starts at their creation.
  const load: Load = { acked: new Set(), next: 0, stopped: false, url: () => c }
  const clients = [burst(load), burst(load)]
  await poll(() => load.acked.size >= 600)
  load.stopped = true
  await Promise.all(clients)

  const ids = { errors: errors.id, warnings: warnings.id }
  const all = await untilNotified(h, ids, load.acked)
  t.same([...new Set(all.map(n => n.range.journal!.from.journal))].sort(), ['1', '2'], "both workers' journals are evaluated")
  checkOnce(t, h, ids, load.acked)
  const status = (await api(c, 'GET', '/status')).json
  t.equal(status.alerts.alerts, 2, '/status: the definitions, shared by the workers')
  t.equal(status.alerts.notifications, all.length, '/status sums the notifications the workers made')
})
