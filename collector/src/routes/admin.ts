// GET /status, POST /force-flush (the original service's reply shapes) and GET /metrics (Prometheus).
// With WORKER_COUNT > 1 each answers for the whole service: the worker that took the request asks the
// others through the primary (cluster/ipc.ts) and answers with the totals (and, for /status and
// /force-flush, each worker's part).
import cluster from 'node:cluster'
import type { FastifyInstance } from 'fastify'
import { ASK_TIMEOUT_MS, type AskKind, type Channel, type WorkerReply, WorkerIpc } from '../cluster/ipc'
import { serviceStatus, type LocalStatus } from '../cluster/status'
import { ClusterUnavailableError, FlushIncompleteError, MongoUnavailableError } from '../errors'
import type { CollectorMetrics } from '../metrics/metrics'
import { MongoNotConfiguredError, type CollectorService } from '../service'
import { serviceLogDir } from '../journal/worker-dirs'
import { TransientMongoError } from '../sink/mongo-sink'

/** The asking worker waits this much longer than the primary, so the primary's partial answer arrives first. */
const ASK_MARGIN_MS = 1000

/** One worker's (or the single process's) part of a force-flush. */
interface FlushPart {
  flushed: number
  /** Why nothing could be flushed when that is not a failure (MongoDB not configured). */
  note?: string
  /** MongoDB could not take the events: why, and how many stay in the journal. */
  error?: string
  pending?: number
}

export interface AdminOptions {
  service: CollectorService
  version: string
  metrics: CollectorMetrics
}

export async function adminRoutes (app: FastifyInstance, opts: AdminOptions): Promise<void> {
  const { service, version, metrics } = opts
  const workerId = service.workerId ?? null

  // POST routes here take no body: an empty one is fine whatever its Content-Type (many clients send
  // `application/json` on every request), and a body sent anyway is read (within BODY_LIMIT) and ignored.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined))

  const localStatus = (): LocalStatus => {
    // The six documented keys first, exactly as the original named them; then the operator's extras.
    const { buffer_size, time_since_last_flush, ...details } = service.status()
    return {
      status: 'operational',
      mongodb_status: service.mongoStatus,
      buffer_size,
      time_since_last_flush,
      version,
      timestamp: new Date().toISOString(),
      ...details,
      process: { pid: process.pid, worker_id: workerId },
      auth: { ingest: service.keys.ingest.length > 0 ? 'on' : 'off', admin: service.keys.admin.length > 0 ? 'on' : 'off', browser_keys: service.keys.browser.length, key_reloads: service.keys.reloads },
      tls: service.config.tlsCertFile !== undefined
    }
  }

  const localFlush = async (): Promise<FlushPart> => {
    try {
      return { flushed: await service.forceFlush() }
    } catch (err) {
      if (err instanceof MongoNotConfiguredError) return { flushed: 0, note: err.message }
      if (err instanceof TransientMongoError) return { flushed: 0, error: (err.cause as Error).message, pending: service.status().buffer_size }
      throw err
    }
  }

  // A cluster worker answers the primary's questions and asks its own through it.
  const ipc = cluster.isWorker && process.send !== undefined
    ? new WorkerIpc(process as unknown as Channel, {
      status: async () => localStatus(),
      flush: localFlush,
      metrics: async () => await metrics.registry.getMetricsAsJSON()
    }, (fields, msg) => app.log.error(fields, msg))
    : undefined
  app.addHook('onClose', async () => ipc?.close())
  const ask = async (kind: AskKind): Promise<unknown> => {
    try {
      return await ipc!.ask(kind, ASK_TIMEOUT_MS[kind] + ASK_MARGIN_MS)
    } catch (err) {
      throw new ClusterUnavailableError((err as Error).message)
    }
  }

  app.get('/status', async () => {
    if (ipc === undefined) return localStatus()
    return serviceStatus(await ask('status') as WorkerReply[], localStatus(), serviceLogDir(service.config.logDir))
  })

  app.post('/force-flush', async () => {
    if (ipc === undefined) {
      const part = await localFlush()
      if (part.error !== undefined) throw new MongoUnavailableError(part.error, part.pending!)
      return { status: 'success', message: `Flushed ${part.flushed} logs to MongoDB${part.note === undefined ? '' : ` (${part.note})`}` }
    }
    const replies = await ask('flush') as WorkerReply[]
    let flushed = 0
    let pending = 0
    let note: string | undefined
    const mongoFailures: string[] = []
    const otherFailures: string[] = []
    const workers = replies.map(r => {
      if (!r.ok) {
        otherFailures.push(`worker ${r.worker_id}: ${r.error}`)
        return { worker_id: r.worker_id, error: r.error }
      }
      const part = r.value as FlushPart
      flushed += part.flushed
      note ??= part.note
      if (part.error !== undefined) {
        mongoFailures.push(`worker ${r.worker_id}: ${part.error}`)
        pending += part.pending ?? 0
      }
      return { worker_id: r.worker_id, ...part }
    })
    if (otherFailures.length > 0) throw new FlushIncompleteError([...otherFailures, ...mongoFailures].join('; '), flushed)
    if (mongoFailures.length > 0) throw new MongoUnavailableError(mongoFailures.join('; '), pending)
    return { status: 'success', message: `Flushed ${flushed} logs to MongoDB${note === undefined ? '' : ` (${note})`}`, workers }
  })

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    if (ipc === undefined) return await metrics.registry.metrics()
    return await ask('metrics') as string
  })
}
