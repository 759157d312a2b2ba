// npm run bench:alerts — what `each` alerts cost ingest, and how soon a notification follows an event,
// each next to its baseline or goal in this run (WORKER_COUNT=2, embedded mode, a webhook receiver on
// loopback that answers 200 at once):
//   1. NDJSON batches of 1,000 varied events (10 apps, 1 % errors) to POST /logs, 8 connections:
//      events/s acknowledged with no alert vs with 50 `each` alerts of varied queries (goal ≥ 0.90×)
//   2. with those 50 alerts still there, single events of a probe app at ~25/s: for each, the time from its
//      acknowledgement to the webhook that carries it; p50/p99/max (goal: p99 ≤ group_window + 1 s)
// BENCH_SECONDS sets each load run (default 10), BENCH_PROBE_SECONDS the probe run (default 20),
// BENCH_GROUP_WINDOW the probe alert's group window in seconds (default 1).
import autocannon from 'autocannon'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, peakRssMb, ratio, startServer } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const probeSeconds = Number(process.env.BENCH_PROBE_SECONDS ?? 20)
const groupWindow = Number(process.env.BENCH_GROUP_WINDOW ?? 1)
const APPS = ['payments', 'checkout', 'search', 'auth', 'catalog', 'cart', 'shipping', 'billing', 'email', 'gateway']

/** 1,000 events as services write them: mostly INFO, some WARN, 1 % ERROR with an HTTP status. */
function body () {
  const lines = []
  for (let i = 0; i < 1000; i++) {
    const app = APPS[i % APPS.length]
    const level = i % 100 === 7 ? 'error' : i % 20 === 3 ? 'warn' : 'info'
    const status = level === 'error' ? 500 + (i % 4) : 200
    lines.push(JSON.stringify({ level, app_name: app, message: level === 'error' ? `upstream timeout calling ${APPS[(i + 3) % 10]}` : `handled request ${i}`, http: { status, method: i % 3 === 0 ? 'POST' : 'GET', duration_ms: i % 250 }, user: { id: `u${i % 97}` }, region: i % 2 === 0 ? 'eu-west-1' : 'us-east-1' }))
  }
  return lines.join('\n')
}

/** Fifty alert queries of the kinds people write: by app and level, by field, text, comparisons, or/not, exists. */
function queries () {
  const out = []
  for (const app of APPS) {
    out.push(`app_name = ${app} and level >= ERROR`)
    out.push(`app_name = ${app} and http.status >= 500`)
    out.push(`app_name = ${app} and "upstream timeout"`)
    out.push(`app_name = ${app} and (http.duration_ms > 240 or level = WARN) and not region = us-east-1`)
    out.push(`app_name = ${app} and level = ERROR and user.id = u13 and http.method = POST`)
  }
  return out
}

function receiver () {
  const got = []
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      got.push({ at: performance.now(), body: JSON.parse(Buffer.concat(chunks).toString()) })
      res.end('ok')
    })
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({ got, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => server.close() })))
}

