// Shared bits of the bench scripts: child processes on loopback, peak RSS, number formatting.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ObjectId } from 'mongodb'
import { loadConfig } from '../collector/dist/index.js'
import { createReadIndexes } from '../collector/dist/read/mongo-indexes.js'
import { ensureRetentionIndexes } from '../collector/dist/retention/ttl-index.js'
import proc from '../test/support/proc.js'

/** Starts `node file` with env, resolves { child, port, lines } once it logs "listening at …:PORT". */
export function startServer (file, env = {}) {
  const child = spawn(process.execPath, [file], { env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = []
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', line => {
      lines.push(line)
      const m = /listening at https?:\/\/[^"\s]*:(\d+)/i.exec(line)
      if (m) resolve({ child, port: Number(m[1]), lines, stop: () => stop(child) })
    })
    child.once('exit', code => reject(new Error(`${file} exited (${code}) before listening:\n${lines.join('\n')}`)))
  })
}

function stop (child) {
  return new Promise(resolve => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
}

/** Peak resident set size of a live process, in MB (Linux): the tests' reader (test/support/proc.js), rounded. */
export const peakRssMb = pid => Math.round(proc.peakRssMb(pid))

/** CPU-seconds a live process has used so far (test/support/proc.js). */
export const cpuSeconds = pid => proc.cpuSeconds(pid)

export const fmt = n => Math.round(n).toLocaleString('en-US')
export const ratio = (a, b) => (a / b).toFixed(2) + '×'

/**
 * Runs a bench app (a child script that prints one JSON line of measurements, and more on request);
 * resolves with that first line plus { child, exited, nextLine }.
 */
export function runBenchApp (script, env) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', c => { stderr += c })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal, stderr })))
  const lines = createInterface({ input: child.stdout })
  const nextLine = () => new Promise(resolve => lines.once('line', line => resolve(JSON.parse(line))))
  return new Promise((resolve, reject) => {
    nextLine().then(first => resolve({ ...first, child, exited, nextLine }))
    child.once('exit', code => reject(new Error(`bench app exited (${code}) without a result:\n${stderr}`)))
  })
}

export const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
export const perSec = (n, ms) => n / (ms / 1000)

