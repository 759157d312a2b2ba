// POST /v1/logs: OTLP/HTTP logs from any OpenTelemetry SDK or collector, protobuf or JSON, gzip or not.
//
//   body ─► decode (otlp/protobuf.ts | otlp/json.ts) ─► map each record (otlp/mapping.ts) ─► normaliseEvent
//        ─► journal (service.journal.append, as POST /logs) ─► 200 ExportLogsServiceResponse
//
// Records refused by normalisation (limits, an app_name too long, …) are counted in partialSuccess and
// their neighbours kept. Errors answer a google.rpc.Status in the request's encoding, and never 500: an
// exporter drops a batch on a 500, so anything unexpected is a 503 (retried) instead.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { OtlpUndecodableError } from '../errors'
import { normaliseEvent, type NormaliseResult } from '../normalise/normalise'
import { visitLogsJson } from '../otlp/json'
import { eventText, recordEvent, resourceFields, scopeFields, type ScopeFields, type Shared } from '../otlp/mapping'
import { OtlpDecodeError, type LogsVisitor } from '../otlp/model'
import { exportResponse, statusBody } from '../otlp/response'
import { visitLogsProtobuf } from '../otlp/protobuf'
import type { CollectorService } from '../service'
import { appendToJournal, eventLimits, ingestContext } from './journal-append'

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

function wantsProtobuf (request: FastifyRequest): boolean {
  const ct = request.headers['content-type']
  return typeof ct === 'string' && ct.includes('protobuf')
}

export async function otlpRoutes (app: FastifyInstance, opts: { service: CollectorService }): Promise<void> {
  const { service } = opts
  const limits = eventLimits(service.config)
  const { maxEventDepth } = service.config

  // The specification's media type, and the IANA-registered one.
  app.addContentTypeParser([PROTOBUF, 'application/protobuf'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status = err.statusCode ?? 500
    let message = err.message
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
    const ctx = ingestContext(limits, request.keyAppName)
    let lines = ''
    let accepted = 0
    let rejected = 0
    let firstError = ''
    const json = eventText()
    // Each record is mapped and normalised as it is decoded; nothing is journaled unless all of the
    // body decodes.
    const visitor: LogsVisitor<Shared, { shared: Shared, fields: ScopeFields }> = {
      resource: attributes => resourceFields(attributes),
      scope: (scope, shared) => ({ shared, fields: scopeFields(scope) }),
      record: (record, scope) => {
        let result: NormaliseResult
        if (record.tooDeep) result = { ok: false, error: `a value nests deeper than ${maxEventDepth} levels` }
        else {
          const ev = recordEvent(record, scope.shared, scope.fields, json)
          result = normaliseEvent(ev, ctx, json.text)
        }
        if (result.ok) {
          lines += result.line + '\n'
          accepted++
        } else if (rejected++ === 0) firstError = result.error
      }
    }
    try {
      if (proto) visitLogsProtobuf(request.body as Buffer, maxEventDepth, visitor)
      else visitLogsJson(request.body, maxEventDepth, visitor)
    } catch (err) {
      if (err instanceof OtlpDecodeError) throw new OtlpUndecodableError(err.message)
      throw err
    }
    service.countRejected(rejected)
    if (accepted > 0) await appendToJournal(service, lines, accepted)
    const message = rejected === 0 ? '' : `${rejected} log record(s) refused; the first: ${firstError}`
    return await reply.code(200).type(proto ? PROTOBUF : JSON_TYPE).send(exportResponse(!proto, rejected, message))
  })
}
