// POST /log (one event, the original API) and POST /logs (a batch: JSON array or NDJSON, optionally
// gzip-encoded). Each event is validated and normalised on its own, so bad elements never take their
// good neighbours down; the good ones are journaled in one write before the reply.
//
// With an Idempotency-Key, a request is a batch that is stored once however often it is sent:
//
//   key ─► known here? ──yes──► the first answer (Idempotent-Replayed: true), nothing stored
//            │ no (or: wait while the same key is in flight)
//            ▼
//   validate, each event's _id derived from the key and its index ─► journaled by a killed process? ─yes─┐
//            │ no                                                                                         │
//            ▼                                                                                            ▼
//   journal, with the key's record (the journal's sidecar remembers it) ─► answer       remember ─► answer
//
// A request made with a browser key (browser/identify.ts let it in) may also send its NDJSON as text/plain
// and its Idempotency-Key as ?batch=, is held to 256 KB, and is refused whole (403) when an event names
// another app_name than the key's (browser/body.ts).
import type { FastifyInstance, FastifyReply } from 'fastify'
import { InvalidEventError, InvalidJsonError, NoEventsError, UnsupportedMediaTypeError } from '../errors'
import type { IdOf } from '../idempotency/derived-ids'
import type { KeyRecord, StoredAnswer } from '../idempotency/key-log'
import { normaliseEvent, type IngestContext } from '../normalise/normalise'
import type { RouteCounts } from '../metrics/ingest-counts'
import type { CollectorMetrics } from '../metrics/metrics'
import type { CollectorService } from '../service'
import { applyMapping, shipperMapping, type ShipperMapping } from '../shippers/mapping'
import { AppTally } from '../quota/app-tally'
import { withinQuota } from './app-quota'
import { appendToJournal, eventLimits, ingestContext } from './journal-append'
import { ANSWERED, KeyedBatch, replayed, sendAnswer } from './keyed-batch'
import { checkBrowserApp, limitBrowserBody } from '../browser/body'

interface Rejection {
  index: number
  error: string
}

const logReply = {
  201: {
    type: 'object',
    properties: { status: { type: 'string' }, message: { type: 'string' }, timestamp: { type: 'string' } }
  }
}
const batchReply = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    accepted: { type: 'integer' },
    rejected: {
      type: 'array',
      items: { type: 'object', properties: { index: { type: 'integer' }, error: { type: 'string' } } }
    }
  }
}

/** How a batch line that is not JSON is reported (and counted: reason `invalid_json`). */
const NOT_JSON = 'not valid JSON: '

/** What the good events of a batch become: journal lines, and how many. */
interface Accepted {
  lines: string
  count: number
  /**
   * The index of the last good element (-1: none). Its derived id tells whether a killed process journaled
   * the batch: a batch's lines are written in one piece, so if its last line is whole, all of it is.
   */
  last: number
}

/**
 * Validates and normalises each element of a batch; the good ones become journal lines, the bad ones
 * rejections by index. NDJSON lines are parsed and normalised one at a time, so a batch's parsed
 * objects die young instead of all staying alive until the last line is read. `idOf` gives each event
 * its _id by its index in the batch (a keyed batch); else each gets a new one.
 */
function acceptBatch (body: string | unknown[], ctx: IngestContext, rejected: Rejection[], mapping?: ShipperMapping, idOf?: IdOf,
  tally?: AppTally, browserApp?: string): Accepted {
  const out: Accepted = { lines: '', count: 0, last: -1 }
  const take = (element: unknown, index: number, text?: string): void => {
    const id = idOf?.(index)
    // A mapped record no longer matches its text, so it is serialised rather than spliced.
    const event = mapping === undefined ? element : applyMapping(element, mapping)
    // Throws before anything is journaled: the request is refused whole.
    if (browserApp !== undefined) checkBrowserApp(event, index, browserApp)
    const result = normaliseEvent(event, ctx, mapping === undefined ? text : undefined, id)
    if (result.ok) {
      out.lines += result.line + '\n'
      out.count++
      out.last = index
      tally?.add(appOf(event, ctx))
    } else {
      rejected.push({ index, error: result.error })
    }
  }
  if (typeof body !== 'string') {
    for (let i = 0; i < body.length; i++) take(body[i], i)
    return out
  }
  let index = 0
  let start = 0
  while (start < body.length) {
    let end = body.indexOf('\n', start)
    if (end === -1) end = body.length
    let line = body.slice(start, end)
    start = end + 1
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line.trim() === '') continue
    let element: unknown
    try {
      element = JSON.parse(line)
    } catch (err) {
      rejected.push({ index: index++, error: `${NOT_JSON}${(err as Error).message}` })
      continue
    }
    take(element, index++, line)
  }
  return out
}

/** The app_name of an event normaliseEvent accepted: the key's, else its own (a string, or it was refused). */
function appOf (event: unknown, ctx: IngestContext): string {
  return ctx.appName ?? (event as { app_name: string }).app_name
}

