// GET /logs answered from the right store:
//
//   MongoDB configured and up:  MongoDB (what is confirmed) ∪ journal after each checkpoint (not yet)
//   MongoDB down, or embedded:  the journal alone (every segment still on disk)
//
// The checkpoint is read before MongoDB is asked, so an event acknowledged before the request is either
// confirmed (and MongoDB has it) or after the checkpoint (and the journal part has it): read your writes.
// An event both stored and not yet checkpointed is in both and answered once (merge.ts).
import { isoFromMillis } from '../normalise/iso-time'
import { histogram, histogramRange, values, type Histogram, type Values } from './aggregate'
import { QueryBudget } from './budget'
import { encodeCursor } from './cursor'
import { FIELDS_SAMPLE, fieldsOf, type Fields } from './fields'
import { journalBatches, journalEvents, type Hit } from './journal-search'
import { mergeHits } from './merge'
import { mongoEvents } from './mongo-query'
import type { ReadQuery } from './query'
import type { JournalSet, MongoReadSide, ReadSource } from './sources'

export interface Page {
  hits: Hit[]
  next: string | null
  source: ReadSource
  /** Why MongoDB did not answer, when it is configured but the journal did. */
  mongodbError?: string
  /** The time budget ended first: `hits` are the newest matches in order, `next` goes on after them. */
  partial?: true
}

export interface HitStream {
  /** The answer in order, a batch at a time (the journal gives many hits at once; MongoDB's come one by one). */
  batches: AsyncGenerator<Hit[], void, undefined>
  source: ReadSource
}

/** How long a search waits for MongoDB before answering from the journal. */
const MONGO_MAX_TIME_MS = 10_000

export class Searcher {
  /** Exports (NDJSON streams) still reading, and the events every answer has carried: for /metrics and tests. */
  streamsOpen = 0
  eventsAnswered = 0

  constructor (private readonly journals: JournalSet, private readonly mongo: MongoReadSide | undefined) {}

  /**
   * One page of at most `q.limit` events, and the cursor to the next when there are more. When `budget`
   * ends first the page holds what was found (a prefix of the full answer) and says so (`partial`);
   * QueryStoppedError when it ended before anything was found, or the client went away.
   */
  async page (q: ReadQuery, budget = new QueryBudget()): Promise<Page> {
    const snapshot = q.after?.snapshot ?? isoFromMillis(Date.now())
    const want = q.limit + 1
    let mongodbError: string | undefined
    if (this.mongo !== undefined && this.mongo.connected()) {
      try {
        return this.answered(pageOf(await take(await this.merged(q, snapshot, want, budget), want, budget), q.limit, snapshot, 'mongodb'))
      } catch (err) {
        const stop = budget.stopOf(err)
        if (stop !== undefined) throw stop
        mongodbError = (err as Error).message
      }
    } else if (this.mongo !== undefined) {
      mongodbError = 'MongoDB is not connected'
    }
    const page = this.answered(pageOf(await take(await this.journalOnly(q, snapshot, budget), want, budget), q.limit, snapshot, 'journal'))
    return mongodbError === undefined ? page : { ...page, mongodbError }
  }

  private answered (page: Page): Page {
    this.eventsAnswered += page.hits.length
    return page
  }

  /** Every match, newest first, for an export; `limit` caps it (0: no cap). */
  async stream (q: ReadQuery, limit: number, budget = new QueryBudget()): Promise<HitStream> {
    const snapshot = isoFromMillis(Date.now())
    const mongo = this.mongo !== undefined && this.mongo.connected()
    const batches = mongo
      ? singles(await this.merged(q, snapshot, limit, budget))
      : journalBatches(await this.journals.sources(), q, { snapshot, unconfirmedOnly: false, expiry: this.journals.expiry, budget })
    return { batches: this.counted(batches, limit), source: mongo ? 'mongodb' : 'journal' }
  }

  /** The batches up to `limit` hits in all (0: all of them), each counted as it is handed on. */
  private async * counted (batches: AsyncGenerator<Hit[], void, undefined>, limit: number): AsyncGenerator<Hit[], void, undefined> {
    this.streamsOpen++
    let left = limit > 0 ? limit : Infinity
    try {
      for await (let batch of batches) {
        if (batch.length > left) batch = batch.slice(0, left)
        this.eventsAnswered += batch.length
        left -= batch.length
        yield batch
        if (left === 0) return
      }
    } finally {
      this.streamsOpen--
      await batches.return(undefined)
    }
  }

  /** Counts per time bucket and level (GET /logs/histogram). */
  async histogram (q: ReadQuery, buckets: number | undefined, budget = new QueryBudget()): Promise<Histogram> {
    return await histogram(this.journals, this.mongo, q, histogramRange(q, buckets, Date.now()), budget)
  }

