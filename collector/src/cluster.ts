// WORKER_COUNT > 1: the primary forks that many collector workers on one port (node:cluster) and serves
// no HTTP itself.
//
//   primary ──fork(env LOG_DIR=<LOG_DIR>/worker-<i> (journal/worker-dirs.ts), MAAP_WORKER_ID=<i>,
//      │           glibc malloc settings (cluster/worker-env.ts))──► worker i: bin.ts as one process
//      │                                                                     (its own journal, checkpoint,
//      │                                                                      replay, drain, retention)
//      ├─ a worker dies ─► fork worker i again (same directory, so it replays its own journal), after a
//      │                   backoff when it keeps dying young
//      ├─ SIGTERM/SIGINT ─► SIGTERM to every worker, wait SHUTDOWN_TIMEOUT + grace, exit
//      ├─ SIGHUP ─► SIGHUP to every worker: each re-reads the API key files (keys/ring.ts)
//      └─ a worker asks (/status, /metrics, /force-flush) ─► every listening worker answers (cluster/ipc.ts)
//
// Workers share nothing but MongoDB: each journals, acknowledges and drains on its own, and the MongoDB
// sweeper is guarded by a lease there (retention/lease.ts).
import cluster, { type Worker } from 'node:cluster'
import { ASK_TIMEOUT_MS, PrimaryRelay } from './cluster/ipc'
import { workerEnv } from './cluster/worker-env'
import type { CollectorConfig } from './config'
import { adoptSingleProcessJournal, workerJournalDir } from './journal/worker-dirs'
import { primaryLogger } from './logger'
import { aggregateMetrics } from './metrics/cluster'

/** A worker that was up at least this long before it died is restarted at once. */
const HEALTHY_MS = 10_000
const FIRST_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 30_000

interface Slot {
  id: number
  worker: Worker | undefined
  startedAt: number
  listeningAt: number | undefined
  /** Consecutive deaths within HEALTHY_MS of starting. */
  quickDeaths: number
  restartTimer: NodeJS.Timeout | undefined
  /** A SIGHUP arrived while this worker was starting: pass it on once the worker listens. */
  hupPending: boolean
}

/**
 * Runs the cluster primary: forks `config.workerCount` workers and keeps them running until SIGTERM/SIGINT.
 * Start-up fails as a whole (exit 1) when a worker dies before every worker has listened once; after that a
 * worker that dies is forked again with the same id. A worker that exits by itself with code 0 was stopped
 * on purpose (a signal sent to it) and is not restarted.
 */
