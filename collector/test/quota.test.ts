// Quotas per app (APP_QUOTAS): the rules' syntax, the buckets, the tally of apps in a request, and the
// ingest routes refusing a request whole with 429 — time moved by hand, never waited for.
import t from 'tap'
import { build, ConfigError, loadConfig } from '@maap-event-logger/collector'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serviceStatus } from '../src/cluster/status'
import { AppTally } from '../src/quota/app-tally'
import { QuotaBuckets } from '../src/quota/buckets'
import { AppQuota } from '../src/quota/quota'
import { parseAppQuotas } from '../src/quota/rules'

const MINUTE = 60_000

async function quotaApp (t: Tap.Test, env: Record<string, string>) {
  const clock = { ms: 1_700_000_000_000 }
  const app = await build(loadConfig({ LOG_DIR: mkdtempSync(join(tmpdir(), 'maap-quota-')), ...env }), false, { now: () => clock.ms })
  t.teardown(() => app.close())
  return { app, clock }
}

const events = (app: string, n: number, from = 0): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ message: `m${from + i}`, app_name: app })).join('\n') + '\n'

function postLogs (app: Awaited<ReturnType<typeof quotaApp>>['app'], payload: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson', ...headers }, payload })
}

async function status (app: Awaited<ReturnType<typeof quotaApp>>['app']) {
  return (await app.inject({ method: 'GET', url: '/status' })).json()
}

t.test('APP_QUOTAS: the default, named apps, 0 for none; a bad entry stops start-up naming it', async t => {
  const rules = parseAppQuotas(' *=10000, payments=50000 ,debug-bot=100,a=b=7,audit=0', 'APP_QUOTAS')!
  t.equal(rules.perMinute, 10000)
  t.same([...rules.apps], [['payments', 50000], ['debug-bot', 100], ['a=b', 7], ['audit', 0]], 'split at the last =')
  t.equal(parseAppQuotas(undefined, 'APP_QUOTAS'), undefined)
  t.equal(parseAppQuotas('x=5', 'APP_QUOTAS')!.perMinute, 0, 'without * the apps not named have no quota')
  t.equal(loadConfig({ LOG_DIR: tmpdir() }).appQuotas, undefined, 'unset: no quotas')
  const cases: Array<[string, RegExp]> = [
    ['payments', /entry "payments" is not app_name=events_per_minute/],
    ['*=10,payments=lots', /entry "payments=lots" needs a whole number.*got "lots"/],
    ['x=-1', /entry "x=-1" needs a whole number/],
    ['x=1.5', /entry "x=1.5" needs a whole number/],
    ['x=', /entry "x=" needs a whole number/],
    ['x=1,,y=2', /an empty entry/],
    ['x=1,', /an empty entry/],
    ['=5', /entry "=5" has no app_name/],
    ['x=1,x=2', /entry "x=2" sets "x" a second time/],
    ['*=1,*=2', /entry "\*=2" sets \* a second time/],
    [`${'a'.repeat(257)}=1`, /longer than 256 characters/]
  ]
  for (const [value, message] of cases) {
    t.throws(() => loadConfig({ LOG_DIR: tmpdir(), APP_QUOTAS: value }), message, value)
    t.throws(() => loadConfig({ LOG_DIR: tmpdir(), APP_QUOTAS: value }), ConfigError)
    t.throws(() => loadConfig({ LOG_DIR: tmpdir(), APP_QUOTAS: value }), /^Invalid APP_QUOTAS: /)
  }
})

t.test('buckets: all or nothing, the wait for the slowest app, a batch larger than the quota, refunds', async t => {
  let now = 0
  const buckets = new QuotaBuckets(() => now, 100)
  const a = (events: number) => ({ app: 'a', events, quota: 60 })
  const b = (events: number) => ({ app: 'b', events, quota: 600 })
  t.equal(buckets.admit([a(50), b(100)]), undefined, 'a new app has its whole quota')
  t.same(buckets.admit([a(20), b(10)]), { waitMs: 10_000, over: [a(20)] }, '10 left, 20 asked: 10 s at 1 a second')
  t.equal(buckets.admit([b(490)]), undefined, 'b still has 500: the refusal took nothing')
  now += 10_000
  t.equal(buckets.admit([a(20)]), undefined, 'after the wait it fits')
  t.same(buckets.admit([a(1)])?.waitMs, 1000)
  buckets.refund([a(20)])
  t.equal(buckets.admit([a(20)]), undefined, 'what was given back can be taken again')
  // A batch larger than the whole quota fits only a full bucket, and leaves it in debt.
  now += MINUTE
  t.same(buckets.admit([a(61)]), undefined, 'full bucket: the oversized batch is let through')
  t.same(buckets.admit([a(1)])?.waitMs, 2000, '1 in debt: 2 s until one event fits')
  now += 30_000
  t.same(buckets.admit([a(100)])?.waitMs, 31_000, 'an oversized batch waits for a full bucket')
})

