// npm run bench:ship — maap-ship fed BENCH_LINES (default 1,000,000) pino-shaped NDJSON lines on stdin,
// shipping to a local collector (embedded journal): lines/s acknowledged (spawn → exit 0, which comes
// only after every line was acknowledged) and maap-ship's peak RSS (bar < 100 MB). Loopback only.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, peakRssMb, startServer } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
// The bin launcher, as npm links it: what users run.
const cli = join(here, '..', 'transports', 'shipper', 'bin', 'maap-ship.js')
const LINES = Number(process.env.BENCH_LINES ?? 1_000_000)
const CHUNK = 1000

const collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-ship-')) })
const now = Date.now()
const chunk = Buffer.from(Array.from({ length: CHUNK }, (_, i) =>
  JSON.stringify({ level: 30, time: now + i, pid: 4242, hostname: 'bench', user_id: 4242, route: '/api/login', duration_ms: 12.5, seq: i, msg: 'user signed in' })
).join('\n') + '\n')

const t0 = performance.now()
const child = spawn(process.execPath, [cli, '--url', `http://127.0.0.1:${collector.port}`, '--app-name', 'bench-ship'], { stdio: ['pipe', 'inherit', 'pipe'] })
let stderr = ''
child.stderr.on('data', c => { stderr += c })
// VmHWM only grows, so the last reading before exit is the peak.
let rss = 0
const sampler = setInterval(() => {
  try {
    const v = peakRssMb(child.pid)
    if (v > rss) rss = v // a zombie (exited, not yet reaped) has no VmHWM line: NaN
  } catch { /* gone */ }
}, 50)
const exited = once(child, 'exit')
for (let sent = 0; sent < LINES; sent += CHUNK) {
  if (!child.stdin.write(chunk)) await once(child.stdin, 'drain')
}
child.stdin.end()
const [code] = await exited
const seconds = (performance.now() - t0) / 1000
clearInterval(sampler)
const status = await (await fetch(`http://127.0.0.1:${collector.port}/status`)).json()
await collector.stop()

console.log('\nmaap-ship, %s NDJSON lines on stdin → local collector', fmt(LINES))
console.log('   exit code %d; %s', code, stderr.trim())
console.log('   %s lines/s acknowledged (spawn → exit after delivery, %s s)', fmt(LINES / seconds), seconds.toFixed(2))
console.log('   collector accepted_total: %s', fmt(status.accepted_total))
console.log('   maap-ship peak RSS: %d MB  (bar < 100 MB)', rss)
