// build(config) → a Fastify instance with the REST API in front of a started CollectorService.
// Kept apart from bin.ts (which listens) so tests can build the app and use inject() or listen on port 0.
import compress from '@fastify/compress'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { requireIngestKey, requireKey } from './auth'
import { installCors } from './browser/cors'
import { identifyBrowserKey } from './browser/identify'
import { safeRequest } from './browser/log-url'
import { isLoopbackHost, type CollectorConfig } from './config'
import { InvalidCompressionError, OverloadedError, RateLimitedError, UnsupportedEncodingError } from './errors'
import { collectorError } from './framework-errors'
import { LoopDelay } from './loop-delay'
import { CollectorMetrics } from './metrics/metrics'
import { adminRoutes } from './routes/admin'
import { alertRoutes } from './routes/alerts'
import { searchRoutes } from './routes/searches'
import { ingestRoutes } from './routes/ingest'
import { readRoutes } from './routes/read'
import { installProbes } from './routes/probes'
import { parseJsonBody } from './routes/json-body'
import { installNotFound } from './routes/not-found'
import { otlpRoutes } from './routes/otlp'
import { countBodyRefusals } from './routes/refusals'
import { uiRoutes } from './routes/ui'
import { CollectorService } from './service'
import { VERSION } from './version'

export { VERSION } from './version'

declare module 'fastify' {
  interface FastifyInstance {
    collector: CollectorService
  }
}

/** Every error answer: a code of errors.ts whoever raised the error (framework-errors.ts), and the status's own reason phrase. */
function answerError (err: Error & { statusCode?: number, code?: string, position?: number }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { statusCode: status, code, message, unmapped } = collectorError(err, request)
  if (code === 'MAAP_INTERNAL_ERROR') request.log.error({ err }, 'unexpected error')
  else if (unmapped === true) request.log.warn({ err }, 'an error with no collector code of its own: answered MAAP_BAD_REQUEST')
  if (status === 503) reply.header('retry-after', '1')
  // 401 Unauthorized, 429 Too Many Requests, …
  // A query that does not parse also says where, as a number, for the page to put the cursor there.
  const position = code === 'MAAP_BAD_QUERY' && typeof err.position === 'number' ? { position: err.position } : {}
  return reply.code(status).send({ statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message, ...position })
}

/** What tests may give build() besides the configuration. */
export interface BuildOptions {
  /** The clock APP_QUOTAS are measured by (default Date.now). */
  now?: () => number
}