t.test('buckets: quiet apps are forgotten, and at most maxApps are tracked', async t => {
  let now = 0
  const buckets = new QuotaBuckets(() => now, 3)
  for (const app of ['a', 'b', 'c', 'd']) buckets.admit([{ app, events: 10, quota: 60 }])
  t.equal(buckets.size, 3, 'past the cap the least recent app is forgotten')
  t.equal(buckets.admit([{ app: 'a', events: 60, quota: 60 }]), undefined, 'a forgotten app starts afresh')
  now += MINUTE
  buckets.admit([{ app: 'e', events: 1, quota: 60 }])
  t.equal(buckets.size, 1, 'c forgotten past the cap; d and a, quiet for a minute (full again), by the admission')
  buckets.admit([{ app: 'f', events: 1, quota: 60 }])
  t.equal(buckets.size, 2, 'e is not full yet: kept')
})

t.test('tally: runs of one app, several apps, and app names read from journal lines', async t => {
  const tally = new AppTally()
  for (const app of ['a', 'a', 'b', 'a', 'c', 'b']) tally.add(app)
  tally.add('c', 5)
  t.same(new Map(tally.entries()), new Map([['a', 3], ['b', 2], ['c', 6]]))
  const lines = new AppTally()
  const line = (app: string, extra = ''): string => `{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":${JSON.stringify(app)},"message":"x"${extra},"nested":{"app_name":"not this"}}\n`
  lines.addLines(Buffer.from(line('svc') + line('svc') + line('q"uo\\te') + line('svc') + line('ü')))
  t.same(new Map(lines.entries()), new Map([['svc', 3], ['q"uo\\te', 1], ['ü', 1]]))
  t.same(new AppTally().entries(), [])
  const odd = new AppTally()
  odd.addLines(Buffer.from('{"message":"no app"}\n{"app_name":"cut off'))
  t.same(odd.entries(), [['cut off', 1]], 'a line without an app counts nothing; a string cut off ends with the lines')
})

t.test('status of a quota: the rules, apps tracked, refusals under the apps named and other', async t => {
  const quota = new AppQuota(parseAppQuotas('*=1,named=1,free=0', 'APP_QUOTAS')!, () => 0)
  const tally = (...apps: string[]): AppTally => { const x = new AppTally(); for (const a of apps) x.add(a); return x }
  t.ok('taken' in quota.admit(tally('named', 'x', 'free', 'free')))
  t.same((quota.admit(tally('named', 'x', 'y', 'free')) as { refused: unknown }).refused, { app: 'named', quota: 1, others: 1, retryAfterSeconds: 60 })
  t.same(quota.status(), {
    per_minute: { '*': 1, named: 1, free: 0 },
    apps_tracked: 2,
    refused_requests: { named: 1, other: 1 },
    refused_events: { named: 4 }
  })
  t.same([...quota.refusals], [['named', 1], ['other', 1]])
})

