// Preloaded into the collector's processes by `BENCH_MEMORY=dir node bench/read-load.mjs` (NODE_OPTIONS
// --require, which cluster workers inherit): every 5 s each process appends its process.memoryUsage() and
// its resident anonymous / file memory to <dir>/<pid>.ndjson, so the bench can say which process grows and
// whether the growth is the JavaScript heap, buffers outside it, or memory the allocator kept. Bench only:
// the collector itself never loads this.
'use strict'
const { appendFileSync, readFileSync } = require('node:fs')
const { join } = require('node:path')
const { PerformanceObserver, constants } = require('node:perf_hooks')
const { getHeapSpaceStatistics } = require('node:v8')
const { isMainThread } = require('node:worker_threads')

const dir = process.env.BENCH_MEMORY
if (dir !== undefined && dir !== '' && isMainThread) {
  const file = join(dir, `${process.pid}.ndjson`)
  const role = process.env.MAAP_WORKER_ID === undefined ? 'primary' : `worker ${process.env.MAAP_WORKER_ID}`
  // The old generation's bytes in use right after its last full collection: what is live there, apart
  // from the garbage a heap keeps between collections (the bench tells a leak from a heap that grew).
  let afterFull = { old: NaN, fulls: 0 }
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue
      const used = Object.fromEntries(getHeapSpaceStatistics().map(s => [s.space_name, s.space_used_size]))
      afterFull = { old: used.old_space + used.large_object_space, fulls: afterFull.fulls + 1 }
    }
  }).observe({ entryTypes: ['gc'] })
  const kb = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  setInterval(() => {
    const m = process.memoryUsage()
    let status = ''
    try { status = readFileSync('/proc/self/status', 'utf8') } catch { /* not Linux */ }
    // The young generation grows its semi-spaces under allocation pressure (up to --max-semi-space-size):
    // committed memory the heap keeps, apart from the old generation's.
    const spaces = {}
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name.replace(/_space$/, '')] = s.space_size
    appendFileSync(file, JSON.stringify({
      t: Date.now(),
      role,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      anon: kb(status, 'RssAnon') * 1024,
      file: kb(status, 'RssFile') * 1024,
      threads: kb(status, 'Threads'),
      spaces,
      oldLive: afterFull.old,
      fullGcs: afterFull.fulls
    }) + '\n')
  }, 5000).unref()
}

// A worker thread (the scan threads, the compaction thread): its own isolate, whose heap the process's
// samples above do not count but its resident memory does. Each thread appends its heap and what V8
// allocated with malloc for it to <dir>/<pid>-t<threadId>.ndjson, so a growth the process's samples put in
// "anonymous memory" can be told apart from a thread's heap.
if (dir !== undefined && dir !== '' && !isMainThread) {
  const { threadId, resourceLimits } = require('node:worker_threads')
  const { getHeapStatistics } = require('node:v8')
  const file = join(dir, `${process.pid}-t${threadId}.ndjson`)
  const kind = resourceLimits.maxOldGenerationSizeMb > 0 ? `old generation capped at ${resourceLimits.maxOldGenerationSizeMb} MB` : 'no heap cap'
  const role = `${process.env.MAAP_WORKER_ID === undefined ? 'primary' : `worker ${process.env.MAAP_WORKER_ID}`} thread ${threadId} (${kind})`
  setInterval(() => {
    const m = process.memoryUsage()
    const h = getHeapStatistics()
    appendFileSync(file, JSON.stringify({ t: Date.now(), role, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, anon: NaN, file: NaN, malloced: h.malloced_memory, peakMalloced: h.peak_malloced_memory }) + '\n')
  }, 5000).unref()
}
