// npm run bench:read-load — reads under load (issue #24, "Reads under load"), as a team uses the collector:
//
//   paced ingest, BENCH_RATE (20,000) events/s, 10 apps ──► embedded collector (WORKER_COUNT=BENCH_WORKERS, 2)
//   5 live tails (SSE, a worker thread): each counts what it got and tracks the newest event ◄──┘   ▲
//   a dashboard: every 2 s a search (app_name=api&q=timeout) and a histogram (app_name=api&from=1h),│
//   fired without waiting for the previous answers ──────────────────────────────────────────────────┘
//
// Prints every 30 s and at the end: ingest rate achieved, tail lag (events and seconds), queries answered /
// refused / cut short and in flight, the collector's RSS (primary + workers) at 1 and at BENCH_MINUTES
// minutes, and at the end the CPU the collector used over the run. BENCH_DASHBOARD=0: the baseline alone;
// =1: the dashboard run alone; unset: both, one after the other on fresh journals, side by side. Goals (the
// issue): ingest ≥ 0.95× of the baseline, tail lag ≤ 1 s, RSS growth ≤ 10 MB from minute 1 to 5 (printed
// from one sample at each end, and, as one sample swings with the answers in flight at that instant, from
// the median and lowest of the samples taken every 5 s in minute 2 and in the last minute). BENCH_MEMORY=1:
// each report also says, per process, where its memory is (memory-probe.cjs: heap, buffers outside it,
// resident anonymous memory; each worker thread's heap); BENCH_MEMORY_KEEP=1 keeps the samples (a file per
// process and per thread, a line every 5 s) and says where.
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { fmt, ratio, startServer } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const MINUTES = Number(process.env.BENCH_MINUTES ?? 5)
const RATE = Number(process.env.BENCH_RATE ?? 20_000)
const WORKERS = process.env.BENCH_WORKERS ?? '2'
const MEMORY = process.env.BENCH_MEMORY === '1'
const TAILS = 5
const BATCH = 500
const MAX_IN_FLIGHT = 16
const REPORT_MS = 30_000
const APPS = ['api', 'web', 'worker', 'billing', 'auth', 'search', 'mailer', 'cron', 'gateway', 'images']
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'WARNING', 'ERROR']

let seq = 0
function eventLine (now) {
  const i = seq++
  const timeout = i % 97 === 0
  return JSON.stringify({
    timestamp: new Date(now).toISOString(),
    level: timeout ? 'ERROR' : LEVELS[i % LEVELS.length],
    app_name: APPS[i % APPS.length],
    message: timeout ? `upstream timeout after 30000 ms calling payments (attempt ${i % 3 + 1})` : `GET /api/orders/${i % 977} answered 200 in ${i % 90} ms`,
    hostname: `pod-${i % 12}`,
    req: { id: `r-${i}`, method: 'GET', url: `/api/orders/${i % 977}` },
    http: { status: timeout ? 504 : 200 },
    user: { id: `u-${i % 5000}` }
  })
}

/** The collector and its workers: pid and every descendant's (Linux /proc). */
function treePids (pid) {
  const pids = []
  const visit = p => {
    pids.push(p)
    try {
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(child)
      }
    } catch { /* gone */ }
  }
  visit(pid)
  return pids
}

/** RSS of the collector and its workers, MB (Linux /proc). */
function treeRssMb (pid) {
  let kb = 0
  for (const p of treePids(pid)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
      if (m) kb += Number(m[1])
    } catch { /* gone */ }
  }
  return Math.round(kb / 1024)
}

/**
 * CPU seconds the collector and its workers have used (Linux /proc: utime + stime of each live process, in
 * clock ticks of 1/100 s, the kernel's USER_HZ on Linux).
 */
