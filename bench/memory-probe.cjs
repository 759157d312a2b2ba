// Preloaded into the collector's processes by `BENCH_MEMORY=dir node bench/read-load.mjs` (NODE_OPTIONS
// --require, which cluster workers inherit): every 5 s each process appends its process.memoryUsage() and
// its resident anonymous / file memory to <dir>/<pid>.ndjson, so the bench can say which process grows and
// whether the growth is the JavaScript heap, buffers outside it, or memory the allocator kept. Bench only:
// the collector itself never loads this.
'use strict'
const { appendFileSync, readFileSync } = require('node:fs')
const { join } = require('node:path')
const { isMainThread } = require('node:worker_threads')

const dir = process.env.BENCH_MEMORY
if (dir !== undefined && dir !== '' && isMainThread) {
  const file = join(dir, `${process.pid}.ndjson`)
  const role = process.env.MAAP_WORKER_ID === undefined ? 'primary' : `worker ${process.env.MAAP_WORKER_ID}`
  const kb = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  setInterval(() => {
    const m = process.memoryUsage()
    let status = ''
    try { status = readFileSync('/proc/self/status', 'utf8') } catch { /* not Linux */ }
    appendFileSync(file, JSON.stringify({
      t: Date.now(),
      role,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      anon: kb(status, 'RssAnon') * 1024,
      file: kb(status, 'RssFile') * 1024
    }) + '\n')
  }, 5000).unref()
}