export async function build (config: Readonly<CollectorConfig>, logger: FastifyServerOptions['logger'] = false,
  options: BuildOptions = {}): Promise<FastifyInstance> {
  const https = config.tlsCertFile === undefined || config.tlsKeyFile === undefined
    ? undefined
    : { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }
  const app = Fastify({
    ...(https === undefined ? {} : { https }),
    // A browser key may come in the URL (?key=): any request a log line shows has it masked.
    logger: logger === undefined || typeof logger !== 'object' ? logger : { ...logger, serializers: { req: safeRequest, ...logger.serializers } },
    bodyLimit: config.bodyLimitBytes,
    // Per-request log lines would cost more than the request itself on the ingest path; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    // `__proto__` and `constructor` keys are kept as plain data and renamed at ingest, never dropped.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // While closing, probes.ts answers 503 with a reason (and /ready says why) instead of Fastify's bare 503.
    return503OnClosing: false,
    // A URL that does not decode: answered as any other error, not with Fastify's own body.
    frameworkErrors: (err, request, reply) => { void answerError(err, request as FastifyRequest, reply as unknown as FastifyReply) }
  })
  // Only JSON and NDJSON bodies: anything else is answered 415.
  app.removeContentTypeParser('text/plain')
  // Fastify's own JSON parser answers FST_ codes and does not say where the JSON broke.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody)
  installNotFound(app)

  const service = new CollectorService(config, app.log, options)
  app.decorate('collector', service)
  await service.start()
  const metrics = new CollectorMetrics(service, { tailClients: () => service.tails.size })
  metrics.watchDrain()
  metrics.observeRequests(app)
  // Browser keys are held to their scope and origins on every route, before any route's own key check;
  // CORS headers and preflights for the allowed origins (both read the keys in force: SIGHUP may change them).
  app.addHook('onRequest', identifyBrowserKey(() => service.keys))
  installCors(app, () => service.keys.cors)
  installProbes(app, service)

  // Request bodies may be gzip/deflate-encoded; bodyLimit then applies to the decompressed size.
  await app.register(compress, {
    globalCompression: false,
    requestEncodings: ['gzip', 'deflate'],
    onUnsupportedRequestEncoding: encoding => new UnsupportedEncodingError(encoding.slice(0, 100)),
    onInvalidRequestPayload: (encoding, _request, err) => new InvalidCompressionError(encoding, err.message)
  })

  app.setErrorHandler(answerError)

  // Ingest routes: API_KEYS, then backpressure (503 + Retry-After when the process is overloaded; the
  // journal's own queue bound is checked per request in the route), then the optional per-key rate limit.
  await app.register(async ingest => {
    countBodyRefusals(ingest, metrics.ingest)
    ingest.addHook('onRequest', requireIngestKey(() => service.keys.ingest, 'API key'))
    await ingest.register(underPressure, {
      maxHeapUsedBytes: config.maxHeapUsedBytes,
      // The event-loop delay is measured by loop-delay.ts: under-pressure reads a stall shorter than the bound as infinite.
      maxEventLoopDelay: 0,
      retryAfter: 1,
      // A rejected promise is how under-pressure takes an error of ours instead of its FST_UNDER_PRESSURE.
      pressureHandler: async (_request, _reply, type, value) => { throw new OverloadedError(pressure(config, type, value)) }
    })
    if (config.maxEventLoopDelayMs > 0) {
      const loop = new LoopDelay()
      ingest.addHook('onClose', async () => { loop.close() })
      ingest.addHook('onRequest', async () => {
        if (loop.delayMs > config.maxEventLoopDelayMs) throw new OverloadedError(pressure(config, 'eventLoopDelay', loop.delayMs))
      })
    }
    const limit = (request: FastifyRequest): number => request.browserKey === undefined ? config.rateLimitPerMinute : config.browserRateLimitPerMinute
    if (config.rateLimitPerMinute > 0 || config.browserRateLimitPerMinute > 0) {
      await ingest.register(rateLimit, {
        max: limit,
        // A kind of request whose limit is 0 is not limited.
        allowList: request => limit(request) === 0,
        timeWindow: 60_000,
        // Per API key the request authenticated with (by its digest: the limiter's store never holds a
        // key), else per address. Runs after the key check, so unchecked tokens cannot open new buckets.
        // A browser key is public: per key and client address, so one visitor cannot spend everyone's.
        keyGenerator: request => request.browserKey === undefined ? request.keyId ?? request.ip : `${request.browserKey.id}@${request.ip}`,
        errorResponseBuilder: (request, context) => request.browserKey === undefined
          ? new RateLimitedError('RATE_LIMIT_PER_MINUTE', context.max, context.after)
          : new RateLimitedError('BROWSER_RATE_LIMIT_PER_MINUTE for this browser key from this address', context.max, context.after)
      })
    }
    await ingest.register(ingestRoutes, { service, metrics })
    await ingest.register(otlpRoutes, { service, metrics })
  })
  await app.register(async read => {
    read.addHook('onRequest', requireKey(() => service.keys.readers, 'API key that may read (READ_API_KEYS or ADMIN_API_KEY)', () => service.keys.open))
    await read.register(readRoutes, { searcher: () => service.searcher, tails: () => service.tails, admission: service.queries })
  })
  // Saved searches and alerts (alerts/service.ts owns the store: MongoDB collections, else LOG_DIR files).
  await app.register(async searches => {
    searches.addHook('onRequest', requireKey(() => service.keys.readers, 'API key that may read (READ_API_KEYS or ADMIN_API_KEY)', () => service.keys.open))
    await searches.register(searchRoutes, { store: () => service.alerts.store })
  })
  await app.register(async alerts => {
    // Open only when no key of any kind is set: read or ingest keys without an admin key close alerts to everyone.
    alerts.addHook('onRequest', requireKey(() => service.keys.admin, 'admin API key', () => service.keys.open))
    await alerts.register(alertRoutes, {
      store: () => service.alerts.store,
      smtpConfigured: config.smtpUrl !== undefined,
      test: async alert => await service.alerts.test(alert)
    })
  })
  // The web page (GET /, /ui/*): no key, it holds no secret; what it shows comes from the read routes.
  await app.register(uiRoutes)
  await app.register(async admin => {
    // Open while no admin key is set, as ever; closed without one once a browser key is set (keys/ring.ts).
    admin.addHook('onRequest', requireKey(() => service.keys.admin, 'admin API key', () => service.keys.adminOpen))
    await admin.register(adminRoutes, { service, version: VERSION, metrics })
  })

  if (config.apiKeys.length === 0 && !isLoopbackHost(config.host)) {
    app.log.warn({ HOST: config.host }, 'API_KEYS is not set and HOST is not a loopback address: anyone who can reach this port can write logs')
  }
  if (config.browserKeys.length > 0 && config.apiKeys.length === 0) {
    app.log.warn('BROWSER_API_KEYS is set but API_KEYS is not: browser keys are held to their app and origins, yet a request with no key at all may still send events for any app')
  }
  if (config.browserKeys.length > 0 && config.adminKeys.length === 0) {
    app.log.warn('BROWSER_API_KEYS is set but ADMIN_API_KEY is not: /status, /metrics, /force-flush and /alerts answer nobody until one is set (and reads need READ_API_KEYS)')
  }

  app.addHook('onListen', async () => {
    const address = app.server.address()
    if (address !== null && typeof address === 'object') service.alerts.listening(address.port)
  })
  // Live tails never end by themselves: end them first, so that closing waits only for real requests.
  app.addHook('preClose', async () => { service.tails.close() })
  app.addHook('onClose', async () => {
    const { flushed, pending } = await service.stop(config.shutdownTimeoutSeconds * 1000)
    app.log.info({ flushed, pending }, pending > 0
      ? 'stopped; events not yet in MongoDB stay in the journal and are replayed on the next start'
      : 'stopped')
  })
  return app
}

/** Which bound under-pressure found passed, in the words of its setting. */
function pressure (config: Readonly<CollectorConfig>, type: string, value: number | undefined): string {
  switch (type) {
    case 'heapUsedBytes': return `heap used ${value ?? '?'} bytes, over MAX_HEAP_USED_BYTES ${config.maxHeapUsedBytes}`
    case 'eventLoopDelay': return `event-loop delay ${Math.round(value ?? 0)} ms, over MAX_EVENT_LOOP_DELAY ${config.maxEventLoopDelayMs}`
    default: return type
  }
}