/** Polls `count()` until it reaches n (or the limit passes); the poll is cheap next to what it measures. */
export async function until (count, n, limitMs, everyMs) {
  const t0 = performance.now()
  for (;;) {
    const c = await count()
    if (c >= n || performance.now() - t0 > limitMs) return c
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

/**
 * End to end through a collector into MongoDB: starts a collector on `server`, runs the bench app with
 * `n` records (target 'maap'), waits until the collector reports them flushed, and returns the rate from
 * the first log call. flushed_total counts documents MongoDB confirmed; a full count on every poll would
 * compete with the inserts being measured (FerretDB counts by scanning), so the documents are counted once.
 */
/** Documents per insertMany, for the collector in the end-to-end benches (LOG_BUFFER_SIZE) and the ceiling. */
export const E2E_BATCH = 5000

export async function storedThroughCollector ({ collectorBin, server, client, dbName, n, runApp }) {
  const coll = client.db(dbName).collection('logs')
  await coll.drop().catch(() => {})
  const collector = await startServer(collectorBin, {
    LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-e2e-')),
    MONGODB_URI: server.uri, MONGODB_DB_NAME: dbName, MONGODB_COLLECTION: 'logs', FLUSH_INTERVAL: '0.2', LOG_BUFFER_SIZE: String(E2E_BATCH)
  })
  // CPU-seconds of the collector and of the server (when this process started it) over the run.
  const cpu = () => [collector.child.pid, server.pid].map(pid => pid === undefined ? NaN : cpuSeconds(pid))
  const cpu0 = cpu()
  const m = await runApp({ BENCH_TARGET: 'maap', BENCH_N: String(n), BENCH_OPTIONS: JSON.stringify({ url: `http://127.0.0.1:${collector.port}`, appName: 'bench' }) })
  const cpuDelivered = cpu()
  const t0 = performance.now() - m.deliveredMs
  const flushed = async () => (await (await fetch(`http://127.0.0.1:${collector.port}/status`)).json()).flushed_total
  await until(flushed, n, 300_000, 50)
  const seconds = (performance.now() - t0) / 1000
  const cpuEnd = cpu()
  const rate = n / seconds
  const stored = await coll.countDocuments({})
  await m.exited
  await collector.stop()
  // The app's CPU is its whole process (main thread and the transport's worker), over its delivery.
  const app = (m.processCpuMs ?? NaN) / 1000
  const used = (end, start) => ({ collector: end[0] - start[0], server: end[1] - start[1] })
  return {
    stored,
    rate,
    seconds,
    cpu: { ...used(cpuEnd, cpu0), app },
    delivery: { seconds: m.deliveredMs / 1000, cpu: { ...used(cpuDelivered, cpu0), app } }
  }
}

const cpuOf = ({ seconds, cpu }) =>
  `app ${Number.isNaN(cpu.app) ? 'n/a' : cpu.app.toFixed(1) + ' s'}, collector ${cpu.collector.toFixed(1)} s, ` +
  `server ${Number.isNaN(cpu.server) ? 'n/a' : cpu.server.toFixed(1) + ' s'} in ${seconds.toFixed(1)} s`

/**
 * Where a 2-core machine's time went in storedThroughCollector's run, as CPU-seconds per process: over
 * the whole run, and while the app was still delivering (when the app, the collector's ingest and the
 * server all want a core).
 */
export const cpuSplit = run => `${cpuOf(run)}; while the app delivered: ${cpuOf(run.delivery)}`

/**
 * The indexes a collector with default settings creates on its collection, by its own code: the read
 * indexes and retention's { timestamp: 1 } (a TTL index where the server has TTL, a plain one where not).
 * Each costs the server on every insert, so a ceiling judged against the collector needs them too.
 */
export async function collectorIndexes (coll) {
  await createReadIndexes(coll)
  await ensureRetentionIndexes(coll, { retentionDays: loadConfig({}).logRetentionDays })
}

/**
 * The server's own ceiling for the documents the collector writes: a bare loop of insertMany(batch,
 * unordered) straight from this process, no collector, no application. An end-to-end rate cannot exceed
 * it, so the end-to-end benches print it next to their bars. Run first, it also warms the server up for
 * both sides of the comparison (a new FerretDB is slower for its first inserts). `fields`: the record's
 * own fields (default: the pino bench apps' record). `indexed`: into a collection that has the
 * collector's indexes first (collectorIndexes), as the collector's own collection does.
 */
export async function bareInsertRate (client, dbName, { n = 100_000, batch = E2E_BATCH, fields = PINO_RECORD, indexed = false } = {}) {
  const coll = client.db(dbName).collection('logs')
  await coll.drop().catch(() => {})
  if (indexed) await collectorIndexes(coll)
  const t0 = performance.now()
  for (let done = 0; done < n; done += batch) {
    const now = new Date()
    const docs = Array.from({ length: batch }, (_, i) => ({ _id: new ObjectId(), timestamp: now, received_at: now, ...fields, seq: done + i }))
    await coll.insertMany(docs, { ordered: false })
  }
  return perSec(n, performance.now() - t0)
}

const PINO_RECORD = { level: 'INFO', message: 'user signed in', app_name: 'bench', pid: 4242, hostname: 'bench', user_id: 4242, route: '/api/login', duration_ms: 12.5 }
/** The winston bench app's record, as the collector stores it. */
export const WINSTON_RECORD = { level: 'INFO', message: 'user signed in', app_name: 'bench', user_id: 4242, route: '/api/login', duration_ms: 12.5 }

/**
 * The end-to-end goal: records stored per second through the collector, as a share of what the server
 * itself takes in bulk into a collection with the same indexes. The peers (one insert per record) are no
 * bar: the server caps how far ahead of them anyone can be, so a ratio to them measures the server as
 * much as the collector.
 */
export const E2E_GOAL = 0.8

/**
 * The server's ceilings for a run, bare (no index but _id) and indexed (the collector's indexes): each
 * loop before the end-to-end measurement (which also warms the server up) and after it, in the order
 * bare, indexed, measure, indexed, bare so that neither gets the quieter end of the run; the higher
 * reading of each is its ceiling, so a slow first reading cannot flatter the verdict.
 */
export async function ceilingAround (client, dbName, measure, fields) {
  const before = await bareInsertRate(client, `${dbName}_before`, { fields })
  const indexedBefore = await bareInsertRate(client, `${dbName}_indexed_before`, { fields, indexed: true })
  const result = await measure()
  const indexedAfter = await bareInsertRate(client, `${dbName}_indexed_after`, { fields, indexed: true })
  const after = await bareInsertRate(client, `${dbName}_after`, { fields })
  const indexes = await client.db(`${dbName}_indexed_after`).collection('logs').listIndexes().toArray()
  return {
    result,
    before,
    after,
    ceiling: Math.max(before, after),
    indexed: { before: indexedBefore, after: indexedAfter, ceiling: Math.max(indexedBefore, indexedAfter), names: indexes.map(ix => ix.name).filter(name => name !== '_id_') }
  }
}

/**
 * The verdict: the share of the indexed ceiling against E2E_GOAL, and the share of the bare one beside it.
 * The share is cut (not rounded) to two decimals, so a 0.799× that misses the goal never reads 0.80×.
 */
export function verdict (rate, indexedCeiling, bareCeiling) {
  const share = rate / indexedCeiling
  return `${(Math.floor(share * 100) / 100).toFixed(2)}× the indexed ceiling; goal ≥ ${E2E_GOAL.toFixed(2)}×: ${share >= E2E_GOAL ? 'met' : 'NOT met'}; ` +
    `${(rate / bareCeiling).toFixed(2)}× the bare one`
}

/** `uri` with its database path set to `dbName`. */
export const uriWithDb = (uri, dbName) => uri.replace(/\/?(\?|$)/, `/${dbName}$1`)

/**
 * A one-insert-per-record peer (pino-mongodb, winston-mongodb): the bench app with BENCH_TARGET=mongodb
 * and BENCH_HOLD=1 logs `n` records into `coll`, counted until all are there. Resolves with the count,
 * the rate from its first log call and the app, which is still running.
 */
export async function peerRate ({ runApp, coll, n, options }) {
  await coll.drop().catch(() => {})
  const app = await runApp({ BENCH_TARGET: 'mongodb', BENCH_HOLD: '1', BENCH_N: String(n), BENCH_OPTIONS: JSON.stringify(options) })
  const t0 = performance.now() - app.loopMs
  const stored = await until(() => coll.countDocuments({}), n, 120_000, 250)
  return { stored, rate: perSec(stored, performance.now() - t0), app }
}
