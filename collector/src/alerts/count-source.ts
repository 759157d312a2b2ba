// What a count alert counts, over exactly what GET /logs sees (read/search.ts):
//
//   alert query + window ──► ReadQuery (read/query.ts) ──► Searcher.count: one histogram bucket
//                                                            MongoDB (confirmed) ∪ journal (unconfirmed),
//                                                            or the journal alone ──► { count, complete }
//                                                 └────► Searcher.page: the newest `sample` events
//
// The window is on `timestamp`, as GET /logs' from/to: both stores can narrow by it (the journal's blocks
// record their timestamp bounds, MongoDB's read indexes lead with it), where a window on received_at would
// read every block and scan the collection at each evaluation. What the alert adds on received_at (its
// revision's start, the evaluation's moment) goes into the query text, where the evaluator checks it on the
// events the timestamp window already narrowed to.
import { parseReadQuery, type ReadQuery } from '../read/query'
import { notificationEvent } from './each-group'
import type { Searcher } from '../read/search'
import type { NotificationEvent } from './model'

export interface CountResult {
  count: number
  /** False when a source did not answer (MongoDB down, a journal unreadable): `count` is then what the rest holds. */
  complete: boolean
}

/** Matches of `query` (the query language) with a timestamp in [from, to). */
export type CountMatches = (query: string, from: Date, to: Date) => Promise<CountResult>
/** The newest `limit` matches of `query` with a timestamp in [from, to), oldest first. */
export type SampleMatches = (query: string, from: Date, to: Date, limit: number) => Promise<NotificationEvent[]>

const MAX_SAMPLE = 1000

function readQuery (query: string, from: Date, to: Date, limit: number): ReadQuery {
  return parseReadQuery({ query, from: from.toISOString(), to: to.toISOString(), limit: String(limit) }, { now: to.getTime(), maxLimit: MAX_SAMPLE })
}

/** An event as a notification carries it (the one definition, shared with `each` alerts). */
export { notificationEvent }

/** `count` (countMatches) and `samples` over `searcher` — the service's, so a count sees what GET /logs sees; spread into CountEvaluatorOptions. */
export function countSource (searcher: Searcher): { count: CountMatches, samples: SampleMatches } {
  return {
    count: async (query, from, to) => {
      return await searcher.count(readQuery(query, from, to, 1), from.getTime(), to.getTime())
    },
    samples: async (query, from, to, limit) => {
      const page = await searcher.page(readQuery(query, from, to, Math.max(1, Math.min(limit, MAX_SAMPLE))))
      // The page is newest first; a notification lists its events oldest first.
      const out: NotificationEvent[] = []
      for (let i = page.hits.length - 1; i >= 0; i--) out.push(notificationEvent(page.hits[i]!.event))
      return out
    }
  }
}
