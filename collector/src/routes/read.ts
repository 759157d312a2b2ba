// GET /logs (search: a JSON page, or every match as NDJSON) and GET /logs/tail (live, Server-Sent Events),
// and what is counted under the same filters (read/query.ts): /logs/histogram, /logs/values, /logs/fields.
// A read key pinned to an app reads that app alone, whatever the query asks for.
//
//   request ─► parse (a bad query never takes a slot) ─► admission (QUERY_CONCURRENCY, QUERY_QUEUE) ─► scan
//                                                          │ full: 503 MAAP_TOO_MANY_QUERIES
//   scan with a budget (QUERY_TIMEOUT; the client's close stops it too) ─► the answer, or when it ended first:
//     JSON page:    what was found, "partial": true, "reason": "time budget", "next": a cursor after it
//                   (504 MAAP_QUERY_TIMEOUT when nothing was found yet)
//     NDJSON:       the connection is cut without the response's end, as on any failure part-way: every
//                   HTTP client reports it incomplete, none can take it for the whole export
//     histogram, values, fields: 504 MAAP_QUERY_TIMEOUT (a count cut short would be a wrong count)
//     client gone:  nothing is answered; the scan stops at its next check
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BadQueryError, QueryTimeoutError, TooManyTailsError } from '../errors'
import type { QueryAdmission } from '../read/admission'
import { QueryStoppedError, type QueryBudget } from '../read/budget'
import { MAX_BUCKETS } from '../read/aggregate'
import { QuerySyntaxError } from '../query/parse'
import { QueryParameterError, fieldPath, parseReadQuery, type ReadQuery } from '../read/query'
import { LineHit, type Hit } from '../read/journal-search'
import { hitJson, type Searcher } from '../read/search'
import type { TailHub } from '../read/tail'
import { decodePosition } from '../read/tail-position'
import { drainedOrClosed } from '../streams'

const SEARCH_PARAMS = new Set(['query', 'app_name', 'level', 'q', 'from', 'to', 'limit', 'cursor'])
const TAIL_PARAMS = new Set(['query', 'app_name', 'level', 'q', 'from', 'to', 'last_event_id'])
const HISTOGRAM_PARAMS = new Set(['query', 'app_name', 'level', 'q', 'from', 'to', 'buckets'])
const VALUES_PARAMS = new Set(['query', 'app_name', 'level', 'q', 'from', 'to', 'field', 'limit'])
const FIELDS_PARAMS = new Set(['query', 'app_name', 'level', 'q', 'from', 'to', 'limit'])
const MAX_VALUES = 100
const MAX_FIELD_NAMES = 1000
const EXPORT_MAX = Number.MAX_SAFE_INTEGER
/** Bytes of NDJSON gathered before one write to the socket. */
const EXPORT_WRITE_BYTES = 256 * 1024

function queryOf (request: FastifyRequest, known: Set<string>, maxLimit?: number): ReadQuery {
  const params = request.query as Record<string, unknown>
  for (const key of Object.keys(params)) {
    if (!known.has(key) && !key.startsWith('f.')) throw new BadQueryError(`unknown parameter "${key.slice(0, 64)}"`)
  }
  try {
    return parseReadQuery(params, { pinnedApp: request.keyAppName, maxLimit })
  } catch (err) {
    if (err instanceof QuerySyntaxError) throw Object.assign(new BadQueryError(err.message), { position: err.position })
    if (err instanceof QueryParameterError) throw new BadQueryError(err.message)
    throw err
  }
}

/** A whole-number parameter from 1 to `max`, or undefined when absent. */
function count (request: FastifyRequest, name: string, max: number): number | undefined {
  const raw = (request.query as Record<string, unknown>)[name]
  if (raw === undefined) return undefined
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN
  if (!(n >= 1 && n <= max)) throw new BadQueryError(`${name}: expected a whole number from 1 to ${max}`)
  return n
}

function wantsNdjson (request: FastifyRequest): boolean {
  const accept = request.headers.accept
  return typeof accept === 'string' && accept.includes('application/x-ndjson')
}

/**
 * Writes `chunk`, waiting while the client's buffer is full; false once the client went away. `written`
 * is called once the socket is done with the chunk (then its buffer may be written again).
 */
async function send (res: ServerResponse, chunk: Buffer, written?: () => void): Promise<boolean> {
  if (res.destroyed) return false
  if (res.write(chunk, written)) return true
  await drainedOrClosed(res)
  return !res.destroyed
}

const NL = 10

