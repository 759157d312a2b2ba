// A ReadQuery as a MongoDB filter, with the same meaning as matchEvent (match.ts), and the matching
// documents as journal-shaped events in the answer's order. Only operators FerretDB also has: $in, $regex
// (escaped), $gt/$gte/$lt/$lte, $or, $and, $nor, $exists. Values are always values — strings, numbers,
// Dates, ObjectIds — never operators, and field paths were checked when the query was parsed.
// The query language's part comes from query/mongo.ts; where it is not exact, each document is checked
// again with the evaluator before it is answered, so MongoDB never answers differently from the journal.
import { ObjectId, type Collection, type Document, type Filter } from 'mongodb'
import { caselessRegex, isAscii, mongoTranslation } from '../query/mongo'
import { matchEvent } from './match'
import type { Hit } from './journal-search'
import type { ReadQuery } from './query'


export function mongoFilter (q: ReadQuery, snapshot: string | undefined): Filter<Document> {
  const and: Document[] = []
  if (q.apps !== undefined) and.push({ app_name: q.apps.length === 1 ? q.apps[0] : { $in: q.apps } })
  if (q.levels !== undefined) and.push({ level: { $in: q.levels } })
  // Case folding differs between JavaScript (the journal's), PCRE (mongod) and Go (FerretDB): an ASCII
  // text gets the regular expression that folds as JavaScript does; any other is left to the re-check.
  if (q.text !== undefined && isAscii(q.text)) and.push({ message: { $regex: caselessRegex(q.text) } })
  for (const f of q.fields) {
    const values: unknown[] = [f.text]
    if (f.number !== undefined) values.push(f.number)
    if (f.boolean !== undefined) values.push(f.boolean)
    and.push({ [f.path.join('.')]: values.length === 1 ? values[0] : { $in: values } })
  }
  const ts: Document = {}
  if (q.from !== undefined) ts.$gte = new Date(q.from)
  if (q.to !== undefined) ts.$lt = new Date(q.to)
  if (Object.keys(ts).length > 0) and.push({ timestamp: ts })
  if (snapshot !== undefined) and.push({ received_at: { $lte: new Date(snapshot) } })
  if (q.after !== undefined) {
    const at = new Date(q.after.timestamp)
    and.push({ $or: [{ timestamp: { $lt: at } }, { timestamp: at, _id: { $lt: ObjectId.createFromHexString(q.after.id) } }] })
  }
  if (q.expr !== undefined) and.push(mongoTranslation(q.expr).filter)
  return and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and }
}

/** The stored document as the journal holds it: _id as hex, dates as ISO strings. */
export function documentToEvent (doc: Document): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(doc)) {
    const v: unknown = doc[key]
    out[key] = v instanceof ObjectId ? v.toHexString() : v instanceof Date ? v.toISOString() : v
  }
  return out
}

export const SORT = { timestamp: -1, _id: -1 } as const

/** Whether MongoDB's answer to `q` must be checked again document by document (the filter holds for more). */
export function needsRecheck (q: ReadQuery): boolean {
  return (q.expr !== undefined && !mongoTranslation(q.expr).exact) || (q.text !== undefined && !isAscii(q.text))
}

/** The documents of `cursor` that match `q` as journal-shaped events: all of them, or those the journal's test keeps. */
export async function * matchingEvents (cursor: AsyncIterable<Document>, q: ReadQuery): AsyncGenerator<Record<string, unknown>> {
  const recheck = needsRecheck(q)
  for await (const doc of cursor) {
    const event = documentToEvent(doc)
    if (!recheck || matchEvent(event, q)) yield event
  }
}

/**
 * The matching documents, newest first, fetched in batches of `batchSize`; `limit` caps the total
 * (0 for none). Closing the iterator closes the server cursor.
 */
export async function * mongoEvents (collection: Collection<Document>, q: ReadQuery, snapshot: string | undefined,
  opts: { limit: number, batchSize: number, maxTimeMS: number }): AsyncGenerator<Hit, void, undefined> {
  // Re-checked documents may be dropped here, so the server cannot stop at the limit: this loop does.
  const limit = needsRecheck(q) ? 0 : opts.limit
  const cursor = collection.find(mongoFilter(q, snapshot), { sort: SORT, limit, batchSize: opts.batchSize, maxTimeMS: opts.maxTimeMS })
  let n = 0
  try {
    for await (const event of matchingEvents(cursor, q)) {
      yield { timestamp: event.timestamp as string, id: event._id as string, event, line: '' }
      if (++n === opts.limit) return
    }
  } finally {
    await cursor.close()
  }
}
