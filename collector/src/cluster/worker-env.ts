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
// A fixed threshold keeps large buffers in mappings of their own, returned when freed; two arenas bound
// what the libuv and V8 threads keep.
//
// Why 8 KiB and not glibc's starting value, 128 KiB (held fixed at first): below 128 KiB a worker's main
// thread still churned tens of MB a second of buffers through the main heap (HTTP body pieces of up to
// 64 KiB, tail frames, 32 KiB directory listings on the libuv threads), and the few that outlived their
// neighbours left holes. malloc_info() four minutes into bench:read-load: the main heap 16-18 MB, 9-11 MB
// of it free, and RSS still climbing +20 to +34 MB from minute 2 to 5 (malloc_trim returned 8-12 MB per
// worker). At 8 KiB: the main heap 7-8 MB, 1-2 MB free; what remains there is small and short-lived. The
// cost is a mapping per buffer of 8 KiB and more, ~260 a second per worker at 20,000 events/s: the
// collector's CPU over a 5-minute run was 207 and 223 s, against 202 s at 128 KiB (runs differ by more).

/** glibc malloc settings for the workers (see above); the environment's own values win. */
export const WORKER_MALLOC_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: String(8 * 1024),
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