function treeCpuS (pid) {
  let ticks = 0
  for (const p of treePids(pid)) {
    try {
      // The fields after the command (which may hold spaces), from the 3rd: utime and stime are the 14th and 15th.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch { /* gone */ }
  }
  return ticks / 100
}

/** Each process's last memory sample (memory-probe.cjs), MB. */
function memoryLines (memDir) {
  const mb = n => Math.round(n / 1048576)
  return readdirSync(memDir).map(f => {
    const samples = readFileSync(join(memDir, f), 'utf8').trim().split('\n')
    const m = JSON.parse(samples.at(-1))
    const young = m.spaces === undefined ? '' : ` (young generation ${mb(m.spaces.new)} MB, old ${mb(m.spaces.old)} MB: ${mb(m.oldLive)} MB live after the last of ${m.fullGcs} full GCs)`
    return `    ${m.role}: RSS ${mb(m.rss)} MB (anonymous ${mb(m.anon)}, file ${mb(m.file)}), heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB${young}, external ${mb(m.external)} MB (array buffers ${mb(m.arrayBuffers)} MB)`
  }).sort().join('\n')
}

function post (agent, port, body) {
  return new Promise(resolve => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/logs', headers: { 'content-type': 'application/x-ndjson' } }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

function get (agent, port, path) {
  return new Promise(resolve => {
    const req = request({ agent, host: '127.0.0.1', port, path }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', c => { text += c }).on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('error', err => resolve({ status: 0, text: err.message }))
    req.end()
  })
}

// The tails read in a thread of their own, so that parsing them never delays the paced ingest.
const TAIL_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { request } = require('node:http')
const DATA = Buffer.from('\\ndata: ')
const TS = Buffer.from('"timestamp":"')
const tails = []
for (let k = 0; k < workerData.tails; k++) {
  const t = { events: 0, newest: 0, carry: Buffer.alloc(0) }
  tails.push(t)
  request({ host: '127.0.0.1', port: workerData.port, path: '/logs/tail', headers: { accept: 'text/event-stream' } }, res => {
    res.on('data', chunk => {
      const buf = t.carry.length === 0 ? chunk : Buffer.concat([t.carry, chunk])
      let at = 0
      let last = -1
      while ((at = buf.indexOf(DATA, at)) !== -1) { t.events++; last = at; at += DATA.length }
      if (last !== -1) {
        const ts = buf.indexOf(TS, last)
        if (ts !== -1 && ts + TS.length + 24 <= buf.length) t.newest = Date.parse(buf.toString('latin1', ts + TS.length, ts + TS.length + 24))
      }
      // A "\\ndata: " split across two chunks is found in the next one.
      t.carry = buf.subarray(Math.max(buf.length - DATA.length + 1, 0))
    })
  }).end()
}
parentPort.on('message', () => parentPort.postMessage(tails.map(t => ({ events: t.events, newest: t.newest }))))
`

function startTails (port) {
  const worker = new Worker(TAIL_WORKER, { eval: true, workerData: { port, tails: TAILS } })
  return {
    read: () => new Promise(resolve => { worker.once('message', resolve); worker.postMessage('read') }),
    stop: () => worker.terminate()
  }
}

async function run (dashboard) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-read-load-'))
  const memDir = MEMORY ? mkdtempSync(join(tmpdir(), 'bench-read-load-memory-')) : undefined
  const probe = memDir === undefined
    ? {}
    : { BENCH_MEMORY: memDir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(here, 'memory-probe.cjs')}`.trim() }
  const collector = await startServer(collectorBin, { LOG_DIR: dir, WORKER_COUNT: WORKERS, ...probe })
  const port = collector.port
  let stopping = false
  collector.child.once('exit', (code, signal) => {
    if (!stopping) console.log('  the collector exited during the run (%s); its last lines:\n%s', signal ?? code, collector.lines.slice(-5).join('\n'))
  })
  // Ingest is spread over MAX_IN_FLIGHT connections, opened at once before the run (the workers take
  // connections in turn), each batch on the one idle longest (FIFO), as many shipping services' would be.
  // Before, a batch went out on the connection freed last, so one or two carried nearly all of them: one
  // run's workers took 48 % / 52 % of the events, the next one's 23 % / 77 %, and with them their memory.
  const ingestAgent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT, scheduling: 'fifo' })
  const queryAgent = new Agent({ keepAlive: true })
  // A tail opened before every worker's journal exists never reads the late one's (seen here: each tail
  // got half the events): open them once every worker answers /status.
  for (;;) {
    const { status, text } = await get(queryAgent, port, '/status')
    if (status === 200 && (Number(WORKERS) <= 1 || JSON.parse(text).workers_answering === Number(WORKERS))) break
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  const tails = startTails(port)
  await new Promise(resolve => setTimeout(resolve, 1000)) // the tails connect
  await Promise.all(Array.from({ length: MAX_IN_FLIGHT }, async () => await get(ingestAgent, port, '/health')))

  const started = Date.now()
  const cpuAtStart = treeCpuS(collector.child.pid)
  const endAt = started + MINUTES * 60_000
  let acked = 0
  let sent = 0
  let failed = 0
  let inFlight = 0
  const q = { fired: 0, answered: 0, partial: 0, refused: 0, timedOut: 0, errors: 0, inFlight: 0, maxInFlight: 0, slowestMs: 0 }
  const rss = {}
  const lines = []

  // Paced ingest: whatever the schedule says should have been sent by now, in batches, up to MAX_IN_FLIGHT.
  const pace = setInterval(() => {
    const now = Date.now()
    const due = Math.min(now, endAt) - started
    while (inFlight < MAX_IN_FLIGHT && sent + BATCH <= (due / 1000) * RATE) {
      let body = ''
      for (let k = 0; k < BATCH; k++) body += eventLine(now) + '\n'
      sent += BATCH
      inFlight++
      post(ingestAgent, port, body).then(status => {
        inFlight--
        if (status === 200) acked += BATCH
        else failed += BATCH
      })
    }
  }, 20)

  const fire = async path => {
    q.fired++
    q.inFlight++
    q.maxInFlight = Math.max(q.maxInFlight, q.inFlight)
    const t0 = Date.now()
    const { status, text } = await get(queryAgent, port, path)
    q.inFlight--
    q.slowestMs = Math.max(q.slowestMs, Date.now() - t0)
    if (status === 200) {
      if (text.includes('"partial":true')) q.partial++
      else q.answered++
    } else if (status === 503) q.refused++
    else if (status === 504) q.timedOut++
    else q.errors++
  }
  const board = dashboard
    ? setInterval(() => {
      void fire('/logs?app_name=api&q=timeout')
      void fire('/logs/histogram?app_name=api&from=1h')
    }, 2000)
    : undefined

  let lastAcked = 0
  let lastAt = started
  const report = async final => {
    const now = Date.now()
    const t = await tails.read()
    const minutes = (now - started) / 60_000
    const behind = Math.max(...t.map(x => acked - x.events))
    const lagS = Math.max(...t.map(x => x.newest === 0 ? Infinity : (now - x.newest) / 1000))
    // Each report: the rate since the last one; the final one: over the whole run.
    const rate = final ? acked / ((now - started) / 1000) : (acked - lastAcked) / ((now - lastAt) / 1000)
    lastAcked = acked
    lastAt = now
    const mb = treeRssMb(collector.child.pid)
    // Where the memory is (summed over workers by /metrics): the JavaScript heap, or buffers outside it.
    const metrics = await get(queryAgent, port, '/metrics')
    const gauge = name => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics.text)?.[1] ?? NaN) / 1048576)
    lines.push(`  ${final ? 'end ' : ''}${minutes.toFixed(1)} min: ingest ${fmt(rate)}/s (${fmt(acked)} acked${failed > 0 ? `, ${fmt(failed)} refused` : ''}), tails ≤ ${fmt(Math.max(behind, 0))} events / ${lagS.toFixed(2)} s behind, ` +
      (dashboard ? `queries ${q.answered} answered, ${q.partial} partial, ${q.refused} refused, ${q.timedOut} timed out, ${q.errors} errors, ${q.inFlight} in flight (max ${q.maxInFlight}, slowest ${(q.slowestMs / 1000).toFixed(1)} s), ` : '') +
      `RSS ${mb} MB (heap ${gauge('nodejs_heap_size_used_bytes')} MB, external ${gauge('nodejs_external_memory_bytes')} MB)`)
    console.log(lines.at(-1))
    if (memDir !== undefined) console.log(memoryLines(memDir))
    return { behind: Math.max(behind, 0), lagS, mb }
  }
  const reporter = setInterval(() => { void report(false) }, REPORT_MS)
  const rssAt1 = setTimeout(() => { rss.one = treeRssMb(collector.child.pid) }, Math.min(60_000, MINUTES * 60_000 - 1000))
  // RSS every 5 s as well: one sample swings by tens of MB with the answers in flight at that instant (a
  // 4-minute run: 416 MB at 80 s, 526 at 70 s), so growth is also read from each minute's median and low.
  const samples = []
  const sampler = setInterval(() => { samples.push({ s: (Date.now() - started) / 1000, mb: treeRssMb(collector.child.pid) }) }, RSS_SAMPLE_MS)
  await new Promise(resolve => setTimeout(resolve, endAt - Date.now()))
  clearInterval(pace)
  clearInterval(reporter)
  clearInterval(board)
  clearTimeout(rssAt1)
  clearInterval(sampler)
  const cpuS = treeCpuS(collector.child.pid) - cpuAtStart
  const end = await report(true)
  rss.end = end.mb
  const workers = JSON.parse((await get(queryAgent, port, '/status')).text).workers ?? []
  const shares = workers.map(w => `worker ${w.worker_id} ${Math.round(100 * (w.accepted_total ?? 0) / Math.max(acked, 1))} %`).join(', ')
  if (shares !== '') console.log(`  events accepted by each worker: ${shares}`)
  const seconds = (Date.now() - started) / 1000
  const result = { rate: acked / seconds, acked, failed, behind: end.behind, lagS: end.lagS, rssOne: rss.one, rssEnd: rss.end, second: minuteOf(samples, 1), last: minuteOf(samples, MINUTES - 1), queries: { ...q }, cpuS, seconds }
  await tails.stop()
  ingestAgent.destroy()
  queryAgent.destroy()
  stopping = true
  await collector.stop()
  rmSync(dir, { recursive: true, force: true })
  if (memDir !== undefined && process.env.BENCH_MEMORY_KEEP !== '1') rmSync(memDir, { recursive: true, force: true })
  else if (memDir !== undefined) console.log('  memory samples kept in %s', memDir)
  return result
}

