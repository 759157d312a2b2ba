// A ReadQuery as a MongoDB filter, with the same meaning as matchEvent (match.ts), and the matching
// documents as journal-shaped events in the answer's order. Only operators FerretDB also has: $in, $regex
// (escaped, case-insensitive), $gte/$lt/$lte, $or. Values are always values — strings, numbers, Dates,
// ObjectIds — never operators, and field paths were checked when the query was parsed.
import { ObjectId, type Collection, type Document, type Filter } from 'mongodb'
import type { Hit } from './journal-search'
import type { ReadQuery } from './query'

function escapeRegex (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export function mongoFilter (q: ReadQuery, snapshot: string | undefined): Filter<Document> {
  const and: Document[] = []
  if (q.apps !== undefined) and.push({ app_name: q.apps.length === 1 ? q.apps[0] : { $in: q.apps } })
  if (q.levels !== undefined) and.push({ level: { $in: q.levels } })
  if (q.text !== undefined) and.push({ message: { $regex: escapeRegex(q.text), $options: 'i' } })
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

/**
 * The matching documents, newest first, fetched in batches of `batchSize`; `limit` caps the total
 * (0 for none). Closing the iterator closes the server cursor.
 */
export async function * mongoEvents (collection: Collection<Document>, q: ReadQuery, snapshot: string | undefined,
  opts: { limit: number, batchSize: number, maxTimeMS: number }): AsyncGenerator<Hit, void, undefined> {
  const cursor = collection.find(mongoFilter(q, snapshot), { sort: SORT, limit: opts.limit, batchSize: opts.batchSize, maxTimeMS: opts.maxTimeMS })
  try {
    for await (const doc of cursor) {
      const event = documentToEvent(doc)
      yield { timestamp: event.timestamp as string, id: event._id as string, event, line: '' }
    }
  } finally {
    await cursor.close()
  }
}
