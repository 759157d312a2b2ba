// The count of a common word over compacted segments, and ingest while such counts loop: the two numbers of
// issue #24 this script isolates from bench:peers ("count ≥ 0.5× of VictoriaLogs", "ingest while a heavy
// count runs ≥ 0.7× of ingest alone"), on a LOG_DIR made once and reused between runs.
//
//   first run: generate (bench/peers data) ─► collector (JOURNAL_COMPACT=on, 16 MiB segments) ─► all compacted
//              ─► BENCH_DIR/logs kept, with the answers (meta.json)
//   each run:  copy of BENCH_DIR/logs ─► collector (the environment's settings, e.g. COUNT_WORKERS) ─►
//              count ×BENCH_RUNS (median) ─► ingest alone / with a count looping / alone ─► numbers
//
// BENCH_EVENTS (500,000), BENCH_SEED (24), BENCH_RUNS (5), BENCH_DIR (tmpdir/bench-count-<events>; kept),
// BENCH_CPU_PROF=<dir>: the collector writes a CPU profile there when it stops.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuSeconds, fmt, median, startServer } from './lib.mjs'
import { COMMON_WORD, generate } from './peers/generate.mjs'
import { get } from './peers/http.mjs'
import { ingest } from './peers/ingest.mjs'

const collectorBin = join(dirname(fileURLToPath(import.meta.url)), '..', 'collector', 'dist', 'bin.js')
const N = Number(process.env.BENCH_EVENTS ?? 500_000)
const SEED = Number(process.env.BENCH_SEED ?? 24)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const DIR = process.env.BENCH_DIR ?? join(tmpdir(), `bench-count-${N}`)
const HOUR = 3600_000
const COMPACT = { JOURNAL_COMPACT: 'on', JOURNAL_SEGMENT_BYTES: String(16 * 1024 * 1024) }

const ok = res => {
  if (res.status !== 200) throw new Error(`the collector refused a batch: ${res.status} ${res.text.slice(0, 300)}`)
}
const headers = { 'content-type': 'application/x-ndjson' }

async function prepare () {
  mkdirSync(DIR, { recursive: true })
  const end = Math.floor(Date.now() / HOUR) * HOUR
  const data = await generate({ file: join(DIR, 'events.ndjson'), n: N, seed: SEED, end })
  const logs = join(DIR, 'logs')
  const server = await startServer(collectorBin, { LOG_DIR: logs, WORKER_COUNT: '0', ...COMPACT })
  try {
    await ingest({ url: `http://127.0.0.1:${server.port}/logs`, data, file: join(DIR, 'events.ndjson'), headers, check: ok })
    // Every closed segment compacted, none half-way.
    for (;;) {
      const files = readdirSync(logs)
      if (files.filter(f => f.endsWith('.ndjson')).length <= 1 && !files.some(f => f.endsWith('.z.tmp'))) break
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  } finally {
    await server.stop()
  }
  writeFileSync(join(DIR, 'meta.json'), JSON.stringify(data))
}

if (!existsSync(join(DIR, 'meta.json'))) await prepare()
const data = JSON.parse(readFileSync(join(DIR, 'meta.json'), 'utf8'))
const work = mkdtempSync(join(tmpdir(), 'bench-count-run-'))
const logs = join(work, 'logs')
cpSync(join(DIR, 'logs'), logs, { recursive: true })
const prof = process.env.BENCH_CPU_PROF
// --cpu-prof is refused in NODE_OPTIONS: a small launcher starts the collector with it (CPU times then
// read the launcher's, so they are not printed right in that mode).
let bin = collectorBin
if (prof) {
  bin = join(work, 'profiled.cjs')
  writeFileSync(bin, `const c = require('node:child_process').spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=${prof}', ${JSON.stringify(collectorBin)}], { stdio: 'inherit' })
process.on('SIGTERM', () => c.kill('SIGTERM')); c.on('exit', code => process.exit(code ?? 0))`)
}
let server
try {
  server = await startServer(bin, { LOG_DIR: logs, WORKER_COUNT: '0', ...COMPACT })
  const base = `http://127.0.0.1:${server.port}`
  const window = `from=${new Date(data.start).toISOString()}&to=${new Date(data.end).toISOString()}`
  const count = async () => {
    const r = await get(`${base}/logs/histogram?${window}&q=${COMMON_WORD}&buckets=1`)
    const total = JSON.parse(r.text).total
    // Each loaded run ingests the batches again: the count grows by what was sent since, never shrinks.
    if (!(total >= data.counts.common)) throw new Error(`count ${total}, expected at least ${data.counts.common}: ${r.text.slice(0, 300)}`)
    return { ms: r.ms, total }
  }
  const first = await count()
  if (first.total !== data.counts.common) throw new Error(`count ${first.total}, expected ${data.counts.common}`)
  const times = []
  const cpu0 = cpuSeconds(server.child.pid)
  for (let i = 0; i < RUNS; i++) times.push((await count()).ms)
  const cpu = (cpuSeconds(server.child.pid) - cpu0) / RUNS
  console.log('# %s events compacted (%s), count of "%s" (%s matches): median %s ms of %d (first %s ms), %s ms of CPU each',
    fmt(N), DIR, COMMON_WORD, fmt(data.counts.common), fmt(median(times)), RUNS, fmt(first.ms), fmt(cpu * 1000))
  // With BENCH_CPU_PROF the profile is of the counts alone.
  if (!prof) {
    // Ingest a fifth of the data set (at least 100 batches) alone, with a count looping, alone again.
    const batches = Math.min(data.batches.length, Math.max(100, Math.floor(data.batches.length / 5)))
    const file = join(DIR, 'events.ndjson')
    const send = async () => {
      const r = await ingest({ url: `${base}/logs`, data, file, to: batches, headers, check: ok })
      return r.events / (r.ms / 1000)
    }
    const before = await send()
    let running = true
    const loadedMs = []
    const loop = (async () => { while (running) loadedMs.push((await count()).ms) })()
    const loaded = await send()
    running = false
    await loop
    const after = await send()
    const alone = (before + after) / 2
    console.log('# ingest alone %s ev/s (%s, %s), with a count looping %s ev/s = %s× (%d counts, median %s ms)',
      fmt(alone), fmt(before), fmt(after), fmt(loaded), (loaded / alone).toFixed(2), loadedMs.length, fmt(median(loadedMs)))
  }
} finally {
  await server?.stop()
  rmSync(work, { recursive: true, force: true })
}
