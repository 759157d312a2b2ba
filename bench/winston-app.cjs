// Child process of bench/winston.mjs: one winston logger with one transport, the same record shape and
// format for every target. Prints one JSON line of measurements on stdout.
//   BENCH_TARGET = noop | file | maap | mongodb,  BENCH_N = records,  BENCH_OPTIONS = transport options (JSON)
// Measures: `loopMs` — the main thread's cost of N logger.info() calls (what the application feels);
// `cpuMs` — the main thread's CPU time over the same span (Linux);
// `processCpuMs` — CPU time of the whole process (main thread and the transport's thread), first call to 'finish';
// `busyMs` — the main thread's active time from the first call to 'finish' (event-loop utilisation);
// `deliveredMs` — first call until the logger's 'finish' after logger.end() (for maap: every record
// acknowledged by the collector; for the file: written). With BENCH_HOLD=1 it stays alive after logging
// (winston-mongodb has no delivery signal: the parent counts documents, then asks it to close).
'use strict'
const winston = require('winston')

const options = JSON.parse(process.env.BENCH_OPTIONS || '{}')
const make = {
  // winston itself: a transport that does nothing, to see what each real transport adds per call.
  noop: () => new (require('winston-transport'))({ log: (info, callback) => callback() }),
  file: () => new winston.transports.File(options),
  maap: () => new (require('@maap-event-logger/winston-transport').MaapTransport)(options),
  mongodb: () => new (require('winston-mongodb').MongoDB)(options)
}
const n = Number(process.env.BENCH_N)
const transport = make[process.env.BENCH_TARGET]()
const logger = winston.createLogger({
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [transport]
})
// winston-mongodb reports its connection trouble as 'error' on the logger; a bench must see it, not die.
logger.on('error', err => process.stderr.write(`bench app: logger error: ${err && err.message}\n`))

// CPU time of this process's main thread alone (Linux: utime + stime of task <pid>, in 10 ms ticks),
// NaN elsewhere. Unlike event-loop utilisation it does not count time the thread waited for a core —
// on a busy 2-core machine the transport's worker thread and the collector compete for them.
const { readFileSync } = require('node:fs')
function mainThreadCpuMs () {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

// Inside a callback, so the event loop's utilisation counts the loop as the main thread's busy time.
setImmediate(() => {
  const cpu0 = mainThreadCpuMs()
  const processCpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) logger.info('user signed in', { user_id: 4242, route: '/api/login', duration_ms: 12.5, seq: i })
  const loopMs = performance.now() - t0
  if (process.env.BENCH_HOLD === '1') {
    process.stdout.write(JSON.stringify({ loopMs }) + '\n')
    // The parent counts documents, then writes a line: close the logger and say how that went.
    process.stdin.once('data', () => {
      const report = closed => {
        process.stdout.write(JSON.stringify({ closed }) + '\n')
        process.exit(0)
      }
      process.on('uncaughtException', err => report(`crashed: ${err && err.message}`))
      logger.on('finish', () => setImmediate(() => report('ok')))
      logger.end()
      if (typeof transport.close === 'function') transport.close()
    })
    return
  }
  logger.on('finish', () => {
    // busyMs: the main thread's active time from the first call to 'finish' — the loop plus whatever
    // the transport left for later on this thread (transports.File writes after the loop returns).
    const busyMs = performance.eventLoopUtilization(elu0).active
    const cpuMs = mainThreadCpuMs() - cpu0
    const processCpu = process.cpuUsage(processCpu0)
    process.stdout.write(JSON.stringify({ loopMs, busyMs, cpuMs, processCpuMs: (processCpu.user + processCpu.system) / 1000, deliveredMs: performance.now() - t0 }) + '\n')
    process.exit(0)
  })
  logger.end()
})
