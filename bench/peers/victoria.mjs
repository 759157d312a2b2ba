// VictoriaLogs, the benchmark peer: built once from the Go module proxy into the cache directory the
// tests use for FerretDB, started on loopback with a temp storage dir, asked the table's queries in LogsQL.
//
//   go install …/app/victoria-logs@v1.52.2 ─► <cache>/victoria-logs-v1.52.2/victoria-logs (reused when there)
//   spawn -storageDataPath=<tmp> -httpListenAddr=127.0.0.1:<port> ─► /insert/jsonline ─► /select/logsql/query
//
// Nothing in the product or its tests depends on it.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/mongo/server.mjs'
import { get, ndjson } from './http.mjs'

export const VERSION = 'v1.52.2'
const MODULE = 'github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs'

// The same cache root as test/mongo/server.mjs's ferretBinary() (which does not export it).
const cacheRoot = () => process.env.MAAP_TEST_CACHE ||
  join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'maap-event-logger')

const hasGo = () => {
  try {
    execFileSync('go', ['version'], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
}

/** { bin } built on first use, or { reason } when it is not there and Go is missing or the build fails. */
export function victoriaBinary () {
  const dir = join(cacheRoot(), `victoria-logs-${VERSION}`)
  const bin = join(dir, 'victoria-logs')
  if (existsSync(bin)) return { bin }
  if (!hasGo()) return { reason: `Go is not installed, so VictoriaLogs ${VERSION} cannot be built (install Go, or put the binary at ${bin})` }
  mkdirSync(dir, { recursive: true })
  process.stderr.write(`# building VictoriaLogs ${VERSION} into ${dir} (first run only, a minute or two)…\n`)
  // go install writes the binary whole under GOBIN once it is linked; a failed build leaves none.
  try {
    execFileSync('go', ['install', `${MODULE}@${VERSION}`], { env: { ...process.env, GOBIN: dir }, stdio: ['ignore', 'inherit', 'inherit'], cwd: tmpdir() })
  } catch (err) {
    // Offline, or a proxy that refuses: our column is still worth measuring.
    return { reason: `building VictoriaLogs ${VERSION} failed (${err.message.split('\n')[0]}; Go's output is above)` }
  }
  return { bin }
}

/** Starts VictoriaLogs; resolves once /health answers. */
export async function startVictoria (bin) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-peers-vl-'))
  const port = await freePort()
  const log = openSync(join(dataDir, 'victoria-logs.log'), 'a')
  const child = spawn(bin, [`-storageDataPath=${join(dataDir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=WARN'],
    { stdio: ['ignore', log, log] })
  let stopping = false
  const exited = new Promise(resolve => child.once('exit', (code, signal) => {
    // Said at once: on a shared machine something else may end it, and every later number would be wrong.
    if (!stopping) console.error(`# VictoriaLogs (pid ${child.pid}) exited on its own: code ${code}, signal ${signal}`)
    resolve()
  }))
  const base = `http://127.0.0.1:${port}`
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`VictoriaLogs exited (${child.exitCode}) at start; see ${join(dataDir, 'victoria-logs.log')}`)
    try {
      await get(`${base}/health`)
      break
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  return {
    name: 'VictoriaLogs',
    pid: child.pid,
    dataDir: join(dataDir, 'data'),
    home: dataDir,
    ingestUrl: `${base}/insert/jsonline?_stream_fields=app_name&_time_field=timestamp&_msg_field=message`,
    ingestHeaders: { 'content-type': 'application/stream+json' },
    check (res) {
      if (res.status !== 200 && res.status !== 204) throw new Error(`VictoriaLogs refused a batch: ${res.status} ${res.text}`)
    },
    // Makes what was ingested searchable now rather than within a second; used only while waiting for counts.
    flush: () => get(`${base}/internal/force_flush`),
    queries: victoriaQueries(base),
    async stop () {
      stopping = true
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}

/** The table's queries in LogsQL, each answered in the shape ../peers.mjs compares. */
function victoriaQueries (base) {
  const ask = (query, opts) => get(`${base}/select/logsql/query?query=${encodeURIComponent(query)}`, opts)
  const window = w => `_time:[${new Date(w.start).toISOString()}, ${new Date(w.end).toISOString()})`
  const newest = async query => {
    const r = await ask(`${query} | sort by (_time desc) | limit 100`)
    return { ms: r.ms, answer: ndjson(r.text).map(e => Date.parse(e._time)) }
  }
  const count = async query => {
    const r = await ask(`${query} | stats count() as n`)
    const rows = ndjson(r.text)
    return { ms: r.ms, answer: rows.length === 0 ? 0 : Number(rows[0].n) }
  }
  return {
    total: w => count(window(w)),
    newestRare: (w, word) => newest(`${window(w)} "${word}"`),
    newestAppErrors: (w, app) => newest(`${window(w)} _stream:{app_name="${app}"} level:in(error, fatal)`),
    countWord: (w, word) => count(`${window(w)} "${word}"`),
    async exportWord (w, word) {
      const r = await ask(`${window(w)} "${word}"`, { count: true })
      return { ms: r.ms, answer: { lines: r.lines, bytes: r.bytes } }
    },
    async histogram (w, levels) {
      const r = await ask(`${window(w)} | stats by (_time:1h, level) count() as n`)
      const hours = Array.from({ length: 24 }, () => Object.fromEntries(levels.map(l => [l.stored, 0])))
      const stored = Object.fromEntries(levels.map(l => [l.name, l.stored]))
      for (const row of ndjson(r.text)) {
        const h = Math.floor((Date.parse(row._time) - w.start) / 3600_000)
        hours[h][stored[row.level] ?? row.level] = Number(row.n)
      }
      return { ms: r.ms, answer: hours }
    }
  }
}