/**
 * NDJSON gathered for one write: a journal hit's line is copied as its bytes are (no string, no
 * re-encoding), any other event (MongoDB's) serialised. A batch handed to the socket is reused once the
 * socket is done with it (`written`): an export of 100 MB would otherwise make 100 MB of buffers for the GC
 * to account for, beside those the scan threads hand over.
 */
class NdjsonBatch {
  private buf: Buffer = Buffer.allocUnsafe(EXPORT_WRITE_BYTES)
  /** Batches the socket is done with, to fill again (a few: the socket holds at most a high-water mark's). */
  private readonly spare: Buffer[] = []
  length = 0

  /** Adds `hit`'s line; false when the batch is not empty and the line does not fit (take(), then add again). */
  add (hit: Hit): boolean {
    const line = hit instanceof LineHit ? undefined : hitJson(hit)
    const n = (line === undefined ? (hit as LineHit).end - (hit as LineHit).start : Buffer.byteLength(line)) + 1
    if (this.length + n > this.buf.length) {
      if (this.length > 0) return false
      this.buf = Buffer.allocUnsafe(n) // one line longer than a batch: a batch of its own
    }
    if (line === undefined) {
      const h = hit as LineHit
      this.length += h.bytes.copy(this.buf, this.length, h.start, h.end)
    } else {
      this.length += this.buf.write(line, this.length)
    }
    this.buf[this.length++] = NL
    return true
  }

  /** The batch's bytes (handed to the socket: the next batch is filled in a spare buffer, or a fresh one). */
  take (): Buffer {
    const out = this.buf.subarray(0, this.length)
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(EXPORT_WRITE_BYTES)
    this.length = 0
    return out
  }

  /** `taken`, a batch `take` gave, may be filled again: the socket is done with it. */
  written (taken: Buffer): void {
    // A batch of its own (one line longer than a batch) is not kept: only buffers of the usual size are.
    if (taken.byteOffset !== 0 || taken.buffer.byteLength !== EXPORT_WRITE_BYTES || this.spare.length >= SPARE_BATCHES) return
    this.spare.push(Buffer.from(taken.buffer, 0, EXPORT_WRITE_BYTES))
  }
}

/** Spare batches kept for reuse by one export. */
const SPARE_BATCHES = 4

/**
 * Runs `run` in a query slot with its budget, and answers how it ended: its result; 504 when the budget
 * ended first (a route that can answer part does so itself); nothing when the client went away.
 */
async function admitted<T> (admission: QueryAdmission, reply: FastifyReply, run: (budget: QueryBudget) => Promise<T>,
  timeoutMs = admission.limits.timeoutMs): Promise<T | FastifyReply> {
  const res = reply.raw
  const gone = new AbortController()
  // 'close' before the answer is finished: the client went away (its socket closed) — or already had,
  // before this route was reached, which no 'close' will tell any more.
  const onClose = (): void => { if (!res.writableFinished) gone.abort() }
  res.once('close', onClose)
  if (res.destroyed || reply.request.raw.destroyed) gone.abort()
  try {
    const ticket = await admission.admit(gone.signal, timeoutMs)
    try {
      return await run(ticket.budget)
    } finally {
      ticket.finish()
    }
  } catch (err) {
    if (!(err instanceof QueryStoppedError)) throw err
    if (err.reason === 'time budget') throw new QueryTimeoutError(timeoutMs / 1000)
    // No one to answer.
    reply.hijack()
    res.destroy()
    return reply
  } finally {
    res.off('close', onClose)
  }
}

async function exportAll (searcher: Searcher, q: ReadQuery, limit: number, reply: FastifyReply, budget: QueryBudget): Promise<void> {
  const { batches, source } = await searcher.stream(q, limit, budget)
  reply.hijack()
  const res = reply.raw
  // A budget that ends while the export waits on its client (not scanning) cuts it too.
  const cut = (): void => { res.destroy() }
  budget.signal.addEventListener('abort', cut)
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-maap-source': source, 'cache-control': 'no-store' })
  // Sent now, not with the first 64 KB: a client sees the export begin, and one cut off later sees a 200
  // that never ends rather than no answer at all.
  res.flushHeaders()
  const batch = new NdjsonBatch()
  try {
    for await (const hits of batches) {
      for (const hit of hits) {
        if (batch.add(hit)) continue
        const taken = batch.take()
        if (!await send(res, taken, () => { batch.written(taken) })) return // the client went away: stop reading the store
        batch.add(hit)
      }
    }
    if (batch.length > 0) await send(res, batch.take())
    res.end()
  } catch (err) {
    // Headers are gone: cut the response so the client sees an incomplete export, not a short one.
    // A stop (the budget, the client) is counted, not logged; so is MongoDB's error once the budget ended.
    if (budget.stopOf(err) === undefined) reply.log.warn({ err: (err as Error).message }, 'export failed part-way')
    res.destroy()
  } finally {
    budget.signal.removeEventListener('abort', cut)
    await batches.return(undefined)
  }
}