t.test('POST /logs: under and over quota, Retry-After, nothing of a refused request stored or taken', async t => {
  const { app, clock } = await quotaApp(t, { APP_QUOTAS: '*=60,big=600,free=0' })
  t.equal((await postLogs(app, events('small', 50))).statusCode, 200)
  const over = await postLogs(app, events('small', 20, 50))
  t.equal(over.statusCode, 429)
  t.equal(over.headers['retry-after'], '10', '10 events short at 1 a second')
  t.match(over.json(), { code: 'MAAP_QUOTA_EXCEEDED', error: 'Too Many Requests', message: 'app_name "small" is past its quota of 60 events a minute (APP_QUOTAS); nothing of the request was stored: retry in 10 s' })
  t.equal((await postLogs(app, events('small', 10, 50))).statusCode, 200, 'the refusal took nothing: 10 still fit')
  t.equal((await postLogs(app, events('big', 600))).statusCode, 200, 'a named app has its own quota')
  t.equal((await postLogs(app, events('free', 5000))).statusCode, 200, '0: no quota')
  t.equal((await postLogs(app, events('other-app', 60))).statusCode, 200, 'each app not named has the default quota of its own')
  const atRetryAfter = await postLogs(app, events('small', 1, 60))
  t.equal(atRetryAfter.statusCode, 429)
  t.equal(atRetryAfter.headers['retry-after'], '1')
  clock.ms += 1000
  t.equal((await postLogs(app, events('small', 1, 60))).statusCode, 200, 'a second later one more fits')

  const s = await status(app)
  t.equal(s.accepted_total, 50 + 10 + 600 + 5000 + 60 + 1)
  t.same(s.quotas, {
    per_minute: { '*': 60, big: 600, free: 0 },
    apps_tracked: 3,
    refused_requests: { other: 2 },
    refused_events: { other: 21 }
  })
  t.equal(s.rejected_total, 21, 'the refused events are rejected events')
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /maap_quota_refusals_total\{app="other"\} 2/)
  t.match(metrics, /maap_events_rejected_total\{route="\/logs",reason="quota_exceeded"\} 21/)
})

t.test('a batch with several apps is refused whole when one app would pass its quota', async t => {
  const { app } = await quotaApp(t, { APP_QUOTAS: 'a=10,b=100' })
  t.equal((await postLogs(app, events('a', 8))).statusCode, 200)
  const mixed = events('b', 50) + events('a', 5) + events('c', 3) + '{"no":"message"}\n'
  const refused = await postLogs(app, mixed)
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '18', '3 events short at 1 every 6 s')
  t.match(refused.json().message, /^app_name "a" is past its quota of 10 events a minute/)
  const s = await status(app)
  t.equal(s.accepted_total, 8, 'nothing of the batch stored, not even b\'s and c\'s events')
  t.same(s.quotas.refused_requests, { a: 1 })
  t.same(s.quotas.refused_events, { a: 58 })
  t.equal(s.rejected_total, 58 + 1, 'the batch\'s events as quota_exceeded, its invalid one as invalid_event')
  t.equal((await postLogs(app, events('b', 100))).statusCode, 200, 'b took nothing from the refused batch')
  const two = await postLogs(app, events('a', 5) + events('b', 1))
  t.match(two.json().message, /^app_name "a" \(and 1 other app\(s\) of the batch\) is past/)
})

t.test('POST /log, a pinned key\'s app, idempotent repeats and OTLP', async t => {
  const { app, clock } = await quotaApp(t, { APP_QUOTAS: '*=3,pinned=2', API_KEYS: 'pinned:pinned-key-1,open-key-12' })
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })
  const log = (appName: string, key: string) => app.inject({ method: 'POST', url: '/log', headers: auth(key), payload: { message: 'one', app_name: appName } })

  // A pinned key writes for its app: the event's own app_name does not choose the quota.
  t.equal((await log('elsewhere', 'pinned-key-1')).statusCode, 201)
  t.equal((await log('elsewhere', 'pinned-key-1')).statusCode, 201)
  const pinned = await log('elsewhere', 'pinned-key-1')
  t.equal(pinned.statusCode, 429)
  t.match(pinned.json().message, /^app_name "pinned" is past its quota of 2 events a minute/)
  t.equal(pinned.headers['retry-after'], '30')
  t.equal((await log('elsewhere', 'open-key-12')).statusCode, 201, 'the same app_name with an open key counts as itself')

  // An Idempotency-Key repeat is answered as the first time and takes nothing.
  clock.ms += MINUTE
  const keyed = { ...auth('open-key-12'), 'idempotency-key': 'quota-batch-1' }
  t.equal((await postLogs(app, events('idem', 2), keyed)).statusCode, 200)
  const again = await postLogs(app, events('idem', 2), keyed)
  t.equal(again.statusCode, 200)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal((await postLogs(app, events('idem', 1), auth('open-key-12'))).statusCode, 200, 'the repeat took nothing: the third event fits')
  t.equal((await postLogs(app, events('idem', 1), auth('open-key-12'))).statusCode, 429)
  // A key whose batch was refused is not remembered: its retry is a first attempt.
  const refusedKey = { ...auth('open-key-12'), 'idempotency-key': 'quota-batch-2' }
  t.equal((await postLogs(app, events('idem', 2), refusedKey)).statusCode, 429)
  clock.ms += MINUTE
  const retried = await postLogs(app, events('idem', 2), refusedKey)
  t.equal(retried.statusCode, 200)
  t.equal(retried.headers['idempotent-replayed'], undefined)

  // OTLP: the app is the resource's service.name; the refusal is a google.rpc.Status.
  const otlp = (service: string, n: number) => app.inject({
    method: 'POST',
    url: '/v1/logs',
    headers: { ...auth('open-key-12'), 'content-type': 'application/json' },
    payload: {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ body: { stringValue: `r${i}` } })) }]
      }]
    }
  })
  t.equal((await otlp('otel-svc', 3)).statusCode, 200)
  const refused = await otlp('otel-svc', 1)
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '20')
  t.match(refused.json(), { code: 8, message: /^app_name "otel-svc" is past its quota of 3 events a minute/ })
  const s = await status(app)
  t.same(s.quotas.refused_requests, { pinned: 1, other: 3 })
  const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: auth('open-key-12') })).body
  t.match(metrics, /maap_events_rejected_total\{route="\/v1\/logs",reason="quota_exceeded"\} 1/)
  t.match(metrics, /maap_events_rejected_total\{route="\/log",reason="quota_exceeded"\} 1/)
})

