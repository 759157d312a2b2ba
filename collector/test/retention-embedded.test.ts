// RETENTION_RULES in the embedded store (no MongoDB): no read answers an expired event — search, export,
// histogram, values, fields, a live tail — and a whole segment goes once every event in it has expired,
// while a segment that mixes kept and expired events stays with its expired ones filtered out.
import t from 'tap'
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, loadConfig } from '@maap-event-logger/collector'
import { poll } from '../../test/support'
import { listen } from './helpers'
import { postEvents } from './read-helpers'

const DAY = 86_400_000
const RULES = 'level=DEBUG|TRACE:3d, app=audit:400d, app=payments level=ERROR|CRITICAL:90d'
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString()

/** name → [level, app, age in days, kept?, extra fields] */
const CASES: Array<[string, string, string, number, boolean, Record<string, unknown>?]> = [
  ['debug-old', 'DEBUG', 'web', 5, false],
  ['debug-new', 'DEBUG', 'web', 1, true],
  ['debug-audit', 'DEBUG', 'audit', 5, false], // first match wins: the DEBUG rule, not audit's
  ['audit-old', 'INFO', 'audit', 100, true],
  ['audit-nested', 'INFO', 'audit', 100, true, { ctx: { app_name: 'web' } }],
  ['payments-kept', 'ERROR', 'payments', 60, true],
  ['payments-gone', 'ERROR', 'payments', 100, false],
  ['payments-info', 'INFO', 'payments', 40, false], // payments' rule is for ERROR|CRITICAL: the default
  ['web-old', 'INFO', 'web', 40, false, { only_expired: true }],
  ['web-nested', 'ERROR', 'web', 40, false, { ctx: { app_name: 'audit' } }],
  ['web-new', 'INFO', 'web', 10, true]
]
const KEPT = CASES.filter(c => c[4]).map(c => c[0]).sort()

function sseCollect (url: string, until: (events: Array<Record<string, unknown>>) => boolean): { done: Promise<Array<Record<string, unknown>>>, opened: Promise<void> } {
  const events: Array<Record<string, unknown>> = []
  let opened!: () => void
  const openedP = new Promise<void>(resolve => { opened = resolve })
  const done = new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' } }, res => {
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (block.includes('event: ready')) opened()
          const data = block.split('\n').find(l => l.startsWith('data: '))
          if (data !== undefined && !block.includes('event: ready')) events.push(JSON.parse(data.slice(6)))
        }
        if (until(events)) {
          req.destroy()
          resolve(events)
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
  return { done, opened: openedP }
}

