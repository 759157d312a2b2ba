// POST /v1/logs: OTLP/HTTP logs from any OpenTelemetry SDK or collector, protobuf or JSON, gzip or not.
//
//   body ─► journal lines (otlp/journal-lines.ts) ─► journal (service.journal.append, as POST /logs)
//        ─► 200 ExportLogsServiceResponse
//   (between the two: APP_QUOTAS, routes/app-quota.ts — a request past an app's quota is a 429, nothing stored)
//
// Records refused by normalisation (limits, an app_name too long, …) are counted in partialSuccess and
// their neighbours kept. Errors answer a google.rpc.Status in the request's encoding, with the message of
// the collector's own error (framework-errors.ts), and never 500: an exporter drops a batch on a 500, so
// anything unexpected is a 503 (retried) instead. Counted as on /logs, under the route `/v1/logs`.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { OtlpTooLargeError, OtlpUndecodableError, UnsupportedMediaTypeError } from '../errors'
import { collectorError } from '../framework-errors'
import type { CollectorMetrics } from '../metrics/metrics'
import { LinesTooLargeError, requestLines, type RequestLines } from '../otlp/journal-lines'
import { OtlpDecodeError } from '../otlp/model'
import { exportResponse, statusBody } from '../otlp/response'
import type { CollectorService } from '../service'
import { AppTally } from '../quota/app-tally'
import { withinQuota } from './app-quota'
import { appendToJournal, eventLimits, ingestContext } from './journal-append'

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

function wantsProtobuf (request: FastifyRequest): boolean {
  const ct = request.headers['content-type']
  return typeof ct === 'string' && ct.includes('protobuf')
}

export async function otlpRoutes (app: FastifyInstance, opts: { service: CollectorService, metrics: CollectorMetrics }): Promise<void> {
  const { service, metrics } = opts
  const counts = metrics.ingest.route('/v1/logs')
  const limits = eventLimits(service.config)
  const quota = service.quota
  // A request's lines may come to what the journal's queue holds at most.
  const linesOptions = { maxDepth: service.config.maxEventDepth, maxBytes: service.config.journalMaxQueueBytes }

  // The specification's media type, and the IANA-registered one.
  app.addContentTypeParser([PROTOBUF, 'application/protobuf'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  // Any other type (or none) is a 415 that says what to send; the body is not read for it.
  app.addContentTypeParser('*', (req, _payload, done) => {
    const type = req.headers['content-type']
    done(new UnsupportedMediaTypeError(`Content-Type ${type === undefined ? '(none)' : `"${type.slice(0, 100)}"`} is not accepted on /v1/logs: send application/x-protobuf or application/json`))
  })

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = collectorError(err, request)
    let status = answer.statusCode
    let message = answer.message
    if (answer.unmapped === true) request.log.warn({ err }, 'an error with no collector code of its own: answered MAAP_BAD_REQUEST')
    if (status >= 500 && status !== 503) {
      request.log.error({ err }, 'unexpected error on /v1/logs; answered 503 so the exporter retries')
      status = 503
      message = 'internal error; retry'
    }
    if ((status === 503 || status === 429) && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '1')
    const proto = wantsProtobuf(request)
    return reply.code(status).type(proto ? PROTOBUF : JSON_TYPE).send(statusBody(!proto, status, message))
  })

  app.post('/v1/logs', async (request, reply: FastifyReply) => {
    const proto = Buffer.isBuffer(request.body)
    let result: RequestLines
    try {
      result = requestLines(request.body, ingestContext(limits, request.keyAppName, service.redactor), linesOptions)
    } catch (err) {
      if (err instanceof OtlpDecodeError) throw new OtlpUndecodableError(err.message)
      if (err instanceof LinesTooLargeError) throw new OtlpTooLargeError(err.maxBytes)
      throw err
    }
    const { lines, accepted, rejected, firstError } = result
    counts.countBody(request.headers['content-length'])
    counts.countReceived(accepted + rejected)
    counts.countRejected('invalid_event', rejected)
    if (accepted > 0) {
      const tally = quota === undefined ? undefined : new AppTally()
      if (request.keyAppName !== undefined) tally?.add(request.keyAppName, accepted)
      else tally?.addLines(lines)
      await withinQuota(quota, tally, reply, () => counts.countRejected('quota_exceeded', accepted),
        async () => await appendToJournal(service, lines, accepted, reason => counts.countRejected(reason, accepted)))
      counts.countAccepted(accepted)
    }
    const message = rejected === 0 ? '' : `${rejected} log record(s) refused; the first: ${firstError}`
    return await reply.code(200).type(proto ? PROTOBUF : JSON_TYPE).send(exportResponse(!proto, rejected, message))
  })
}
