// npm run bench:faults — the collector under faults, printed figures (not a test):
//   1. a MongoDB outage of BENCH_OUTAGE_SECONDS (default 30) under steady batch load: the collector's RSS
//      sampled every second (bar: under 250 MB and flat), then the time to drain after MongoDB returns;
//   2. batch ingest with API keys and TLS on, against the same collector without them (bar ≥ 0.8×).
// Loopback only. BENCH_SECONDS sets the length of each ingest run (default 10).
import autocannon from 'autocannon'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, ratio, startServer } from './lib.mjs'
import { freePort, restartableKind, startMongoServer } from '../test/mongo/server.mjs'
import helpers from '../test/support/certificate.js'

const { selfSignedCertificate } = helpers

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const outageSeconds = Number(process.env.BENCH_OUTAGE_SECONDS ?? 30)
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const event = { level: 'info', message: 'user signed in', app_name: 'bench', user_id: 4242, route: '/api/login', duration_ms: 12.5 }
const batch = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ ...event, seq: i })).join('\n')
const tmp = prefix => mkdtempSync(join(tmpdir(), prefix))
const rssMb = pid => Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024)

function load (url, opts) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', body: batch, ...opts, headers: { 'content-type': 'application/x-ndjson', ...opts.headers } },
      (err, result) => err ? reject(err) : resolve(result))
  })
}

async function status (port) {
  return await (await fetch(`http://127.0.0.1:${port}/status`)).json()
}

async function outage () {
  const kind = restartableKind()
  const port = await freePort()
  const dbDir = tmp('bench-outage-db-')
  let mongo = await startMongoServer({ kind, port, dir: dbDir })
  const collector = await startServer(collectorBin, {
    LOG_DIR: tmp('bench-outage-'), MONGODB_URI: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500`, MONGODB_DB_NAME: 'bench_outage', FLUSH_INTERVAL: '0.5'
  })
  await mongo.stop()
  // Steady load above what FerretDB can drain (about 20,000 events/s, 20 batches/s), for the whole outage.
  const samples = []
  const sampler = setInterval(() => samples.push(rssMb(collector.child.pid)), 1000)
  const r = await load(`http://127.0.0.1:${collector.port}/logs`, { connections: 4, overallRate: 20, duration: outageSeconds })
  clearInterval(sampler)
  const waiting = (await status(collector.port)).buffer_size
  const t0 = performance.now()
  mongo = await startMongoServer({ kind, port, dir: dbDir })
  const drainSamples = []
  for (;;) {
    const s = await status(collector.port)
    drainSamples.push(rssMb(collector.child.pid))
    if (s.mongodb_status === 'connected' && s.buffer_size === 0) break
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  const drainSeconds = (performance.now() - t0) / 1000
  await collector.stop()
  await mongo.stop()
  const third = Math.max(1, Math.floor(samples.length / 3))
  const avg = xs => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length)
  console.log('\n1. MongoDB (%s) down for %d s under %s events/s of batch load', kind, outageSeconds, fmt(r.requests.average * 1000))
  console.log('   acknowledged during the outage: %s events (non-2xx %d); waiting in the journal: %s', fmt(r.requests.total * 1000), r.non2xx, fmt(waiting))
  console.log('   collector RSS during the outage: min %d / max %d MB; first third avg %d MB, last third avg %d MB (bar: < 250 MB and flat)',
    Math.min(...samples), Math.max(...samples), avg(samples.slice(0, third)), avg(samples.slice(-third)))
  console.log('   drain after MongoDB returned: %s s for %s events (%s events/s); RSS max while draining %d MB',
    drainSeconds.toFixed(1), fmt(waiting), fmt(waiting / drainSeconds), Math.max(...drainSamples))
}

async function authAndTls () {
  const { cert, key } = selfSignedCertificate()
  const apiKey = 'bench-key-0123456789abcdef'
  const plain = await startServer(collectorBin, { LOG_DIR: tmp('bench-plain-') })
  const p = await load(`http://127.0.0.1:${plain.port}/logs`, { connections: 8, duration: seconds })
  await plain.stop()
  const secure = await startServer(collectorBin, { LOG_DIR: tmp('bench-secure-'), API_KEYS: apiKey, TLS_CERT_FILE: cert, TLS_KEY_FILE: key })
  const s = await load(`https://127.0.0.1:${secure.port}/logs`, {
    connections: 8, duration: seconds, headers: { authorization: `Bearer ${apiKey}` }, tlsOptions: { ca: readFileSync(cert) }
  })
  await secure.stop()
  console.log('\n2. NDJSON batches of 1,000, 8 connections, %d s each', seconds)
  console.log('   plain HTTP, no keys : %s events/s (non-2xx %d)', fmt(p.requests.average * 1000), p.non2xx)
  console.log('   HTTPS + API key     : %s events/s (non-2xx %d)  (%s; bar ≥ 0.80×)', fmt(s.requests.average * 1000), s.non2xx, ratio(s.requests.average, p.requests.average))
}

const only = process.argv[2]
if (!only || only === 'outage') await outage()
if (!only || only === 'secure') await authAndTls()