  /**
   * How many events match `q` with a timestamp in [fromMs, toMs), counted as the histogram counts them (one
   * bucket; no event is materialised), and whether every source answered: MongoDB when it is configured
   * (the journal alone does not hold what other collectors stored), and every journal this process lists.
   */
  async count (q: ReadQuery, fromMs: number, toMs: number): Promise<{ count: number, complete: boolean }> {
    const failures = this.journals.failures
    const h = await histogram(this.journals, this.mongo, q, { fromMs, toMs, intervalMs: Math.max(toMs - fromMs, 1), times: [fromMs] })
    return { count: h.total, complete: (this.mongo === undefined || h.source === 'mongodb') && this.journals.failures === failures }
  }

  /** The most frequent values of a field (GET /logs/values). */
  async values (q: ReadQuery, path: readonly string[], limit: number, budget = new QueryBudget()): Promise<Values> {
    return await values(this.journals, this.mongo, q, path, limit, budget)
  }

  /** The most frequent field names among the newest matches (GET /logs/fields); the journal when MongoDB fails. */
  async fields (q: ReadQuery, limit: number, budget = new QueryBudget()): Promise<Fields> {
    const snapshot = isoFromMillis(Date.now())
    const fresh: ReadQuery = { ...q, after: undefined }
    if (this.mongo !== undefined && this.mongo.connected()) {
      try {
        return await fieldsOf(await this.merged(fresh, snapshot, FIELDS_SAMPLE + 1, budget), limit, 'mongodb')
      } catch (err) {
        const stop = budget.stopOf(err)
        if (stop !== undefined) throw stop
        // As a search does: the journal answers alone.
      }
    }
    return await fieldsOf(await this.journalOnly(fresh, snapshot, budget), limit, 'journal')
  }

  private async merged (q: ReadQuery, snapshot: string, limit: number, budget: QueryBudget): Promise<AsyncGenerator<Hit, void, undefined>> {
    const sources = await this.journals.sources()
    const journal = journalEvents(sources, q, { snapshot, unconfirmedOnly: true, expiry: this.journals.expiry, budget })
    // The journal side goes first: its first step reads the checkpoints, before MongoDB is queried.
    const first = await journal.next()
    // MongoDB stops by itself when the budget ends (a budget below a millisecond still asks for one).
    const maxTimeMS = Math.max(Math.min(MONGO_MAX_TIME_MS, Math.ceil(budget.remainingMs())), 1)
    const stored = mongoEvents(this.mongo!.collection, q, snapshot, { limit, batchSize: Math.min(Math.max(limit, 100), 1000), maxTimeMS })
    return mergeHits(prepend(first, journal), stored)
  }

  private async journalOnly (q: ReadQuery, snapshot: string, budget: QueryBudget): Promise<AsyncGenerator<Hit, void, undefined>> {
    return journalEvents(await this.journals.sources(), q, { snapshot, unconfirmedOnly: false, expiry: this.journals.expiry, budget })
  }
}

async function * singles (hits: AsyncGenerator<Hit, void, undefined>): AsyncGenerator<Hit[], void, undefined> {
  try {
    for await (const hit of hits) yield [hit]
  } finally {
    await hits.return(undefined)
  }
}

async function * prepend (first: IteratorResult<Hit, void>, rest: AsyncGenerator<Hit, void, undefined>): AsyncGenerator<Hit, void, undefined> {
  try {
    if (first.done === true) return
    yield first.value
    yield * rest
  } finally {
    await rest.return(undefined)
  }
}

/** Up to `n` hits; fewer, `cut`, when the time budget ended first (they are the answer's first ones, in order). */
async function take (hits: AsyncGenerator<Hit, void, undefined>, n: number, budget: QueryBudget): Promise<{ hits: Hit[], cut: boolean }> {
  const out: Hit[] = []
  try {
    for await (const hit of hits) {
      out.push(hit)
      if (out.length >= n) break
      // MongoDB's side of a merge does not check the budget: the merged stream is checked here.
      budget.check()
    }
  } catch (err) {
    const stop = budget.stopOf(err)
    // Nothing found yet: no page to answer, the route answers 504.
    if (stop?.reason !== 'time budget' || out.length === 0) throw stop ?? err
    return { hits: out, cut: true }
  } finally {
    await hits.return(undefined)
  }
  return { hits: out, cut: false }
}

function pageOf ({ hits, cut }: { hits: Hit[], cut: boolean }, limit: number, snapshot: string, source: ReadSource): Page {
  if (cut) {
    const last = hits[hits.length - 1]!
    return { hits, next: encodeCursor({ timestamp: last.timestamp, id: last.id, snapshot }), source, partial: true }
  }
  if (hits.length <= limit) return { hits, next: null, source }
  const last = hits[limit - 1]!
  return { hits: hits.slice(0, limit), next: encodeCursor({ timestamp: last.timestamp, id: last.id, snapshot }), source }
}

/** An event as the API answers it: its journal line as it is, or the MongoDB document in that shape. */
export function hitJson (hit: Hit): string {
  return hit.line !== '' ? hit.line : JSON.stringify(hit.event)
}