async function createAlert (base, alert) {
  const res = await fetch(`${base}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) })
  if (res.status !== 201) throw new Error(`POST /alerts answered ${res.status}: ${await res.text()}`)
  return res.json()
}

function load (url) {
  return new Promise((resolve, reject) => autocannon({
    url, method: 'POST', duration: seconds, connections: 8, headers: { 'content-type': 'application/x-ndjson' }, body: body()
  }, (err, result) => err ? reject(err) : resolve(result)))
}

async function ingestRun (hook, alerts) {
  const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-alerts-')), WORKER_COUNT: '2' })
  const base = `http://127.0.0.1:${collector.port}`
  for (const [i, query] of alerts.entries()) {
    await createAlert(base, { name: `alert ${i}`, query, condition: { type: 'each' }, channels: [{ type: 'webhook', url: hook.url }], group_window: '30s' })
  }
  // The probe alert of part 2, made before the load so that its first notification shows the backlog.
  const probe = alerts.length === 0 ? undefined : await createAlert(base, { name: 'probe', query: 'app_name = latency-probe', condition: { type: 'each' }, channels: [{ type: 'webhook', url: hook.url }], group_window: `${groupWindow}s`, sample: 100 })
  await new Promise(resolve => setTimeout(resolve, 1500)) // both workers have read the definitions (they poll every 500 ms)
  const r = await load(`${base}/logs`)
  return { collector, base, probe, rate: r.requests.average * 1000, p99: r.latency.p99, non2xx: r.non2xx }
}

/** Sends one probe event; resolves with ms from its acknowledgement to the webhook that carries it. */
async function probeOnce (base, probe, hook, message) {
  const res = await fetch(`${base}/log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level: 'error', app_name: 'latency-probe', message }) })
  await res.arrayBuffer()
  const acked = performance.now()
  for (;;) {
    const hit = hook.got.find(({ body }) => body.alert?.id === probe.id && body.events.some(e => e.message === message))
    if (hit !== undefined) return hit.at - acked
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const hook = await receiver()
// Rounds alternate (no alert, then fifty) so that the machine's drift falls on both sides alike.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const pairs = []
let fifty
for (let r = 0; r < rounds; r++) {
  const none = await ingestRun(hook, [])
  const noneRss = peakRssMb(none.collector.child.pid)
  await none.collector.stop()
  fifty = await ingestRun(hook, queries())
  pairs.push({ none, noneRss, fifty })
  // The last one stays for part 2; the others stop before the next round measures anything.
  if (r < rounds - 1) await fifty.collector.stop()
}
console.log('\n1. NDJSON batches of 1,000 varied events to POST /logs, 8 connections, %ds each, WORKER_COUNT=2, embedded mode, %d rounds', seconds, rounds)
for (const [i, { none, noneRss, fifty: f }] of pairs.entries()) {
  console.log('   round %d: no alert %s events/s (p99 %d ms, non-2xx %d, primary RSS %d MB); 50 each alerts %s events/s (p99 %d ms, non-2xx %d): %s',
    i + 1, fmt(none.rate), none.p99, none.non2xx, noneRss, fmt(f.rate), f.p99, f.non2xx, ratio(f.rate, none.rate))
}
const ratios = pairs.map(p => p.fifty.rate / p.none.rate).sort((a, b) => a - b)
console.log('   median: 50 each alerts ingest at %s× of no alert (goal ≥ 0.90×)', ratios[Math.floor(ratios.length / 2)].toFixed(2))
console.log('   webhook calls received during the runs: %s', fmt(hook.got.length))
// Under that load evaluation yields to ingest and falls behind (on disk); an event sent right after is
// notified once both workers' evaluators have caught up with the backlog.
const catchUp = await probeOnce(fifty.base, fifty.probe, hook, 'right after the load')
console.log('   an event sent right after the load: notified %d ms after its acknowledgement (backlog caught up, then group_window %d s)', Math.round(catchUp), groupWindow)

// 2. Acknowledgement → webhook, on the collector that still has the 50 alerts, now caught up.
const probe = fifty.probe
const acked = new Map()
const t0 = performance.now()
let seq = 0
while (performance.now() - t0 < probeSeconds * 1000) {
  const id = `probe-${seq++}`
  const res = await fetch(`${fifty.base}/log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level: 'error', app_name: 'latency-probe', message: id }) })
  await res.arrayBuffer()
  acked.set(id, performance.now())
  await new Promise(resolve => setTimeout(resolve, 40))
}
const deadline = performance.now() + (groupWindow + 30) * 1000
const latencies = new Map()
while (latencies.size < acked.size && performance.now() < deadline) {
  for (const { at, body } of hook.got) {
    if (body.alert?.id !== probe.id) continue
    for (const e of body.events) if (acked.has(e.message) && !latencies.has(e.message)) latencies.set(e.message, at - acked.get(e.message))
  }
  await new Promise(resolve => setTimeout(resolve, 100))
}
const sorted = [...latencies.values()].sort((a, b) => a - b)
const pct = p => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
console.log('\n2. acknowledgement → webhook received, %s probe events at ~25/s, group_window %ds, sample 100, 50 other alerts present', fmt(acked.size), groupWindow)
console.log('   events notified : %s of %s', fmt(latencies.size), fmt(acked.size))
console.log('   latency         : p50 %d ms, p99 %d ms, max %d ms  (goal: p99 ≤ group_window + 1 s = %d ms)',
  Math.round(pct(0.5)), Math.round(pct(0.99)), Math.round(sorted.at(-1) ?? NaN), (groupWindow + 1) * 1000)
await fifty.collector.stop()
hook.close()