/** RSS every this often, for each minute's median and low. */
const RSS_SAMPLE_MS = 5000

/** The median and lowest RSS (MB) of the samples taken in minute [m, m + 1) of the run; undefined if none. */
function minuteOf (samples, m) {
  const mbs = samples.filter(x => x.s >= m * 60 && x.s < (m + 1) * 60).map(x => x.mb).sort((x, y) => x - y)
  return mbs.length === 0 ? undefined : { median: mbs[mbs.length >> 1], low: mbs[0] }
}

const span = (a, b, key) => a === undefined || b === undefined ? '—' : `${a[key]} MB → ${b[key]} MB (${b[key] - a[key] >= 0 ? '+' : ''}${b[key] - a[key]})`

function column (r) {
  if (r === undefined) return ['—', '—', '—', '—', '—', '—', '—', '—', '—']
  const qs = r.queries
  return [
    `${fmt(r.rate)} /s`,
    `${fmt(r.behind)} events, ${r.lagS.toFixed(2)} s`,
    qs.fired === 0 ? 'none' : `${qs.answered} / ${qs.refused} / ${qs.partial + qs.timedOut}${qs.errors > 0 ? ` (${qs.errors} errors)` : ''}`,
    qs.fired === 0 ? '—' : `max ${qs.maxInFlight}, slowest ${(qs.slowestMs / 1000).toFixed(1)} s`,
    `${r.rssOne ?? '—'} MB → ${r.rssEnd} MB`,
    span(r.second, r.last, 'median'),
    span(r.second, r.last, 'low'),
    r.failed > 0 ? fmt(r.failed) : '0',
    `${fmt(Math.round(r.cpuS))} s (${(100 * r.cpuS / r.seconds).toFixed(0)} % of a core)`
  ]
}

