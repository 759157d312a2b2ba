// What a cluster worker's environment adds to the primary's (cluster.ts forks each worker with it):
//
//   primary's env ─► + LOG_DIR=<LOG_DIR>/worker-<i>, MAAP_WORKER_ID=<i>
//                   + glibc malloc settings (WORKER_MALLOC_ENV), each unless the environment sets it already
//
// A process cannot change how glibc's malloc behaves once it runs (the settings are read at its first
// allocation), but the primary starts its workers and can pass them in. Why these (issue #24,
// bench:read-load under a dashboard, malloc_stats() of a worker): by default glibc serves an allocation
// above its mmap threshold with a mapping of its own, but raises that threshold to the size of each such
// block freed; after the first 256 KiB tail read or 2 MiB block buffer was freed, every buffer up to that
// size came from the main heap, which only gives memory back from its top. A worker kept ~22 MB free
// there of 58 MB, more each minute, and ~9 MB more in eight per-thread arenas holding 0.2 MB in use.
// A fixed threshold keeps large buffers in mappings of their own, returned when freed (at the cost of a
// mapping and its page faults per such buffer, a few hundred a second under that load); two arenas
// bound what the libuv and V8 threads keep. Lower thresholds were measured and not taken: at 8 KiB the
// main heap held 7-8 MB with 1-2 free instead of 16-18 with 9-11 (malloc_info four minutes into
// bench:read-load), and RSS sat ~15 MB lower, but peak ingest with two workers fell ~10 % (16 and 32 KiB
// cost as much); an operator who wants the flatter memory sets it (README, Deployment). A smaller V8
// young generation (--max-semi-space-size=4 in the workers' NODE_OPTIONS) was measured and not taken
// either: the workers' heaps shrank by their young generations, but their old generations took most of it
// back (more was promoted), the collector's RSS under that bench moved within its run-to-run noise, and
// peak ingest with two workers fell by up to 8 %.

/** glibc malloc settings for the workers (see above); the environment's own values win. */
export const WORKER_MALLOC_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: String(128 * 1024), // glibc's starting value, held fixed
  MALLOC_ARENA_MAX: '2'
})

/** What worker `id` gets in its environment beyond `env` (the primary's), for cluster.fork. */
export function workerEnv (journalDir: string, id: number, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const added: Record<string, string> = { LOG_DIR: journalDir, MAAP_WORKER_ID: String(id) }
  for (const [name, value] of Object.entries(WORKER_MALLOC_ENV)) {
    if (env[name] === undefined) added[name] = value
  }
  return added
}