export interface ReadRoutesOptions {
  searcher: () => Searcher
  tails: () => TailHub
  /** Queries in flight (not tails): read/admission.ts. */
  admission: QueryAdmission
}

export async function readRoutes (app: FastifyInstance, opts: ReadRoutesOptions): Promise<void> {
  const { admission } = opts
  app.get('/logs', async (request, reply) => {
    const searcher = opts.searcher()
    if (wantsNdjson(request)) {
      const given = (request.query as Record<string, unknown>).limit !== undefined
      const q = queryOf(request, SEARCH_PARAMS, EXPORT_MAX)
      return await admitted(admission, reply, async budget => { await exportAll(searcher, q, given ? q.limit : 0, reply, budget) },
        admission.limits.exportTimeoutMs)
    }
    const q = queryOf(request, SEARCH_PARAMS)
    return await admitted(admission, reply, async budget => {
      const started = process.hrtime.bigint()
      const page = await searcher.page(q, budget)
      const tookMs = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10
      const body = `{"events":[${page.hits.map(hitJson).join(',')}],"next":${JSON.stringify(page.next)},` +
        `"source":"${page.source}","took_ms":${tookMs}` +
        (page.partial === undefined ? '' : ',"partial":true,"reason":"time budget"') +
        (page.mongodbError === undefined ? '' : `,"mongodb_error":${JSON.stringify(page.mongodbError)}`) + '}'
      return await reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').send(body)
    })
  })

  app.get('/logs/histogram', async (request, reply) => {
    const buckets = count(request, 'buckets', MAX_BUCKETS)
    const q = queryOf(request, HISTOGRAM_PARAMS)
    return await admitted(admission, reply, async budget => {
      const h = await opts.searcher().histogram(q, buckets, budget)
      return { from: new Date(h.fromMs).toISOString(), to: new Date(h.toMs).toISOString(), interval_ms: h.intervalMs, times: h.times, levels: h.levels, total: h.total, source: h.source }
    })
  })

  app.get('/logs/values', async (request, reply) => {
    const params = request.query as Record<string, unknown>
    if (typeof params.field !== 'string' || params.field === '') throw new BadQueryError('field: name the field, e.g. field=app_name')
    let path: string[]
    try {
      path = fieldPath('field', params.field)
    } catch (err) {
      if (err instanceof QueryParameterError) throw new BadQueryError(err.message)
      throw err
    }
    const limit = count(request, 'limit', MAX_VALUES) ?? 20
    const q = queryOf(request, VALUES_PARAMS, MAX_VALUES)
    return await admitted(admission, reply, async budget => await opts.searcher().values(q, path, limit, budget))
  })

  app.get('/logs/fields', async (request, reply) => {
    const limit = count(request, 'limit', MAX_FIELD_NAMES) ?? 100
    const q = queryOf(request, FIELDS_PARAMS, MAX_FIELD_NAMES)
    return await admitted(admission, reply, async budget => await opts.searcher().fields(q, limit, budget))
  })

  app.get('/logs/tail', async (request, reply) => {
    const tails = opts.tails()
    const q = queryOf(request, TAIL_PARAMS)
    const header = request.headers['last-event-id']
    const fromQuery = (request.query as Record<string, unknown>).last_event_id
    const lastEventId = typeof header === 'string' && header !== '' ? header : typeof fromQuery === 'string' ? fromQuery : undefined
    if (lastEventId !== undefined && decodePosition(lastEventId) === undefined) {
      throw new BadQueryError('last_event_id: not an id this tail sent (pass the last "id:" received as it is)')
    }
    if (tails.size >= tails.maxClients) throw new TooManyTailsError(tails.maxClients)
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no'
    })
    res.socket?.setNoDelay(true)
    const closed = new Promise<void>(resolve => res.once('close', () => resolve()))
    await tails.open(q, lastEventId, {
      write: data => !res.destroyed && res.write(data),
      drained: async () => { await once(res, 'drain') },
      closed,
      buffered: () => res.writableLength,
      end: () => { if (!res.destroyed) res.end() }
    })
  })
}