const mode = process.env.BENCH_DASHBOARD
console.log('reads under load: %s min per run, ingest %s events/s paced, %d tails, WORKER_COUNT=%s, embedded', MINUTES, fmt(RATE), TAILS, WORKERS)
let base
let loaded
if (mode !== '1') {
  console.log('\nwithout the dashboard:')
  base = await run(false)
}
if (mode !== '0') {
  console.log('\nwith the dashboard (a search and a histogram every 2 s, never waiting):')
  loaded = await run(true)
}
const rows = ['ingest achieved', 'tail lag at the end', 'queries answered / refused / cut short', 'queries in flight', `RSS at ${Math.min(MINUTES, 1)} min → ${MINUTES} min (one sample each)`,
  `RSS median, minute 2 → minute ${MINUTES} (every 5 s)`, `RSS lowest, minute 2 → minute ${MINUTES}`, 'events refused at ingest', 'collector CPU over the run']
const a = column(base)
const b = column(loaded)
console.log('\n| | without dashboard | with dashboard |\n|---|---|---|')
rows.forEach((row, i) => console.log(`| ${row} | ${a[i]} | ${b[i]} |`))
if (base !== undefined && loaded !== undefined) {
  console.log('\ningest with / without: %s (goal ≥ 0.95×); tail lag with the dashboard %s s (goal ≤ 1 s); RSS growth %s MB at one sample each, %s MB by minute medians (goal ≤ 10 MB from minute 1 to 5)',
    ratio(loaded.rate, base.rate), loaded.lagS.toFixed(2), loaded.rssOne === undefined ? '—' : loaded.rssEnd - loaded.rssOne,
    loaded.second === undefined || loaded.last === undefined ? '—' : loaded.last.median - loaded.second.median)
}
