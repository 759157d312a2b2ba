// What the table needs besides the queries: waiting for a store to count everything, waiting for it to
// settle (background merges or compaction done), its size on disk, and ingest with a count looping beside.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { cpuSeconds, median } from '../lib.mjs'
import { ingest } from './ingest.mjs'

/** Bytes of the files under `dir` (apparent size, as `du -sb`). */
export function dirBytes (dir) {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    try {
      if (entry.isDirectory()) total += dirBytes(path)
      else if (entry.isFile()) total += statSync(path).size
    } catch (err) {
      if (err.code !== 'ENOENT') throw err // a file merged away between the listing and the stat
    }
  }
  return total
}

/**
 * Polls the store's count over the window until it reaches `n`; resolves with { ms, polls, firstMs }: the
 * time waited, how many counts it took (1: everything was there at once) and how long the first one took.
 */
export async function untilCounted (store, window, n, limitMs = 600_000) {
  const t0 = performance.now()
  let firstMs
  for (let polls = 1; ; polls++) {
    await store.flush()
    const { ms, answer } = await store.queries.total(window)
    firstMs ??= ms
    if (answer === n) return { ms: performance.now() - t0, polls, firstMs }
    if (answer > n) throw new Error(`${store.name} counts ${answer} events, more than the ${n} sent`)
    if (performance.now() - t0 > limitMs) throw new Error(`${store.name} counted ${answer} of ${n} after ${limitMs / 1000} s`)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

/**
 * Waits until the store is idle: its data dir's size unchanged and its process under 0.1 CPU-s over each
 * 2 s look, three looks in a row (or `limitMs` passed). Resolves with { bytes, waitedMs, settled }.
 */
export async function settle (store, limitMs = 180_000) {
  const t0 = performance.now()
  let last = dirBytes(store.dataDir)
  let cpu = cpuSeconds(store.pid)
  let quiet = 0
  while (quiet < 3 && performance.now() - t0 < limitMs) {
    await new Promise(resolve => setTimeout(resolve, 2000))
    const bytes = dirBytes(store.dataDir)
    const now = cpuSeconds(store.pid)
    quiet = bytes === last && now - cpu < 0.1 ? quiet + 1 : 0
    last = bytes
    cpu = now
  }
  return { bytes: last, waitedMs: performance.now() - t0, settled: quiet >= 3 }
}

/**
 * Ingest of batches [0, batches) alone, then with `heavy()` looping one at a time beside it, then alone
 * again (the two alone runs averaged, so a machine that drifts during the three does not favour one
 * side). Resolves with { alone, loaded } in events/s, and how many heavy queries ran during the loaded one
 * (the last one may end after it) and their median time.
 */
export async function ingestUnderLoad ({ store, data, file, batches, heavy }) {
  const send = async () => {
    const r = await ingest({ url: store.ingestUrl, headers: store.ingestHeaders, check: store.check, data, file, to: batches })
    return r.events / (r.ms / 1000)
  }
  const before = await send()
  let running = true
  const queryMs = []
  const loop = (async () => {
    while (running) queryMs.push((await heavy()).ms)
  })()
  const loaded = await send()
  running = false
  await loop
  const after = await send()
  return { alone: (before + after) / 2, loaded, queries: queryMs.length, queryMs: median(queryMs) }
}
