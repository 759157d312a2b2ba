// Compacted segments, measured: disk before/after, the compaction rate (MB/s of NDJSON, CPU s per GB), and
// the count / histogram times over NDJSON vs compacted, side by side.
//
//   generate (bench/peers data) ─► collector (JOURNAL_COMPACT=off) ─► queries over NDJSON ─► stop
//     ─► compactSegment on every segment, here, timed ─► collector again ─► the same queries over .z
//
// BENCH_EVENTS (default 300,000), BENCH_SEED (1), BENCH_RUNS (5: the median is printed), BENCH_FORMAT (the
// compacted format version written: 4, the default (lines in pieces by template), or 3, 2 or 1 to compare with the older forms).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { startServer } from './lib.mjs'
import { generate, COMMON_WORD } from './peers/generate.mjs'
import { ingest } from './peers/ingest.mjs'
import { get } from './peers/http.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const collectorBin = join(root, 'collector', 'dist', 'bin.js')
const require = createRequire(import.meta.url)
const { compactSegment } = require(join(root, 'collector', 'dist', 'journal', 'compacted', 'compact-segment.js'))
const { FORMAT_VERSION } = require(join(root, 'collector', 'dist', 'journal', 'compacted', 'format.js'))
const { readBlockBytes, readFooter } = require(join(root, 'collector', 'dist', 'journal', 'segment-file.js'))
const N = Number(process.env.BENCH_EVENTS ?? 300_000)
const SEED = Number(process.env.BENCH_SEED ?? 1)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const FORMAT = Number(process.env.BENCH_FORMAT ?? FORMAT_VERSION)

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const mb = bytes => (bytes / 1e6).toFixed(1)
const diskOf = dir => readdirSync(dir).filter(f => f.startsWith('maap-')).reduce((n, f) => n + statSync(join(dir, f)).size, 0)

async function queries (port, data) {
  const window = `from=${new Date(data.start).toISOString()}&to=${new Date(data.end).toISOString()}`
  const run = async path => {
    const times = []
    let answer
    for (let i = 0; i < RUNS; i++) {
      const r = await get(`http://127.0.0.1:${port}${path}`)
      times.push(r.ms)
      answer = JSON.parse(r.text).total
    }
    return { ms: median(times), answer }
  }
  return {
    count: await run(`/logs/histogram?${window}&q=${COMMON_WORD}&buckets=1`),
    histogram: await run(`/logs/histogram?${window}&buckets=24`),
    countApp: await run(`/logs/histogram?${window}&app_name=billing&level=ERROR&buckets=1`),
    histogramApp: await run(`/logs/histogram?${window}&app_name=billing&buckets=24`)
  }
}

const work = mkdtempSync(join(tmpdir(), 'bench-compact-'))
const logDir = join(work, 'logs')
const file = join(work, 'data.ndjson')
console.log(`# ${N} events (seed ${SEED}), ${RUNS} runs per query, LOG_DIR ${logDir}`)
const data = await generate({ file, n: N, seed: SEED, end: Date.now() })
const env = { LOG_DIR: logDir, JOURNAL_COMPACT: 'off', JOURNAL_SEGMENT_BYTES: String(64 * 1024 * 1024) }

let server = await startServer(collectorBin, env)
await ingest({ url: `http://127.0.0.1:${server.port}/logs`, data, file, headers: { 'content-type': 'application/x-ndjson' }, check: () => {} })
const before = await queries(server.port, data)
await server.stop()
const segments = readdirSync(logDir).filter(f => /^maap-.*\.ndjson$/.test(f)).sort()
const diskBefore = diskOf(logDir)

const cpu0 = process.cpuUsage()
const t0 = performance.now()
let bytesIn = 0
for (const name of segments) bytesIn += (await compactSegment(logDir, name, undefined, true, FORMAT)).bytesIn
const seconds = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
const diskAfter = diskOf(logDir)

// Every block's lines read back (what a newest-100 query or an export decodes), one block at a time: the
// median wall time per block and the CPU per MB of original lines (the thread pool's brotli included).
const blockMs = []
const readCpu0 = process.cpuUsage()
for (const name of segments) {
  const path = join(logDir, `${name}.z`)
  const fh = await open(path, 'r')
  const footer = await readFooter(fh, path, false)
  for (const b of footer.blocks) {
    const t = performance.now()
    await readBlockBytes(fh, path, b)
    blockMs.push(performance.now() - t)
  }
  await fh.close()
}
const readCpu = process.cpuUsage(readCpu0)

server = await startServer(collectorBin, env)
const after = await queries(server.port, data)
await server.stop()

console.log(`segments             ${segments.length}`)
console.log(`disk                 ${mb(diskBefore)} MB NDJSON → ${mb(diskAfter)} MB compacted (${(diskBefore / diskAfter).toFixed(2)}× smaller)`)
console.log(`compaction           format ${FORMAT}: ${(bytesIn / 1e6 / seconds).toFixed(1)} MB/s of NDJSON, ${(cpuSeconds / (bytesIn / 1e9)).toFixed(1)} CPU s per GB (one thread)`)
console.log(`block read           ${median(blockMs).toFixed(2)} ms per block (median of ${blockMs.length}), ${((readCpu.user + readCpu.system) / 1e3 / (bytesIn / 1e6)).toFixed(2)} CPU ms per MB of lines`)
console.log('query                          NDJSON      compacted   same answer')
for (const [name, label] of [['count', `count of "${COMMON_WORD}"`], ['histogram', '24 × 1 h histogram'], ['countApp', 'count billing ERROR'], ['histogramApp', '24 × 1 h histogram of billing']]) {
  const b = before[name]
  const a = after[name]
  console.log(`${label.padEnd(30)} ${b.ms.toFixed(0).padStart(6)} ms   ${a.ms.toFixed(0).padStart(6)} ms   ${a.answer === b.answer ? 'yes' : `NO (${b.answer} vs ${a.answer})`}`)
}
rmSync(work, { recursive: true, force: true })
