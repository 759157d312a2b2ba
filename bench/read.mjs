// npm run bench:read — the read side, each figure next to its baseline measured in the same run:
//   1. embedded search over a journal of BENCH_READ_GB (default 1) GB: the newest 100 of one app (cold, then
//      warm), and a selective search (1 match in 10,000 lines) over all of it in MB/s next to `grep -c` over
//      the same segment files (goal ≥ 0.5× grep); the same searches written in the query language next to
//      the older parameters, alternating (goal ≥ 0.9×), and `http.status >= 500` (no needle: every line
//      parsed) exported over all of it;
//   2. MongoDB search through the API vs the same find() through the driver on the same server (goal ≥ 0.8×);
//   3. ingest rate with 20 tail clients connected vs none (goal ≥ 0.9×), and ack → tail delivery p50/p99
//      (goal p99 ≤ 50 ms).
// Everything runs on 127.0.0.1. `node bench/read.mjs embedded|mongo|tail` runs one part.
import autocannon from 'autocannon'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { normaliseEvent } from '../collector/dist/index.js'
import { cpuSeconds, fmt, median, ratio, startServer } from './lib.mjs'
import { startMongoServer } from '../test/mongo/server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const APPS = ['api', 'web', 'worker', 'billing', 'auth', 'search', 'mailer', 'cron', 'gateway', 'images']
const NEEDLE = 'needle-xyzzy'
const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }

function eventOf (i, ts) {
  return {
    level: ['info', 'info', 'info', 'debug', 'warn', 'error'][i % 6],
    timestamp: ts,
    app_name: APPS[i % APPS.length],
    message: i % 10_000 === 5_000 ? `payment ${NEEDLE} declined for order ${i}` : `GET /api/orders/${i % 977} answered 200 in ${i % 90} ms`,
    pid: 4242,
    hostname: 'bench-host',
    req: { id: i, method: 'GET', url: `/api/orders/${i % 977}` },
    http: { status: i % 1000 === 7 ? 503 : 200 },
    order: i % 10_000 === 5_000 ? NEEDLE : `ord-${i % 977}`
  }
}

/** Writes ≈ `bytes` of journal segments (64 MB each) the way the collector writes them. */
async function writeJournal (dir, bytes) {
  const segmentBytes = 64 * 1024 * 1024
  let seq = 0
  let written = 0
  let i = 0
  const start = Date.now() - 3 * 3600_000
  while (written < bytes) {
    seq++
    const name = `maap-20261130T${String(Math.floor(seq / 60)).padStart(2, '0')}${String(seq % 60).padStart(2, '0')}00Z-${String(seq).padStart(6, '0')}.ndjson`
    const fh = await open(join(dir, name), 'wx')
    let size = 0
    while (size < segmentBytes && written + size < bytes) {
      let chunk = ''
      for (let k = 0; k < 2000; k++, i++) {
        const r = normaliseEvent(eventOf(i, start + Math.floor(i / 4)), { limits, receivedAt: new Date(start + Math.floor(i / 4)).toISOString() })
        chunk += r.line + '\n'
      }
      await fh.write(chunk)
      size += Buffer.byteLength(chunk)
    }
    await fh.close()
    written += size
  }
  return { events: i, bytes: written }
}

function get (port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    request({ host: '127.0.0.1', port, path, headers }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c)).on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode, body: Buffer.concat(chunks).toString() }))
    }).on('error', reject).end()
  })
}

function timeGrep (args, files) {
  const t0 = performance.now()
  let out
  try {
    out = execFileSync('grep', [...args, NEEDLE, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 })
  } catch (err) {
    out = err.stdout // grep -c exits 1 on files without a match
  }
  const ms = performance.now() - t0
  return { ms, count: out.split('\n').filter(Boolean).reduce((n, l) => n + Number(l.split(':').at(-1)), 0) }
}

