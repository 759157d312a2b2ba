// Shared bits of the bench scripts: child processes on loopback, peak RSS, number formatting.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ObjectId } from 'mongodb'
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
  const m = await runApp({ BENCH_TARGET: 'maap', BENCH_N: String(n), BENCH_OPTIONS: JSON.stringify({ url: `http://127.0.0.1:${collector.port}`, appName: 'bench' }) })
  const t0 = performance.now() - m.deliveredMs
  const flushed = async () => (await (await fetch(`http://127.0.0.1:${collector.port}/status`)).json()).flushed_total
  await until(flushed, n, 300_000, 50)
  const rate = perSec(n, performance.now() - t0)
  const stored = await coll.countDocuments({})
  await m.exited
  await collector.stop()
  return { stored, rate }
}

/**
 * The server's own ceiling for the documents the collector writes: a bare loop of insertMany(batch,
 * unordered) straight from this process, no collector, no application. An end-to-end rate cannot exceed
 * it, so the end-to-end benches print it next to their bars. Run first, it also warms the server up for
 * both sides of the comparison (a new FerretDB is slower for its first inserts). `fields`: the record's
 * own fields (default: the pino bench apps' record).
 */
export async function bareInsertRate (client, dbName, { n = 100_000, batch = E2E_BATCH, fields = PINO_RECORD } = {}) {
  const coll = client.db(dbName).collection('logs')
  await coll.drop().catch(() => {})
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
 * itself takes in bulk. The peers (one insert per record) are no bar: the server caps how far ahead of
 * them anyone can be, so a ratio to them measures the server as much as the collector.
 */
export const E2E_GOAL = 0.8

/**
 * The server's ceiling for a run: the bare loop before the end-to-end measurement (which also warms the
 * server up) and after it; the higher reading is the ceiling, so a slow first reading cannot flatter
 * the verdict.
 */
export async function ceilingAround (client, dbName, measure, fields) {
  const before = await bareInsertRate(client, `${dbName}_before`, { fields })
  const result = await measure()
  const after = await bareInsertRate(client, `${dbName}_after`, { fields })
  return { result, before, after, ceiling: Math.max(before, after) }
}

/** The verdict line: the share of the ceiling against E2E_GOAL. */
export function verdict (rate, ceiling) {
  const share = rate / ceiling
  return `${share.toFixed(2)}× the server ceiling; goal ≥ ${E2E_GOAL.toFixed(2)}×: ${share >= E2E_GOAL ? 'met' : 'NOT met'}`
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