export async function runPrimary (config: Readonly<CollectorConfig>): Promise<void> {
  const log = primaryLogger(config.logLevel)
  const scheme = config.tlsCertFile === undefined ? 'http' : 'https'
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const slots: Slot[] = Array.from({ length: config.workerCount }, (_, i) => ({
    id: i + 1, worker: undefined, startedAt: 0, listeningAt: undefined, quickDeaths: 0, restartTimer: undefined, hupPending: false
  }))
  const byWorker = new Map<Worker, Slot>()
  let allListenedOnce = false
  let port: number | undefined
  let stopping = false
  let exitCode = 0
  // Only a listening worker is asked: one still starting has not set up its answers yet.
  const relay = new PrimaryRelay({
    members: () => slots.flatMap(s => s.worker !== undefined && s.listeningAt !== undefined && s.worker.isConnected() ? [{ id: s.id, channel: s.worker }] : []),
    workerIds: () => slots.map(s => s.id),
    timeoutMs: kind => ASK_TIMEOUT_MS[kind],
    reduce: { metrics: aggregateMetrics },
    log: (fields, msg) => log.error(fields, msg)
  })

  const fork = (slot: Slot): void => {
    slot.restartTimer = undefined
    const worker = cluster.fork(workerEnv(workerJournalDir(config.logDir, slot.id), slot.id))
    slot.worker = worker
    slot.startedAt = Date.now()
    slot.listeningAt = undefined
    slot.hupPending = false // it reads the key files as it starts
    byWorker.set(worker, slot)
    relay.attach({ id: slot.id, channel: worker })
    log.info({ worker_id: slot.id, worker_pid: worker.process.pid }, 'worker started')
  }

  cluster.on('listening', (worker, address) => {
    const slot = byWorker.get(worker)
    if (slot === undefined) return
    slot.listeningAt = Date.now()
    // With PORT=0 the first worker's listen picks the port and the primary hands the same listening socket
    // to every other worker (and to a restarted one, as long as one worker still holds it).
    if (port !== undefined && address.port !== port) {
      log.warn({ worker_id: slot.id, port: address.port, previous: port }, 'worker listens on another port than the others (PORT=0 and every worker had stopped)')
    }
    port = address.port
    log.info({ worker_id: slot.id, worker_pid: worker.process.pid, port }, 'worker listening')
    if (slot.hupPending) {
      slot.hupPending = false
      worker.process.kill('SIGHUP')
    }
    if (slots.every(s => s.listeningAt !== undefined)) {
      allListenedOnce = true
      log.info({ workers: slots.length, port }, `all workers listening at ${scheme}://${host}:${port}`)
    }
  })

  cluster.on('exit', (worker, code, signal) => {
    const slot = byWorker.get(worker)
    if (slot === undefined) return
    byWorker.delete(worker)
    relay.gone(slot.id)
    slot.worker = undefined
    slot.listeningAt = undefined
    const fields = { worker_id: slot.id, worker_pid: worker.process.pid, code, signal }
    if (stopping) {
      if (code !== 0) exitCode = 1
      log[code === 0 ? 'info' : 'warn'](fields, 'worker stopped')
      finishIfDone()
      return
    }
    if (!allListenedOnce) {
      log.error(fields, 'a worker failed during start-up; stopping')
      exitCode = 1
      shutdown('startup-failure')
      return
    }
    if (code === 0 && signal === null) {
      log.warn(fields, 'worker exited cleanly (stopped on purpose); not restarting it')
      if (slots.every(s => s.worker === undefined && s.restartTimer === undefined)) {
        log.info({}, 'every worker was stopped on purpose; exiting')
        process.exit(0)
      }
      return
    }
    slot.quickDeaths = Date.now() - slot.startedAt < HEALTHY_MS ? slot.quickDeaths + 1 : 0
    const delay = slot.quickDeaths === 0 ? 0 : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (slot.quickDeaths - 1))
    log[slot.quickDeaths > 3 ? 'error' : 'warn']({ ...fields, restart_in_ms: delay }, 'worker died; restarting it')
    slot.restartTimer = setTimeout(() => fork(slot), delay)
  })

  let forceTimer: NodeJS.Timeout | undefined
  const finishIfDone = (): void => {
    if (!stopping || slots.some(s => s.worker !== undefined)) return
    clearTimeout(forceTimer)
    log.info({ code: exitCode }, 'all workers stopped')
    process.exit(exitCode)
  }

  const shutdown = (reason: string): void => {
    if (stopping) return
    stopping = true
    log.info({ reason }, 'shutting down workers')
    for (const slot of slots) {
      clearTimeout(slot.restartTimer)
      slot.restartTimer = undefined
      // SIGTERM whatever reached the primary: a Ctrl-C also sends SIGINT to every worker directly, and a
      // second SIGINT would kill a worker that is still flushing.
      slot.worker?.process.kill('SIGTERM')
    }
    // Beyond SHUTDOWN_TIMEOUT, SHUTDOWN_GRACE: time for a worker to close its journal and MongoDB after its last flush.
    const stopWithinMs = (config.shutdownTimeoutSeconds + config.shutdownGraceSeconds) * 1000
    forceTimer = setTimeout(() => {
      const left = slots.filter(s => s.worker !== undefined)
      log.error({ workers: left.map(s => s.id), timeout_ms: stopWithinMs },
        'workers did not stop in time; killing them (what they had not flushed stays in their journals)')
      exitCode = 1
      for (const s of left) s.worker?.process.kill('SIGKILL')
    }, stopWithinMs)
    finishIfDone()
  }

  // `on`, not `once`: a second signal must not kill the primary, which would cut its workers off mid-flush.
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // Key rotation: each worker re-reads the key files itself (bin.ts). One still starting may not handle
  // SIGHUP yet (its default would end it) and may have read the files before they changed: it gets the
  // signal once it listens.
  process.on('SIGHUP', () => {
    if (stopping) return
    for (const slot of slots) {
      if (slot.worker === undefined) continue
      if (slot.listeningAt === undefined) slot.hupPending = true
      else slot.worker.process.kill('SIGHUP')
    }
  })
  log.info({ workers: slots.length, log_dir: config.logDir }, 'starting workers')
  await adoptSingleProcessJournal(config.logDir, log)
  for (const slot of slots) fork(slot)
}