async function embedded () {
  const gb = Number(process.env.BENCH_READ_GB ?? 1)
  const dir = mkdtempSync(join(tmpdir(), 'bench-read-'))
  try {
    const t0 = performance.now()
    const { events, bytes } = await writeJournal(dir, gb * 1024 ** 3)
    console.log('\n1. embedded search: %s events, %s MB of journal segments (written in %s s)', fmt(events), fmt(bytes / 1024 ** 2), ((performance.now() - t0) / 1000).toFixed(1))
    const files = execFileSync('sh', ['-c', `ls ${dir}/maap-*.ndjson`], { encoding: 'utf8' }).trim().split('\n')
    // Page cache warm for both sides: the same files read once before either is timed.
    timeGrep(['-c', '-F'], files)
    const collector = await startServer(collectorBin, { LOG_DIR: dir })
    try {
      const cold = await get(collector.port, '/logs?app_name=api&limit=100')
      const warm = []
      for (let k = 0; k < 5; k++) warm.push((await get(collector.port, '/logs?app_name=api&limit=100')).ms)
      console.log('   newest 100 of one app : first %s ms (indexes every block\'s time bounds once), then %s ms (median of 5)', cold.ms.toFixed(0), median(warm).toFixed(1))
      const mbps = ms => (bytes / 1024 ** 2) / (ms / 1000)
      const timed = async path => {
        const runs = []
        let found = 0
        for (let k = 0; k < 3; k++) {
          const r = await get(collector.port, path)
          found = JSON.parse(r.body).events.length
          runs.push(r.ms)
        }
        return { found, mbps: mbps(median(runs)) }
      }
      const grepRate = args => {
        const runs = [0, 1, 2].map(() => timeGrep(args, files))
        return { mbps: mbps(median(runs.map(r => r.ms))), count: runs[0].count }
      }
      const field = await timed(`/logs?f.order=${NEEDLE}&limit=1000`)
      const text = await timed(`/logs?q=${NEEDLE}&limit=1000`)
      const { mbps: grepC, count: grepCount } = grepRate(['-c'])
      const { mbps: grepCi } = grepRate(['-c', '-i'])
      console.log('   selective search, 1 line in 10,000 (%s matches; grep -c counts %s):', fmt(field.found), fmt(grepCount))
      console.log('     f.order=<value> (exact)           : %s MB/s  vs grep -c  %s MB/s → %s (goal ≥ 0.5×)', fmt(field.mbps), fmt(grepC), ratio(field.mbps, grepC))
      console.log('     q=<text> (case-insensitive)       : %s MB/s  vs grep -ci %s MB/s → %s (vs grep -c: %s)', fmt(text.mbps), fmt(grepCi), ratio(text.mbps, grepCi), ratio(text.mbps, grepC))

      // The query language against the parameters it stands for, alternating so both meet the same machine.
      const q = text => '/logs?query=' + encodeURIComponent(text)
      const pairs = [
        ['newest 100 of one app', '/logs?app_name=api&limit=100', q('app_name = api') + '&limit=100'],
        ['one app, ≥ WARNING, 100', '/logs?app_name=api&level=warning&limit=100', q('app_name = api and level >= warning') + '&limit=100'],
        ['field = value, 1 in 10,000', `/logs?f.order=${NEEDLE}&limit=1000`, q(`order = ${NEEDLE}`) + '&limit=1000'],
        ['word in message, 1 in 10,000', `/logs?q=${NEEDLE}&limit=1000`, q(NEEDLE) + '&limit=1000']
      ]
      console.log('   the query language vs the parameters it stands for (medians of 99 pairs, 11 for the scans; each first half the time):')
      for (const [label, params, expr] of pairs) {
        const a = []
        const b = []
        let same = true
        // Millisecond searches need many pairs before the machine's jitter averages out.
        const pairsToRun = (await get(collector.port, params)).ms < 50 ? 100 : 12
        for (let k = 0; k < pairsToRun; k++) {
          // Each goes first half the time: the second of a pair finds the first one's blocks warm.
          const [ra, rb] = k % 2 === 0
            ? [await get(collector.port, params), await get(collector.port, expr)]
            : await get(collector.port, expr).then(async rb => [await get(collector.port, params), rb])
          if (k === 0) { same = JSON.stringify(JSON.parse(ra.body).events) === JSON.stringify(JSON.parse(rb.body).events); continue }
          a.push(ra.ms)
          b.push(rb.ms)
        }
        console.log('     %s: parameters %s ms, query %s ms → %s as fast (goal ≥ 0.9×)%s', label.padEnd(30), median(a).toFixed(1), median(b).toFixed(1), ratio(median(a), median(b)), same ? '' : '  ANSWERS DIFFER')
      }
      const exportAll = async path => {
        const r = await get(collector.port, path, { accept: 'application/x-ndjson' })
        return { ms: r.ms, lines: r.body.split('\n').filter(Boolean).length }
      }
      // Neither has text to search for (a number may be written in many ways): every line is parsed.
      const statusRuns = []
      const fieldRuns = []
      let status
      let field500
      for (let k = 0; k < 3; k++) {
        status = await exportAll(q('http.status >= 500'))
        field500 = await exportAll('/logs?f.http.status=503')
        statusRuns.push(status.ms)
        fieldRuns.push(field500.ms)
      }
      console.log('     http.status >= 500, every match exported (every line parsed): %s events, %s ms, %s MB/s; f.http.status=503 alternating with it: %s events, %s ms, %s MB/s (medians of 3)',
        fmt(status.lines), median(statusRuns).toFixed(0), fmt(mbps(median(statusRuns))), fmt(field500.lines), median(fieldRuns).toFixed(0), fmt(mbps(median(fieldRuns))))
    } finally {
      await collector.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function mongo () {
  const n = Number(process.env.BENCH_READ_MONGO_EVENTS ?? 20_000)
  const server = await startMongoServer({ kind: process.env.MONGODB_URI ? 'external' : undefined })
  const client = new MongoClient(server.uri)
  const dbName = 'bench_read'
  const dir = mkdtempSync(join(tmpdir(), 'bench-read-mongo-'))
  try {
    await client.db(dbName).dropDatabase()
    const collector = await startServer(collectorBin, { LOG_DIR: dir, MONGODB_URI: server.uri, MONGODB_DB_NAME: dbName, FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '5000', MAX_DOCUMENTS: '0' })
    try {
      const start = Date.now() - 3600_000
      for (let done = 0; done < n; done += 1000) {
        const body = Array.from({ length: 1000 }, (_, k) => JSON.stringify(eventOf(done + k, start + done + k))).join('\n')
        await fetch(`http://127.0.0.1:${collector.port}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body }).then(r => r.arrayBuffer())
      }
      await fetch(`http://127.0.0.1:${collector.port}/force-flush`, { method: 'POST' }).then(r => r.arrayBuffer())
      const coll = client.db(dbName).collection('logs')
      console.log('\n2. MongoDB search (%s, %s documents): API vs the driver\'s own find() on the same server', server.kind, fmt(await coll.countDocuments()))
      const cases = [
        ['newest 100 of one app', '/logs?app_name=api&limit=100', () => coll.find({ app_name: 'api' }).sort({ timestamp: -1, _id: -1 }).limit(101).toArray()],
        ['level ≥ ERROR, 100', '/logs?level=error&limit=100', () => coll.find({ level: { $in: ['ERROR', 'CRITICAL'] } }).sort({ timestamp: -1, _id: -1 }).limit(101).toArray()],
        ['text in message, 100', '/logs?q=orders%2F97&limit=100', () => coll.find({ message: { $regex: 'orders/97', $options: 'i' } }).sort({ timestamp: -1, _id: -1 }).limit(101).toArray()]
      ]
      for (const [label, path, driver] of cases) {
        await get(collector.port, path)
        await driver()
        const api = []
        const drv = []
        for (let k = 0; k < 5; k++) {
          api.push((await get(collector.port, path)).ms)
          const t0 = performance.now()
          await driver()
          drv.push(performance.now() - t0)
        }
        console.log('   %s: API %s ms, driver %s ms (medians of 5)  → API speed %s the driver\'s (goal ≥ 0.8×)', label.padEnd(22), median(api).toFixed(1), median(drv).toFixed(1), ratio(median(drv), median(api)))
      }
    } finally {
      await collector.stop()
    }
  } finally {
    await client.close()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** SSE clients that count events and, for one of them, time from send to arrival (the event carries sent_at). */
function tailClients (port, count, latencies) {
  const reqs = []
  for (let k = 0; k < count; k++) {
    const req = request({ host: '127.0.0.1', port, path: '/logs/tail', headers: { accept: 'text/event-stream' } }, res => {
      res.setEncoding('utf8')
      let buf = ''
      res.on('data', chunk => {
        if (k !== 0 || latencies === undefined) return
        buf += chunk
        let at
        while ((at = buf.indexOf('"sent_at":')) !== -1) {
          const sent = Number(buf.slice(at + 10, buf.indexOf(',', at)))
          latencies.push(performance.now() + performance.timeOrigin - sent)
          buf = buf.slice(at + 10)
        }
      })
    })
    req.on('error', () => {})
    req.end()
    reqs.push(req)
  }
  return () => reqs.forEach(r => r.destroy())
}

/** `count` tail clients in a child process of their own, reading as fast as they can. */
async function tailProcess (port, count) {
  if (count === 0) return () => 0
  const code = `
    const { request } = require('node:http'); let open = 0
    for (let k = 0; k < ${count}; k++) request({ host: '127.0.0.1', port: ${port}, path: '/logs/tail' }, res => { res.on('data', () => {}); if (++open === ${count}) process.stdout.write('ready\\n') }).end()`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise(resolve => child.stdout.once('data', resolve))
  return () => {
    // The CPU the readers used: they share the machine's cores.
    const used = cpuSeconds(child.pid)
    child.kill()
    return used
  }
}

/** Bytes an SSE frame adds to its journal line: `id: <position>\ndata: ` and the blank line. */
const FRAME_OVERHEAD = 'id: 20261130T010000Z-000001.123456789\ndata: \n\n'.length

async function ingestRate (tails) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-read-tail-'))
  const collector = await startServer(collectorBin, { LOG_DIR: dir, MAX_TAIL_CLIENTS: '100' })
  const close = await tailProcess(collector.port, tails)
  const seconds = Number(process.env.BENCH_SECONDS ?? 10)
  const body = Array.from({ length: 100 }, (_, k) => JSON.stringify(eventOf(k, Date.now()))).join('\n')
  const r = await new Promise((resolve, reject) => autocannon({ url: `http://127.0.0.1:${collector.port}/logs`, method: 'POST', duration: seconds, connections: 8, headers: { 'content-type': 'application/x-ndjson' }, body }, (err, res) => err ? reject(err) : resolve(res)))
  const readerCpu = close()
  await collector.stop()
  // The SSE frame of one event as the tails received it: its journal line plus the id and framing.
  const journalBytes = readdirSync(dir).filter(n => n.endsWith('.ndjson')).reduce((n, f) => n + statSync(join(dir, f)).size, 0)
  const journalLines = r.requests.total * 100
  rmSync(dir, { recursive: true, force: true })
  return { rate: r.requests.average * 100, readerCpu, seconds, frameBytes: journalBytes / journalLines + FRAME_OVERHEAD }
}

/**
 * The machine's own cost of fan-out, with no collector involved: this process writes one 256 KB buffer
 * to `count` loopback sockets as fast as a reader process takes it. Returns the CPU-seconds (writer and
 * reader together) each byte delivered costs: what any server pays to hand a tail its copy.
 */
async function loopbackCostPerByte (count) {
  const chunk = Buffer.alloc(256 * 1024, 'x')
  const sockets = []
  const server = createServer(s => { s.on('error', () => {}); sockets.push(s) })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const reader = spawn(process.execPath, ['-e', `const net = require('node:net')
    for (let k = 0; k < ${count}; k++) net.connect(${port}, '127.0.0.1').on('data', () => {}).on('error', () => {})`], { stdio: 'inherit' })
  while (sockets.length < count) await new Promise(resolve => setTimeout(resolve, 10))
  let bytes = 0
  let running = true
  const pump = s => {
    while (running && s.write(chunk)) bytes += chunk.length
    if (running) s.once('drain', () => { bytes += chunk.length; pump(s) })
  }
  const cpu0 = process.cpuUsage()
  const reader0 = cpuSeconds(reader.pid)
  sockets.forEach(pump)
  await new Promise(resolve => setTimeout(resolve, 3000))
  running = false
  const cpu = process.cpuUsage(cpu0)
  const used = (cpu.user + cpu.system) / 1e6 + cpuSeconds(reader.pid) - reader0
  reader.kill()
  sockets.forEach(s => s.destroy())
  server.close()
  return used / bytes
}

async function tail () {
  console.log('\n3. live tail')
  const none = await ingestRate(0)
  const twenty = await ingestRate(20)
  console.log('   ingest, NDJSON batches of 100, 8 connections: %s events/s with no tail, %s with 20 tails  → %s (goal ≥ 0.9×)', fmt(none.rate), fmt(twenty.rate), ratio(twenty.rate, none.rate))
  console.log('   the 20 tail readers (a process of their own on this machine) used %s CPU-s in the %d s run, %s%% of its 2 cores', twenty.readerCpu.toFixed(1), twenty.seconds, (100 * twenty.readerCpu / (2 * twenty.seconds)).toFixed(0))
  // The ceiling of this machine: with no tail, ingest (collector and load generator) already takes both
  // cores, so each event costs 2 / rate CPU-seconds; every tail adds at least the loopback cost of its
  // copy of the event's frame, on the same cores.
  const perByte = await loopbackCostPerByte(20)
  const frameBytes = twenty.frameBytes
  const perEvent = 2 / none.rate
  const fanOut = 20 * frameBytes * perByte
  const ceiling = none.rate * perEvent / (perEvent + fanOut)
  console.log('   this machine\'s floor for the fan-out: %s µs of CPU per event for 20 copies of its %s-byte frame over loopback (no collector: one buffer written to 20 sockets)',
    (fanOut * 1e6).toFixed(2), fmt(frameBytes))
  console.log('   → on 2 cores shared by the load generator, the collector and the readers, 20 tails allow at most %s events/s (%s of no tail); measured %s of that ceiling',
    fmt(ceiling), ratio(ceiling, none.rate), ratio(twenty.rate, ceiling))
  const dir = mkdtempSync(join(tmpdir(), 'bench-read-latency-'))
  const collector = await startServer(collectorBin, { LOG_DIR: dir })
  const latencies = []
  const close = tailClients(collector.port, 20, latencies)
  await new Promise(resolve => setTimeout(resolve, 300))
  // One event every 5 ms from a client: ack → tail delivery, as a user watching sees it.
  for (let k = 0; k < 1000; k++) {
    await fetch(`http://127.0.0.1:${collector.port}/log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'latency probe', app_name: 'probe', sent_at: performance.now() + performance.timeOrigin, k }) }).then(r => r.arrayBuffer())
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  await new Promise(resolve => setTimeout(resolve, 300))
  close()
  await collector.stop()
  rmSync(dir, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  const pct = p => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]
  console.log('   send → tail delivery with 20 tails (1,000 events, one each 5 ms): p50 %s ms, p99 %s ms, %s of 1,000 delivered (goal p99 ≤ 50 ms)', pct(0.5).toFixed(1), pct(0.99).toFixed(1), fmt(latencies.length))
}

const only = process.argv[2]
if (!only || only === 'embedded') await embedded()
if (!only || only === 'mongo') await mongo()
if (!only || only === 'tail') await tail()
