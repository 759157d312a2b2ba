// Our collector in embedded mode (no MONGODB_URI: the journal is the store), in a temp LOG_DIR, asked the
// table's queries through its own read API (see collector/README.md, "Reading your logs").
//
//   collector/dist/bin.js (LOG_DIR=<tmp>, WORKER_COUNT) ─► POST /logs (NDJSON) ─► GET /logs, /logs/histogram
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer } from '../lib.mjs'
import { get } from './http.mjs'

const collectorBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'collector', 'dist', 'bin.js')

/**
 * Starts a collector; `workers` is its WORKER_COUNT (0: one process); `compact`: JOURNAL_COMPACT=on, and
 * `compacted()` waits until every closed segment is in its compacted form.
 */
export async function startOurs ({ workers = 0, compact = false } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-peers-ours-'))
  // Compacted: 16 MiB segments, so that nearly all the data is in closed (compacted) segments, as on a
  // collector that has run for a while; with the default 64 MiB a seventh of it would still be NDJSON.
  const env = compact ? { JOURNAL_COMPACT: 'on', JOURNAL_SEGMENT_BYTES: String(16 * 1024 * 1024) } : { JOURNAL_COMPACT: 'off' }
  const server = await startServer(collectorBin, { LOG_DIR: dataDir, WORKER_COUNT: String(workers), ...env })
  const base = `http://127.0.0.1:${server.port}`
  let stopping = false
  // Said at once: on a shared machine something else may end it, and every later number would be wrong.
  server.child.once('exit', (code, signal) => {
    if (!stopping) console.error(`# the collector (pid ${server.child.pid}) exited on its own: code ${code}, signal ${signal}`)
  })
  return {
    name: (workers > 1 ? `ours (WORKER_COUNT=${workers})` : 'ours') + (compact ? ' compacted' : ''),
    pid: server.child.pid,
    dataDir,
    home: dataDir,
    ingestUrl: `${base}/logs`,
    ingestHeaders: { 'content-type': 'application/x-ndjson' },
    check (res) {
      const body = res.status === 200 ? JSON.parse(res.text) : undefined
      if (body?.status !== 'success') throw new Error(`the collector refused (part of) a batch: ${res.status} ${res.text.slice(0, 500)}`)
    },
    flush: async () => {},
    // The segment each process writes stays NDJSON; every other one compacted, none half-way (.z.tmp).
    // With WORKER_COUNT > 1 each worker journals in its own worker-<i>/ directory.
    compacted: compact
      ? async (limitMs = 600_000) => {
        const t0 = performance.now()
        const settled = dir => {
          const files = readdirSync(dir)
          return files.filter(f => f.endsWith('.ndjson')).length <= 1 && !files.some(f => f.endsWith('.z.tmp'))
        }
        for (;;) {
          const dirs = [dataDir, ...readdirSync(dataDir, { withFileTypes: true }).filter(d => d.isDirectory() && /^worker-\d+$/.test(d.name)).map(d => join(dataDir, d.name))]
          if (dirs.every(settled)) return performance.now() - t0
          if (performance.now() - t0 > limitMs) throw new Error(`segments still not compacted after ${limitMs / 1000} s`)
          await new Promise(resolve => setTimeout(resolve, 500))
        }
      }
      : undefined,
    queries: ourQueries(base),
    stop: () => {
      stopping = true
      return server.stop()
    }
  }
}

function ourQueries (base) {
  const window = w => `from=${new Date(w.start).toISOString()}&to=${new Date(w.end).toISOString()}`
  const json = async path => {
    const r = await get(`${base}${path}`)
    return { ms: r.ms, body: JSON.parse(r.text) }
  }
  const newest = async path => {
    const { ms, body } = await json(path)
    return { ms, answer: body.events.map(e => Date.parse(e.timestamp)) }
  }
  // A count is the histogram's total over one bucket: the collector has no route that only counts.
  const count = async path => {
    const { ms, body } = await json(path)
    return { ms, answer: body.total }
  }
  return {
    total: w => count(`/logs/histogram?${window(w)}&buckets=1`),
    newestRare: (w, word) => newest(`/logs?${window(w)}&q=${encodeURIComponent(word)}&limit=100`),
    newestAppErrors: (w, app) => newest(`/logs?${window(w)}&app_name=${encodeURIComponent(app)}&level=ERROR&limit=100`),
    countWord: (w, word) => count(`/logs/histogram?${window(w)}&q=${encodeURIComponent(word)}&buckets=1`),
    async exportWord (w, word) {
      const r = await get(`${base}/logs?${window(w)}&q=${encodeURIComponent(word)}`, { headers: { accept: 'application/x-ndjson' }, count: true })
      return { ms: r.ms, answer: { lines: r.lines, bytes: r.bytes } }
    },
    async histogram (w, levels) {
      const { ms, body } = await json(`/logs/histogram?${window(w)}&buckets=24`)
      const hours = body.times.map((_, k) => Object.fromEntries(levels.map(l => [l.stored, body.levels[l.stored]?.[k] ?? 0])))
      return { ms, answer: hours }
    }
  }
}