t.test('no read answers an expired event; a segment goes once all of it expired', async t => {
  const logDir = mkdtempSync(join(tmpdir(), 'maap-rules-'))
  // Two segments an earlier run left: one where everything has expired, one that mixes.
  const line = (message: string, level: string, app: string, days: number): string =>
    JSON.stringify({ timestamp: ago(days), level, message, app_name: app, _id: (message.length.toString(16) + days.toString(16)).padStart(24, '0'), received_at: ago(days) })
  const allExpired = 'maap-20200101T000000Z-000001.ndjson'
  const mixed = 'maap-20200102T000000Z-000001.ndjson'
  writeFileSync(join(logDir, allExpired), [line('old debug', 'DEBUG', 'web', 10), line('old info', 'INFO', 'web', 50)].join('\n') + '\n')
  writeFileSync(join(logDir, mixed), [line('mixed gone', 'INFO', 'web', 45), line('mixed kept', 'INFO', 'audit', 120)].join('\n') + '\n')
  const monthAgo = new Date(Date.now() - 31 * DAY)
  for (const f of [allExpired, mixed]) utimesSync(join(logDir, f), monthAgo, monthAgo)

  const app = await build(loadConfig({
    LOG_DIR: logDir, RETENTION_RULES: RULES, LOG_RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL: '0.05',
    // The rules, not DELETE_LOGS_OLDER_THAN, decide in the embedded store: a day would delete the mixed one.
    DELETE_LOGS_OLDER_THAN: '1'
  }))
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })
  const url = await listen(app)

  const removedAll = async (): Promise<Record<string, any> | false> => {
    const s = (await app.inject({ method: 'GET', url: '/status' })).json()
    return s.retention?.rules?.reduce((n: number, r: { removed: number }) => n + r.removed, 0) === 2 && s
  }
  const status = await poll(removedAll)
  t.notOk(existsSync(join(logDir, allExpired)), 'the segment where everything expired is deleted')
  t.ok(existsSync(join(logDir, mixed)), 'a segment with one kept event stays')
  t.same(status.retention.rules, [
    { rule: 'level=DEBUG|TRACE:3d', apps: null, levels: ['DEBUG', 'TRACE'], days: 3, removed: 1 },
    { rule: 'app=audit:400d', apps: ['audit'], levels: null, days: 400, removed: 0 },
    { rule: 'app=payments level=ERROR|CRITICAL:90d', apps: ['payments'], levels: ['ERROR', 'CRITICAL'], days: 90, removed: 0 },
    { rule: 'default', apps: null, levels: null, days: 30, removed: 1 }
  ], 'what each rule removed: the deleted segment\'s events')
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, 'maap_retention_removed_total{rule="level=DEBUG|TRACE:3d"} 1')
  t.match(metrics, 'maap_retention_removed_total{rule="default"} 1')

  // A tail open before the events come: it must pass over the expired ones.
  const tail = sseCollect(`${url}/logs/tail`, events => events.some(e => e.message === 'web-new'))
  await tail.opened
  await postEvents(app, CASES.map(([message, level, app, days, , extra]) => ({ message, level, app_name: app, timestamp: ago(days), ...extra })))

  const kept = [...KEPT, 'mixed kept'].sort()
  const page = (await app.inject({ method: 'GET', url: '/logs?limit=1000' })).json()
  t.same(page.events.map((e: { message: string }) => e.message).sort(), kept, 'search')
  const exported = await app.inject({ method: 'GET', url: '/logs', headers: { accept: 'application/x-ndjson' } })
  t.same(exported.body.trim().split('\n').map(l => JSON.parse(l).message).sort(), kept, 'export (NDJSON)')
  const filtered = (await app.inject({ method: 'GET', url: '/logs?level=error&limit=1000' })).json()
  t.same(filtered.events.map((e: { message: string }) => e.message).sort(), ['payments-kept'], 'with a level filter')
  const histogram = (await app.inject({ method: 'GET', url: `/logs/histogram?from=${encodeURIComponent(ago(200))}&to=${encodeURIComponent(ago(-1))}` })).json()
  t.equal(histogram.total, kept.length, 'histogram')
  t.equal(histogram.levels.DEBUG.reduce((a: number, b: number) => a + b, 0), 1, 'one DEBUG event kept')
  const values = (await app.inject({ method: 'GET', url: '/logs/values?field=app_name' })).json()
  t.same(values.values, [{ value: 'audit', count: 3 }, { value: 'web', count: 2 }, { value: 'payments', count: 1 }], 'values')
  const fields = (await app.inject({ method: 'GET', url: '/logs/fields' })).json()
  t.notOk(fields.fields.some((f: { name: string }) => f.name === 'only_expired'), 'fields: a name only expired events carry is not offered')
  t.ok(fields.fields.some((f: { name: string }) => f.name === 'ctx.app_name'))

  const tailed = await tail.done
  t.same(tailed.map(e => e.message).sort(), [...KEPT].sort(), 'the tail passed over every expired event')

  // The rules change: what the journal holds already follows the new ones, in reads and on disk.
  await app.close()
  closed = true
  const again = await build(loadConfig({ LOG_DIR: logDir, RETENTION_RULES: 'app=audit:90d', LOG_RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL: '0.05' }))
  t.teardown(() => again.close())
  const now = (await again.inject({ method: 'GET', url: '/logs?limit=1000' })).json()
  t.same(now.events.map((e: { message: string }) => e.message).sort(), ['debug-audit', 'debug-new', 'debug-old', 'web-new'],
    'audit events of 100 and 120 days are past the new 90 days, payments\' ERROR of 60 past the default 30; ' +
    'DEBUG events of 5 days, still on disk, are within the default 30 again')
  await poll(() => !existsSync(join(logDir, mixed)))
  t.pass('the mixed segment goes once its last event is past the new rule')
})
