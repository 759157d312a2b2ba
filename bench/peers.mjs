// npm run bench:peers — our embedded store and VictoriaLogs side by side, in one run, on the same data:
//
//   generator (BENCH_SEED, BENCH_EVENTS) ─► file of 1,000-line batches + the answers, counted as it writes
//        │
//        ├─► VictoriaLogs /insert/jsonline ─┐  same batches, 4 in flight, each store alone on the machine
//        └─► our collector POST /logs ──────┤  (embedded mode, one process; later WORKER_COUNT=2 as well)
//                                           ▼
//   wait until each counts everything ─► each query 5× on each (alternating) ─► answers vs the generator
//   ─► settle ─► disk, peak RSS ─► ingest alone vs with a count looping ─► one table, ratios ours/theirs
//
// Ours runs with JOURNAL_COMPACT=on (the default; BENCH_COMPACT=off: NDJSON) and is queried once its closed
// segments are compacted.
// VictoriaLogs v1.52.2 is built from the Go module proxy into the tests' cache dir (skipped, with the
// reason, when Go is missing; our column is still measured). Timestamps lie in the 24 h before the last
// full hour, and every query names that window, so an answer does not drift while the run goes on.
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSeconds, fmt, peakRssMb } from './lib.mjs'
import { differs, expected } from './peers/check.mjs'
import { APP_FOR_ERRORS, BATCH, COMMON_WORD, LEVELS, RARE_WORD, generate } from './peers/generate.mjs'
import { ingest } from './peers/ingest.mjs'
import { ingestUnderLoad, settle, untilCounted } from './peers/measure.mjs'
import { startOurs } from './peers/ours.mjs'
import { printTable } from './peers/table.mjs'
import { VERSION, startVictoria, victoriaBinary } from './peers/victoria.mjs'

const N = Number(process.env.BENCH_EVENTS ?? 2_000_000)
const SEED = Number(process.env.BENCH_SEED ?? 24)
const RUNS = 5
// Our store as it ships (JOURNAL_COMPACT=on), queried once every closed segment is compacted;
// BENCH_COMPACT=off keeps it NDJSON.
const COMPACT = process.env.BENCH_COMPACT !== 'off'
const HOUR = 3600_000

const work = mkdtempSync(join(tmpdir(), 'bench-peers-'))
const file = join(work, 'events.ndjson')
const stores = []
const load = () => loadavg().map(l => l.toFixed(2)).join(' ')

