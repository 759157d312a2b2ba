// GET /logs/fields: which field names the matching events carry, for a search box that completes them.
//
//   the newest FIELDS_SAMPLE matching events (Searcher: MongoDB ∪ unconfirmed journal, or the journal)
//     ──► each event walked once: a dotted path per value that is not an object ──► count and JSON types
//     ──► the most frequent `limit` names
//
// A sample of the newest events, not every match: the names a user is about to type are those of recent
// events, and a sample keeps the cost of one page load flat however much is stored.
// Paths are the query language's: an object's keys join with dots, an array of objects is walked into
// (`items.sku`, as `items.sku = x` matches), and a name the language could not address (a `$` start or a
// `.` inside, which ingest renames anyway) is left out.
import type { Hit } from './journal-search'
import { FIELD_SEGMENT, MAX_PATH_PARTS } from './parameters'
import type { ReadSource } from './sources'

/** Events read at most for one answer; `sampled` says when more matched. */
export const FIELDS_SAMPLE = 10_000
/** Distinct names tracked at most, so that events with ever-new keys cannot grow the tally without bound. */
const MAX_TRACKED = 5000

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array'

export interface FieldCount {
  name: string
  /** The JSON types seen under this name, sorted. */
  types: JsonType[]
  /** Sampled events that carry it (once per event, however many array items hold it). */
  count: number
}

export interface Fields {
  fields: FieldCount[]
  sampled: boolean
  source: ReadSource
}

interface Tally { count: number, types: Set<JsonType>, lastEvent: number }

function jsonType (v: unknown): JsonType | undefined {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  const t = typeof v
  return t === 'string' || t === 'number' || t === 'boolean' ? t : undefined
}

export class FieldTally {
  private readonly names = new Map<string, Tally>()
  private events = 0

  add (event: Record<string, unknown>): void {
    this.events++
    this.walk(event, '', 0)
  }

  private walk (obj: object, prefix: string, depth: number): void {
    for (const [key, v] of Object.entries(obj)) {
      if (!FIELD_SEGMENT.test(key)) continue
      const name = prefix === '' ? key : `${prefix}.${key}`
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        if (depth + 1 < MAX_PATH_PARTS) this.walk(v, name, depth + 1)
        continue
      }
      const type = jsonType(v)
      if (type !== undefined) this.seen(name, type)
      if (Array.isArray(v) && depth + 1 < MAX_PATH_PARTS) {
        for (const item of v) if (item !== null && typeof item === 'object' && !Array.isArray(item)) this.walk(item, name, depth + 1)
      }
    }
  }

  private seen (name: string, type: JsonType): void {
    let t = this.names.get(name)
    if (t === undefined) {
      if (this.names.size >= MAX_TRACKED) return
      t = { count: 0, types: new Set(), lastEvent: 0 }
      this.names.set(name, t)
    }
    t.types.add(type)
    // An array of objects reaches the same name once per item: count the event once.
    if (t.lastEvent !== this.events) {
      t.lastEvent = this.events
      t.count++
    }
  }

  /** The `limit` most frequent names, ties by name. */
  top (limit: number): FieldCount[] {
    return [...this.names]
      .map(([name, t]) => ({ name, types: [...t.types].sort(), count: t.count }))
      .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, limit)
  }
}

/** Tallies the first FIELDS_SAMPLE hits (newest first) and closes the stream. */
export async function fieldsOf (hits: AsyncGenerator<Hit, void, undefined>, limit: number, source: ReadSource): Promise<Fields> {
  const tally = new FieldTally()
  let n = 0
  let sampled = false
  try {
    for await (const hit of hits) {
      if (++n > FIELDS_SAMPLE) {
        sampled = true
        break
      }
      tally.add(hit.event)
    }
  } finally {
    await hits.return(undefined)
  }
  return { fields: tally.top(limit), sampled, source }
}