t.test('without APP_QUOTAS nothing is counted and /status.quotas is null', async t => {
  const { app } = await quotaApp(t, {})
  t.equal((await postLogs(app, events('any', 2000))).statusCode, 200)
  t.equal((await status(app)).quotas, null)
})

t.test('WORKER_COUNT > 1: /status.quotas sums each worker\'s own refusals and apps tracked', async t => {
  type Local = Parameters<typeof serviceStatus>[1]
  const perMinute = { '*': 10, a: 5 }
  const worker = (id: number, quotas: unknown): Local => ({
    status: 'operational', mongodb_status: 'not_configured', buffer_size: 0, time_since_last_flush: 0, version: '1', timestamp: '',
    accepted_total: 0, rejected_total: 0, flushed_total: 0, duplicates_on_replay: 0, dead_lettered: 0, dead_letter_file: null,
    journal: { dir: '', segment: '', segments: 0, write_errors: 0, last_error: null, fsync: 'always' }, retention: null, idempotency: null,
    alerts: null, last_error: null, uptime_seconds: 0, process: { pid: id, worker_id: id }, auth: { ingest: 'off', admin: 'off', key_reloads: 0 }, tls: false,
    quotas
  } as unknown as Local)
  const w1 = worker(1, { per_minute: perMinute, apps_tracked: 2, refused_requests: { a: 1 }, refused_events: { a: 7 } })
  const w2 = worker(2, { per_minute: perMinute, apps_tracked: 3, refused_requests: { a: 2, other: 1 }, refused_events: { a: 3, other: 4 } })
  const s = serviceStatus([{ worker_id: 1, ok: true, value: w1 }, { worker_id: 2, ok: true, value: w2 }], w1, '/logs')
  t.same(s.quotas, { per_minute: perMinute, apps_tracked: 5, refused_requests: { a: 3, other: 1 }, refused_events: { a: 10, other: 4 } })
  const off = worker(1, null)
  t.equal(serviceStatus([{ worker_id: 1, ok: true, value: off }], off, '/logs').quotas, null)
})

t.test('events the journal refuses (503) give their quota back', async t => {
  // Tiny segments: every write opens a new file, so a LOG_DIR replaced by a plain file fails the next one.
  const logDir = mkdtempSync(join(tmpdir(), 'maap-quota-'))
  const app = await build(loadConfig({ LOG_DIR: logDir, APP_QUOTAS: 'q=2', JOURNAL_SEGMENT_BYTES: '1024' }), false, { now: () => 0 })
  t.teardown(() => app.close())
  const send = (): ReturnType<typeof app.inject> =>
    app.inject({ method: 'POST', url: '/log', payload: { message: 'x'.repeat(1100), app_name: 'q' } })
  t.equal((await send()).statusCode, 201)
  renameSync(logDir, logDir + '.away')
  writeFileSync(logDir, 'not a directory')
  const failed = await send()
  t.equal(failed.json().code, 'MAAP_JOURNAL_UNAVAILABLE')
  rmSync(logDir)
  renameSync(logDir + '.away', logDir)
  t.equal((await send()).statusCode, 201, 'the failed write took nothing: the second event of the quota fits')
  t.equal((await send()).statusCode, 429)
})