try {
  const built = victoriaBinary()
  if (built.reason) console.log(`# VictoriaLogs skipped: ${built.reason}`)

  const end = Math.floor(Date.now() / HOUR) * HOUR
  const t0 = performance.now()
  const data = await generate({ file, n: N, seed: SEED, end })
  const window = { start: data.start, end: data.end }
  const { counts } = data
  console.log('# %s events, %s MB of NDJSON, seed %d, %s → %s (made in %s s); load average %s',
    fmt(N), fmt(data.bytes / 2 ** 20), SEED, new Date(data.start).toISOString(), new Date(data.end).toISOString(),
    ((performance.now() - t0) / 1000).toFixed(1), load())
  console.log('# answers: "%s" in %s, "%s" in %s, %s at ERROR+ %s', COMMON_WORD, fmt(counts.common), RARE_WORD, fmt(counts.rare), APP_FOR_ERRORS, fmt(counts.appErrors))

  // Each store ingests alone on the machine, then settles before the other starts.
  const results = {}
  const fill = async (store) => {
    stores.push(store)
    const cpu0 = cpuSeconds(store.pid)
    const r = await ingest({ url: store.ingestUrl, headers: store.ingestHeaders, check: store.check, data, file })
    const cpu = cpuSeconds(store.pid) - cpu0
    const visible = await untilCounted(store, window, N)
    const compactMs = store.compacted ? await store.compacted() : undefined
    if (compactMs !== undefined) console.log('# %s: every closed segment compacted %s s after all were counted', store.name, (compactMs / 1000).toFixed(1))
    const settled = await settle(store)
    results[store.name] = { ingest: N / (r.ms / 1000), retries: r.retries, store }
    console.log('# %s: ingest %s ev/s (%s s, %d retried, %s µs of the server\'s CPU an event), all counted %s s later (%d count%s, the first %s ms), settled after %s s more%s',
      store.name, fmt(N / (r.ms / 1000)), (r.ms / 1000).toFixed(1), r.retries, (cpu * 1e6 / N).toFixed(1), (visible.ms / 1000).toFixed(1),
      visible.polls, visible.polls === 1 ? '' : 's', fmt(visible.firstMs),
      (settled.waitedMs / 1000).toFixed(0), settled.settled ? '' : ' (still busy: gave up waiting)')
    return store
  }
  const vl = built.bin ? await fill(await startVictoria(built.bin)) : undefined
  const ours = await fill(await startOurs({ compact: COMPACT }))

  // The queries, alternating which store goes first, so neither always meets the warmer machine.
  const want = expected(counts)
  const queries = [
    ['newestRare', q => q.newestRare(window, RARE_WORD)],
    ['newestAppErrors', q => q.newestAppErrors(window, APP_FOR_ERRORS)],
    ['countWord', q => q.countWord(window, COMMON_WORD)],
    ['exportWord', q => q.exportWord(window, COMMON_WORD)],
    ['histogram', q => q.histogram(window, LEVELS)]
  ]
  const live = [vl, ours].filter(Boolean)
  const timings = {}
  const mismatches = []
  for (const [name, run] of queries) {
    timings[name] = {}
    const answers = {}
    for (let k = 0; k < RUNS; k++) {
      for (const store of k % 2 === 0 ? live : [...live].reverse()) {
        const { ms, answer } = await run(store.queries)
        ;(timings[name][store.name] ??= []).push(ms)
        answers[store.name] ??= answer
        const off = differs(name, answer, want[name])
        if (off) mismatches.push(`${store.name} ${name} (run ${k + 1}): ${off}`)
      }
    }
    if (name === 'exportWord') for (const s of live) timings[name][`${s.name} bytes`] = answers[s.name].bytes
    if (vl && JSON.stringify(answers[vl.name]?.lines ?? answers[vl.name]) !== JSON.stringify(answers[ours.name]?.lines ?? answers[ours.name])) {
      mismatches.push(`${name}: the two stores answer differently`)
    }
  }

  // Disk after both settle (again: the queries may have set merges going), peak RSS over everything so far.
  for (const store of live) {
    const s = await settle(store)
    results[store.name].disk = s.bytes
    results[store.name].rss = peakRssMb(store.pid)
  }

  // Ingest with a heavy count looping beside it, vs alone: a fifth of the data set (at least 100 batches)
  // again, each way.
  const extra = Math.min(data.batches.length, Math.max(100, Math.floor(data.batches.length / 5)))
  for (const store of live) {
    results[store.name].underLoad = await ingestUnderLoad({ store, data, file, batches: extra, heavy: () => store.queries.countWord(window, COMMON_WORD) })
  }
  for (const store of live) await store.stop()
  stores.length = 0
  for (const store of live) rmSync(store.home, { recursive: true, force: true })

  // The second row of ingest: the same data into a fresh collector with two worker processes.
  // As it ships, like the one-process run: its disk is measured once every closed segment is compacted.
  const two = await startOurs({ workers: 2, compact: COMPACT })
  stores.push(two)
  const r2 = await ingest({ url: two.ingestUrl, headers: two.ingestHeaders, check: two.check, data, file })
  await untilCounted(two, window, N)
  if (two.compacted) await two.compacted()
  results.two = { ingest: N / (r2.ms / 1000), retries: r2.retries, disk: (await settle(two)).bytes }
  await two.stop()
  stores.length = 0
  rmSync(two.home, { recursive: true, force: true })

  console.log('# load average at the end %s\n', load())
  printTable({ n: N, seed: SEED, runs: RUNS, version: VERSION, batch: BATCH, counts, vl: vl && results[vl.name], ours: results[ours.name], two: results.two, timings, vlName: vl?.name, oursName: ours.name, mismatches })
  process.exitCode = mismatches.length === 0 ? 0 : 1
} finally {
  for (const store of stores) await store.stop().catch(() => {})
  for (const store of stores) rmSync(store.home, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
}