export async function ingestRoutes (app: FastifyInstance, opts: { service: CollectorService, metrics: CollectorMetrics }): Promise<void> {
  const { service, metrics } = opts
  const limits = eventLimits(service.config)
  const context = (appName: string | undefined) => ingestContext(limits, appName, service.redactor)
  const batchKeys = service.batchKeys
  const quota = service.quota

  async function journal (lines: string, events: number, counts: RouteCounts, record?: KeyRecord): Promise<void> {
    const started = performance.now()
    await appendToJournal(service, lines, events, reason => counts.countRejected(reason, events), record)
    metrics.journalCommit((performance.now() - started) / 1000)
    counts.countAccepted(events)
  }

  const logCounts = metrics.ingest.route('/log')
  const logsCounts = metrics.ingest.route('/logs')

  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  // text/plain is what sendBeacon and fetch without a preflight can send: NDJSON, from a browser key, on
  // /logs. From anyone else (or on /log, which takes one JSON event) it stays the 415 it always was.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (req, body, done) => {
    if (req.browserKey !== undefined && req.routeOptions.url === '/logs') return done(null, body)
    done(new UnsupportedMediaTypeError(req.browserKey === undefined
      ? 'Content-Type "text/plain" is not accepted: send application/json, application/x-ndjson, or NDJSON without a Content-Type (text/plain is taken from browser keys alone, BROWSER_API_KEYS)'
      : 'Content-Type "text/plain" is taken on POST /logs alone: send one event to /log as application/json'))
  })
  // No Content-Type (some shippers send none): read as NDJSON, or as a JSON array when it is one.
  // Any other type stays a 415.
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    const type = req.headers['content-type']
    if (type !== undefined) return done(new UnsupportedMediaTypeError(`Content-Type "${type.slice(0, 100)}" is not accepted: send application/json, application/x-ndjson, or NDJSON without a Content-Type`))
    if ((body as string).trimStart().startsWith('[')) {
      try {
        return done(null, JSON.parse(body as string))
      } catch (err) {
        return done(new InvalidJsonError((err as Error).message))
      }
    }
    done(null, body)
  })

  app.post('/log', { schema: { response: logReply }, preParsing: limitBrowserBody }, async (request, reply) => {
    const keyed = await KeyedBatch.begin(batchKeys, request, '/log', [request.body], reply)
    if (keyed === ANSWERED) return reply
    try {
      const ctx = context(request.browserKey?.appName ?? request.keyAppName)
      logCounts.countBody(request.headers['content-length'])
      // No body, or only blank lines (NDJSON or no Content-Type): no event, as on /logs.
      if (request.body === undefined || (typeof request.body === 'string' && request.body.trim() === '')) throw new NoEventsError()
      if (request.browserKey !== undefined) checkBrowserApp(request.body, 0, request.browserKey.appName)
      logCounts.countReceived(1)
      const result = normaliseEvent(request.body, ctx, undefined, keyed?.ids(ctx.receivedAt)(0))
      if (!result.ok) {
        logCounts.countRejected('invalid_event', 1)
        throw new InvalidEventError(result.error)
      }
      const answer = { status: 201, body: { status: 'success', message: 'Log recorded', timestamp: ctx.receivedAt } }
      const record = keyed?.record(1, answer)
      if (keyed?.foundJournaled(0, record) === true) return await sendAnswer(replayed(reply), answer)
      const tally = quota === undefined ? undefined : new AppTally()
      tally?.add(appOf(request.body, ctx))
      await withinQuota(quota, tally, reply, () => logCounts.countRejected('quota_exceeded', 1),
        async () => await journal(result.line + '\n', 1, logCounts, record))
      return await sendAnswer(reply, answer)
    } finally {
      keyed?.release()
    }
  })

  app.post('/logs', { schema: { response: { 200: batchReply } }, preParsing: limitBrowserBody }, async (request, reply: FastifyReply) => {
    const body = request.body
    let elements: string | unknown[]
    if (typeof body === 'string' || Array.isArray(body)) elements = body
    else if (body === undefined) throw new NoEventsError()
    // One JSON value that is not an array is one event, refused (and counted) if it is not an object.
    else elements = [body]
    const keyed = await KeyedBatch.begin(batchKeys, request, '/logs', elements, reply)
    if (keyed === ANSWERED) return reply
    try {
      const rejected: Rejection[] = []
      const browserApp = request.browserKey?.appName
      const mapping = shipperMapping(browserApp === undefined ? request.query : mappingQuery(request.query), limits.maxFieldNameLength)
      const ctx = context(browserApp ?? request.keyAppName)
      const tally = quota === undefined ? undefined : new AppTally()
      const { lines, count: accepted, last } = acceptBatch(elements, ctx, rejected, mapping, keyed?.ids(ctx.receivedAt), tally, browserApp)
      logsCounts.countBody(request.headers['content-length'])
      if (accepted === 0 && rejected.length === 0) throw new NoEventsError()
      logsCounts.countReceived(accepted + rejected.length)
      for (const r of rejected) {
        logsCounts.countRejected(r.error.startsWith(NOT_JSON) ? 'invalid_json' : 'invalid_event', 1)
      }
      const answer = batchAnswer(accepted, rejected)
      const record = keyed?.record(accepted + rejected.length, answer)
      if (keyed?.foundJournaled(last, record) === true) return await sendAnswer(replayed(reply), answer)
      if (accepted > 0) {
        await withinQuota(quota, tally, reply, () => logsCounts.countRejected('quota_exceeded', accepted),
          async () => await journal(lines, accepted, logsCounts, record))
      } else keyed?.rememberUnjournaled(record)
      return await sendAnswer(reply, answer)
    } finally {
      keyed?.release()
    }
  })
}

/** A browser-key request's query without its key and batch id: what is left asks for a field mapping. */
function mappingQuery (query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return query
  const { key: _key, batch: _batch, ...rest } = query as Record<string, unknown>
  return rest
}

/** The answer to a /logs batch: a number when all was accepted (sendAnswer writes it out), else status and body. */
function batchAnswer (accepted: number, rejected: Rejection[]): StoredAnswer {
  if (rejected.length === 0) return accepted
  if (accepted === 0) return { status: 400, body: { status: 'error', message: 'no event in the batch was acceptable; see rejected', accepted, rejected } }
  return { status: 200, body: { status: 'partial', accepted, rejected } }
}
