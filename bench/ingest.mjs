// npm run bench:ingest — the collector's ingest and drain rates, each next to its baseline in this run:
//   1. single-event POST /log, 50 keep-alive connections: collector vs a bare Fastify route (bar ≥ 0.6×)
//   2. NDJSON batches of 1,000 events to POST /logs: events/s acknowledged (bar ≥ 150,000/s)
//   3. drain of a journal into MongoDB vs a bare insertMany loop into the same server (bar ≥ 0.8×)
//   4. the batches of 2. with redaction on (REDACT_FIELDS of ten names, REDACT_PATTERNS email,card) vs off (goal ≥ 0.8×)
// and the collector's peak RSS (bar < 250 MB), also under batch load with MongoDB down. Load stays on 127.0.0.1. Set BENCH_SECONDS to change the
// duration of each HTTP run (default 10), BENCH_DRAIN_EVENTS the drain size (default 100000).
import autocannon from 'autocannon'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { bareInsertRate, fmt, peakRssMb, ratio, startServer } from './lib.mjs'
import { startMongoServer } from '../test/mongo/server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const drainEvents = Number(process.env.BENCH_DRAIN_EVENTS ?? 100_000)

const event = { level: 'info', message: 'user signed in', app_name: 'bench', user_id: 4242, route: '/api/login', duration_ms: 12.5 }

function load (url, opts) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', duration: seconds, ...opts }, (err, result) => err ? reject(err) : resolve(result))
  })
}

async function singleEvent () {
  const body = JSON.stringify(event)
  const opts = { connections: 50, headers: { 'content-type': 'application/json' }, body }
  const bare = await startServer(join(here, 'bare-server.mjs'))
  const b = await load(`http://127.0.0.1:${bare.port}/log`, opts)
  await bare.stop()
  const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-log-')) })
  const c = await load(`http://127.0.0.1:${collector.port}/log`, opts)
  const rss = peakRssMb(collector.child.pid)
  await collector.stop()
  console.log('\n1. single-event POST /log, 50 connections, %ds each', seconds)
  console.log('   bare Fastify route : %s req/s, p99 %d ms, non-2xx %d', fmt(b.requests.average), b.latency.p99, b.non2xx)
  console.log('   collector          : %s req/s, p99 %d ms, non-2xx %d  (%s the bare route; bar ≥ 0.60×)',
    fmt(c.requests.average), c.latency.p99, c.non2xx, ratio(c.requests.average, b.requests.average))
  console.log('   collector peak RSS : %d MB', rss)
}

async function batches (label, env = {}) {
  const body = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ ...event, seq: i })).join('\n')
  const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-log-')), ...env })
  const r = await load(`http://127.0.0.1:${collector.port}/logs`, { connections: 8, headers: { 'content-type': 'application/x-ndjson' }, body })
  const rss = peakRssMb(collector.child.pid)
  await collector.stop()
  console.log('\n2%s. NDJSON batches of 1,000 events to POST /logs, 8 connections, %ds — %s', label, seconds,
    env.MONGODB_URI ? 'MongoDB configured but DOWN the whole time' : 'embedded mode (no MongoDB)')
  console.log('   %s events/s acknowledged (journaled, fsync per group commit); p99 %d ms per batch; non-2xx %d  (bar ≥ 150,000/s)',
    fmt(r.requests.average * 1000), r.latency.p99, r.non2xx)
  console.log('   collector peak RSS : %d MB  (bar < 250 MB)', rss)
}

// Ten names, as a deployment might list them; two detectors. One event in ten carries something to redact.
const REDACTION = {
  REDACT_FIELDS: 'password,passwd,secret,token,api_key,authorization,cookie,set-cookie,credit_card,ssn',
  REDACT_PATTERNS: 'email,card'
}

async function batchRate (env) {
  const body = Array.from({ length: 1000 }, (_, i) => JSON.stringify(i % 10 === 0
    ? { ...event, seq: i, message: 'reset for ada@example.org', password: 'hunter2' }
    : { ...event, seq: i })).join('\n')
  const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-log-')), ...env })
  const r = await load(`http://127.0.0.1:${collector.port}/logs`, { connections: 8, headers: { 'content-type': 'application/x-ndjson' }, body })
  await collector.stop()
  return r
}

async function redaction () {
  const off = await batchRate({})
  const on = await batchRate(REDACTION)
  console.log('\n4. redaction at ingest: NDJSON batches of 1,000 events (one in ten with a password and an e-mail), 8 connections, %ds each', seconds)
  console.log('   off : %s events/s, p99 %d ms, non-2xx %d', fmt(off.requests.average * 1000), off.latency.p99, off.non2xx)
  console.log('   on  : %s events/s, p99 %d ms, non-2xx %d  (%s off; REDACT_FIELDS of ten names, REDACT_PATTERNS=email,card; goal ≥ 0.80×)',
    fmt(on.requests.average * 1000), on.latency.p99, on.non2xx, ratio(on.requests.average, off.requests.average))
}

async function drain () {
  const server = await startMongoServer({ kind: process.env.MONGODB_URI ? 'external' : undefined })
  const client = new MongoClient(server.uri)
  try {
    // Baseline: the same documents, inserted by a bare loop of insertMany(1,000, unordered).
    const bareRate = await bareInsertRate(client, 'bench_bare', { n: drainEvents, batch: 1000, fields: { ...event, level: 'INFO' } })

    // The collector: journal the events without MongoDB, then start it with MongoDB on the same LOG_DIR;
    // it replays the journal before it listens, so spawn → listening is the drain (minus start-up).
    const logDir = mkdtempSync(join(tmpdir(), 'bench-drain-'))
    const writer = await startServer(collectorBin, { LOG_DIR: logDir })
    const body = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ ...event, seq: i })).join('\n')
    for (let done = 0; done < drainEvents; done += 1000) {
      await fetch(`http://127.0.0.1:${writer.port}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body }).then(r => r.arrayBuffer())
    }
    await writer.stop()
    await client.db('bench_collector').dropDatabase()
    const t0 = performance.now()
    const collector = await startServer(collectorBin, { LOG_DIR: logDir, MONGODB_URI: server.uri, MONGODB_DB_NAME: 'bench_collector', COLLECTOR_LOG_LEVEL: 'info' })
    const drainSeconds = (performance.now() - t0) / 1000
    const rss = peakRssMb(collector.child.pid)
    const stored = await client.db('bench_collector').collection('logs').countDocuments()
    await collector.stop()
    const rate = stored / drainSeconds
    console.log('\n3. drain of %s journaled events into MongoDB (%s)', fmt(drainEvents), server.kind)
    console.log('   bare insertMany loop : %s docs/s', fmt(bareRate))
    console.log('   collector replay     : %s docs/s, %s stored  (%s the bare loop, start-up included; bar ≥ 0.80×)', fmt(rate), fmt(stored), ratio(rate, bareRate))
    console.log('   collector peak RSS   : %d MB', rss)
  } finally {
    await client.close()
    await server.stop()
  }
}

const only = process.argv[2]
if (!only || only === 'single') await singleEvent()
if (!only || only === 'batch') await batches('a')
// The journal keeps everything while MongoDB is unreachable; memory must not grow with the outage.
if (!only || only === 'outage') await batches('b', { MONGODB_URI: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=500', FLUSH_INTERVAL: '0.2' })
if (!only || only === 'drain') await drain()
if (!only || only === 'redact') await redaction()
