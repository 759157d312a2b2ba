// GET /metrics: Prometheus text with the collector's counters, gauges and histograms, checked against what
// the collector did (and against /status and the files on disk), in embedded mode and with MongoDB.
import t from 'tap'
import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CollectorMetrics } from '../src/metrics/metrics'
import { REJECT_REASONS } from '../src/metrics/ingest-counts'
import { connectTestClient, segments, testMongoUri, uniqueDbName } from '../../test/support'
import { buildTestApp } from './helpers'

interface Sample { name: string, labels: Record<string, string>, value: number }

/** Prometheus text exposition → samples. */
function parse (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return samples
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
function value (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`)
  return found[0]?.value
}

const ndjson = (lines: string[]): { method: 'POST', url: string, headers: Record<string, string>, payload: string } =>
  ({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') })

t.test('the admin key guards /metrics when keys are set', async t => {
  const adminKey = 'admin-key-0123456789'
  const ingestKey = 'ingest-key-0123456789'
  const { app } = await buildTestApp(t, { API_KEYS: ingestKey, ADMIN_API_KEY: adminKey })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ingestKey}` } })).statusCode, 403)
  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${adminKey}` } })
  t.equal(ok.statusCode, 200)
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const open = (await buildTestApp(t)).app
  t.equal((await open.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'open like the rest without keys')
})

t.test('embedded mode: events received, accepted and rejected by route and reason; bytes; journal; latencies; defaults', async t => {
  const { app, logDir } = await buildTestApp(t)
  const good = (n: number): string => JSON.stringify({ message: `m${n}`, app_name: 'a' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const post = async (path: string, type: string, body: string): Promise<number> =>
    (await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body })).status
  const logBody = good(0)
  const badLog = JSON.stringify({ message: 'no app' })
  const batch = [good(1), good(2), good(3), '{not json', JSON.stringify({ app_name: 'a' })].join('\n')
  t.equal(await post('/log', 'application/json', logBody), 201)
  t.equal(await post('/log', 'application/json', badLog), 400)
  t.equal(await post('/logs', 'application/x-ndjson', batch), 200)

  const res = await fetch(`${url}/metrics`)
  const samples = parse(await res.text())
  t.equal(value(samples, 'maap_events_received_total', { route: '/log' }), 2)
  t.equal(value(samples, 'maap_events_received_total', { route: '/logs' }), 5)
  t.equal(value(samples, 'maap_events_accepted_total', { route: '/log' }), 1)
  t.equal(value(samples, 'maap_events_accepted_total', { route: '/logs' }), 3)
  t.equal(value(samples, 'maap_events_rejected_total', { route: '/log', reason: 'invalid_event' }), 1)
  t.equal(value(samples, 'maap_events_rejected_total', { route: '/logs', reason: 'invalid_event' }), 1)
  t.equal(value(samples, 'maap_events_rejected_total', { route: '/logs', reason: 'invalid_json' }), 1)
  t.equal(value(samples, 'maap_events_rejected_total', { route: '/logs', reason: 'journal_unavailable' }), 0)
  const reasons = new Set(samples.filter(s => s.name === 'maap_events_rejected_total').map(s => s.labels.reason))
  t.same([...reasons].sort(), [...REJECT_REASONS].sort(), 'reasons are the fixed set, not the clients\' messages')
  t.equal(value(samples, 'maap_received_bytes_total', { route: '/log' }), logBody.length + badLog.length)
  t.equal(value(samples, 'maap_received_bytes_total', { route: '/logs' }), batch.length)

  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.equal(value(samples, 'maap_journal_segments'), status.journal.segments)
  const onDisk = segments(logDir).reduce((n, f) => n + statSync(join(logDir, f)).size, 0)
  t.ok(onDisk > 0)
  t.equal(value(samples, 'maap_journal_bytes'), onDisk, 'journal bytes are the segment files\' sizes')
  t.equal(value(samples, 'maap_journal_write_errors_total'), 0)
  t.equal(value(samples, 'maap_mongodb_backlog_events'), 0)
  t.equal(value(samples, 'maap_mongodb_up'), 0, 'not configured')
  t.equal(value(samples, 'maap_events_flushed_total'), 0)
  t.equal(value(samples, 'maap_tail_clients'), 0)

  t.equal(value(samples, 'maap_journal_commit_duration_seconds_count'), 2, 'one commit observed per request that journaled')
  t.equal(value(samples, 'maap_http_request_duration_seconds_count', { route: '/log', method: 'POST', status_code: '201' }), 1)
  t.equal(value(samples, 'maap_http_request_duration_seconds_count', { route: '/log', method: 'POST', status_code: '400' }), 1)
  t.equal(value(samples, 'maap_http_request_duration_seconds_count', { route: '/logs', method: 'POST', status_code: '200' }), 1)
  t.equal(value(samples, 'maap_http_request_duration_seconds_bucket', { route: '/logs', method: 'POST', status_code: '200', le: '+Inf' }), 1)
  t.ok(value(samples, 'maap_http_request_duration_seconds_sum', { route: '/logs', method: 'POST', status_code: '200' })! > 0)
  await fetch(`${url}/nowhere`)
  const after = parse(await (await fetch(`${url}/metrics`)).text())
  t.equal(value(after, 'maap_http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status_code: '404' }), 1, 'a 404 is labelled by no URL of the client\'s')
  t.equal(value(after, 'maap_http_request_duration_seconds_count', { route: '/metrics', method: 'GET', status_code: '200' }), 1)

  t.ok(value(samples, 'process_cpu_user_seconds_total')! > 0, 'prom-client\'s default process metrics')
  t.ok(value(samples, 'process_resident_memory_bytes')! > 0)
  t.not(value(samples, 'nodejs_heap_size_used_bytes'), undefined)
  for (const s of samples) if (!/^(maap|process|nodejs)_/.test(s.name)) t.fail(`unprefixed metric ${s.name}`)
})

t.test('journal write errors, and events refused because the journal failed or was full', async t => {
  const { app, logDir } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '1024', JOURNAL_MAX_QUEUE_BYTES: '1024' })
  const big = (n: number): string => JSON.stringify({ message: `m${n}` + 'x'.repeat(600), app_name: 'a' })
  // Sent together: one write in flight, one group waiting, the rest over the queue bound (503 at once).
  const codes = await Promise.all(Array.from({ length: 6 }, (_, i) => app.inject(ndjson([big(i)])).then(r => r.statusCode)))
  const busy = codes.filter(c => c === 503).length
  t.ok(busy > 0, `some refused as busy (${codes.join(' ')})`)
  renameSync(logDir, logDir + '.away')
  writeFileSync(logDir, 'not a directory')
  t.equal((await app.inject(ndjson([big(10), big(11)]))).statusCode, 503)
  rmSync(logDir)
  renameSync(logDir + '.away', logDir)
  const samples = parse((await app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(value(samples, 'maap_journal_write_errors_total'), 1)
  t.equal(value(samples, 'maap_events_rejected_total', { route: '/logs', reason: 'journal_unavailable' }), 2)
  t.equal(value(samples, 'maap_events_rejected_total', { route: '/logs', reason: 'journal_busy' }), busy)
  t.equal(value(samples, 'maap_events_accepted_total', { route: '/logs' }), 6 - busy)
  t.equal(value(samples, 'maap_events_received_total', { route: '/logs' }), 8)
  t.equal((await app.inject({ method: 'GET', url: '/status' })).json().rejected_total, 2 + busy, 'the journal\'s refusals are in /status.rejected_total too')
  // Tiny segments: the writes after the failure open new ones.
  for (let i = 20; i < 23; i++) t.equal((await app.inject(ndjson([big(i), big(i + 10)]))).statusCode, 200)
  const later = parse((await app.inject({ method: 'GET', url: '/metrics' })).body)
  const names = segments(logDir)
  t.ok(names.length >= 2, `tiny segments: ${names.length} of them`)
  t.equal(value(later, 'maap_journal_segments'), names.length)
  t.equal(value(later, 'maap_journal_bytes'), names.reduce((n, f) => n + statSync(join(logDir, f)).size, 0), 'closed segments by their size, the open one by its end')
})

t.test('with MongoDB: backlog, flushed, MongoDB up, flush latency, dead letters, duplicates on replay', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('metrics')
  t.teardown(() => client.db(dbName).dropDatabase())
  const coll = client.db(dbName).collection('logs')
  await coll.createIndex({ message: 1 }, { unique: true })
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', RETENTION_SWEEP_INTERVAL: '3600' }
  const { app, logDir } = await buildTestApp(t, env)
  const events = ['a', 'b', 'dup', 'dup', 'c'].map(message => JSON.stringify({ message, app_name: 'x' }))
  t.equal((await app.inject(ndjson(events))).statusCode, 200)
  const before = parse((await app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(value(before, 'maap_mongodb_backlog_events'), 5)
  t.equal(value(before, 'maap_flush_duration_seconds_count'), 0)
  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 200)
  const after = parse((await app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(value(after, 'maap_mongodb_backlog_events'), 0)
  t.equal(value(after, 'maap_events_flushed_total'), 4)
  t.equal(value(after, 'maap_events_dead_lettered_total'), 1, 'the second "dup" broke the unique index')
  t.equal(value(after, 'maap_mongodb_up'), 1)
  t.equal(value(after, 'maap_flush_duration_seconds_count'), 1, 'one insertMany batch')
  t.equal(value(after, 'maap_replay_duplicates_total'), 0)
  await app.close()

  // Without its checkpoint the next start replays the whole journal: every stored event is a duplicate.
  rmSync(join(logDir, 'maap-checkpoint.json'))
  const again = await buildTestApp(t, { ...env, LOG_DIR: logDir })
  const replayed = parse((await again.app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(value(replayed, 'maap_replay_duplicates_total'), 4)
  t.equal(await coll.countDocuments(), 4, 'stored once')
})

t.test('the tail-clients gauge reads the function it is given', async t => {
  const { app } = await buildTestApp(t)
  let clients = 3
  const metrics = new CollectorMetrics(app.collector, { tailClients: () => clients })
  t.equal(value(parse(await metrics.registry.metrics()), 'maap_tail_clients'), 3)
  clients = 0
  t.equal(value(parse(await metrics.registry.metrics()), 'maap_tail_clients'), 0)
})
