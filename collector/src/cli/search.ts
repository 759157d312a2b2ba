// maap-logs search: the newest N matches, printed oldest first (the end of a log file), or --all of them
// streamed newest first.
//
//   N ≤ 1000:  GET /logs?limit=N            → one JSON page, reversed
//   N > 1000:  GET /logs?limit=N (NDJSON)   → N lines held, reversed (the user asked for N)
//   --all:     GET /logs (NDJSON)           → each line printed as it arrives
import { MAX_PAGE, type SearchOptions } from './args'
import { get } from './http'
import { lineBatches } from './lines'
import type { Output } from './output'
import { queryString } from './query'

/** Text gathered before one write to stdout. */
const WRITE_BYTES = 64 * 1024

interface Page {
  events: Array<Record<string, unknown>>
  next: string | null
  mongodb_error?: string
  /** Set when the collector's time budget (QUERY_TIMEOUT) ended the search: `events` are the newest found so far. */
  partial?: boolean
}

export interface Notices {
  /** One line on stderr. */
  notice: (text: string) => void
  /** Whether stderr is a terminal (hints are for people, not for logs of scripts). */
  interactive: boolean
}

export async function search (opts: SearchOptions, out: Output, notices: Notices, signal: AbortSignal): Promise<void> {
  const ndjson = opts.limit === undefined || opts.limit > MAX_PAGE
  const params = queryString(opts.filters, opts.limit === undefined ? {} : { limit: String(opts.limit) })
  const res = await get(opts, 'logs', params, { accept: ndjson ? 'application/x-ndjson' : 'application/json' }, signal)
  if (!ndjson) {
    const page = await res.json() as Page
    if (page.mongodb_error !== undefined) notices.notice(`MongoDB did not answer (${page.mongodb_error}); these are the events still in the collector's journal`)
    let text = ''
    for (let i = page.events.length - 1; i >= 0; i--) text += out.event(page.events[i]!)
    await out.raw(text)
    if (page.partial === true) {
      // Said to scripts too: an answer cut short must never pass for a whole one.
      notices.notice(`the collector's time budget (QUERY_TIMEOUT) ended the search: the ${page.events.length} newest found so far are shown; more may match`)
    } else if (page.next !== null && notices.interactive) {
      notices.notice(`the ${page.events.length} newest shown; older events match too (--limit N, or --all)`)
    }
    return
  }
  const body = res.body
  if (body === null) return
  if (opts.limit === undefined) {
    for await (const batch of lineBatches(body)) {
      await out.raw(batch.map(l => out.line(l)).join(''))
      if (out.closed) return
    }
    return
  }
  const held: string[] = []
  for await (const batch of lineBatches(body)) for (const l of batch) held.push(l)
  let text = ''
  for (let i = held.length - 1; i >= 0; i--) {
    text += out.line(held[i]!)
    if (text.length >= WRITE_BYTES) {
      await out.raw(text)
      text = ''
      if (out.closed) return
    }
  }
  await out.raw(text)
}
