// Baseline for bench/ingest.mjs: a bare Fastify route answering the same POST /log as the collector,
// with the same reply, and nothing else (no validation, no journal).
import Fastify, { LogController } from 'fastify'

const app = Fastify({ logger: { level: 'info' }, logController: new LogController({ disableRequestLogging: true }) })
app.post('/log', async (_req, reply) =>
  reply.code(201).send({ status: 'success', message: 'Log recorded', timestamp: new Date().toISOString() }))
await app.listen({ host: process.env.HOST, port: Number(process.env.PORT) })
process.once('SIGTERM', () => app.close().then(() => process.exit(0)))
