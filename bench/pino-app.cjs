// Child process of bench/pino.mjs: one pino logger with one worker transport, the same record shape
// for every target. Prints one JSON line of measurements on stdout.
//   BENCH_TARGET = file | maap | mongodb,  BENCH_N = records,  BENCH_OPTIONS = transport options (JSON)
// Measures: `loopMs` — the main thread's cost of N logger.info() calls (what the application feels);
// `deliveredMs` — first call until logger.flush(cb) called back (for maap: every record acknowledged);
// `processCpuMs` — CPU time of the whole process (main thread and transport worker) over that span.
// With BENCH_HOLD=1 it stays alive after logging (pino-mongodb has no delivery signal: the parent
// counts documents and kills it).
'use strict'
const pino = require('pino')

const targets = { file: 'pino/file', maap: '@maap-event-logger/pino-transport', mongodb: 'pino-mongodb' }
const target = targets[process.env.BENCH_TARGET]
const n = Number(process.env.BENCH_N)
const transport = pino.transport({ target, options: JSON.parse(process.env.BENCH_OPTIONS || '{}') })
const logger = pino(transport)

transport.once('ready', () => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) logger.info({ user_id: 4242, route: '/api/login', duration_ms: 12.5, seq: i }, 'user signed in')
  const loopMs = performance.now() - t0
  if (process.env.BENCH_HOLD === '1') {
    process.stdout.write(JSON.stringify({ loopMs }) + '\n')
    setInterval(() => {}, 1 << 30)
    return
  }
  logger.flush(err => {
    const deliveredMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    process.stdout.write(JSON.stringify({ loopMs, deliveredMs, processCpuMs: (cpu.user + cpu.system) / 1000, err: err ? err.message : undefined }) + '\n')
    process.exit(0)
  })
})
