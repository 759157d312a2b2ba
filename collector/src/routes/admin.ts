// GET /status and POST /force-flush, with the original service's reply shapes.
import type { FastifyInstance } from 'fastify'
import { MongoUnavailableError } from '../errors'
import { MongoNotConfiguredError, type CollectorService } from '../service'
import { TransientMongoError } from '../sink/mongo-sink'

export async function adminRoutes (app: FastifyInstance, opts: { service: CollectorService, version: string }): Promise<void> {
  const { service, version } = opts

  app.get('/status', async () => {
    // The six documented keys first, exactly as the original named them; then the operator's extras.
    const details = service.status()
    return {
      status: 'operational',
      mongodb_status: service.mongoStatus,
      buffer_size: details.buffer_size,
      time_since_last_flush: details.time_since_last_flush,
      version,
      timestamp: new Date().toISOString(),
      ...details,
      // Per process: with WORKER_COUNT > 1 this is the worker that took the connection.
      process: { pid: process.pid, worker_id: process.env.MAAP_WORKER_ID === undefined ? null : Number(process.env.MAAP_WORKER_ID) },
      auth: { ingest: service.keys.ingest.length > 0 ? 'on' : 'off', admin: service.keys.admin.length > 0 ? 'on' : 'off', key_reloads: service.keys.reloads },
      tls: service.config.tlsCertFile !== undefined
    }
  })

  app.post('/force-flush', async () => {
    try {
      const n = await service.forceFlush()
      return { status: 'success', message: `Flushed ${n} logs to MongoDB` }
    } catch (err) {
      if (err instanceof MongoNotConfiguredError) {
        return { status: 'success', message: `Flushed 0 logs to MongoDB (${err.message})` }
      }
      if (err instanceof TransientMongoError) {
        throw new MongoUnavailableError((err.cause as Error).message, Number(service.status().buffer_size))
      }
      throw err
    }
  })
}
