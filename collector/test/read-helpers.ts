// What the read-side tests share: posting NDJSON through inject(), one GET /logs page, and every page.
import type { FastifyInstance } from 'fastify'

export type Event = Record<string, any>

export interface Page {
  events: Event[]
  next: string | null
  source: string
  took_ms: number
  mongodb_error?: string
}

export async function postEvents (app: FastifyInstance, events: object[]): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: events.map(e => JSON.stringify(e)).join('\n') })
  if (res.statusCode !== 200 || res.json().accepted !== events.length) throw new Error(`ingest failed: ${res.body}`)
}

export async function search (app: FastifyInstance, query: string): Promise<Page> {
  const res = await app.inject({ method: 'GET', url: `/logs?${query}` })
  if (res.statusCode !== 200) throw new Error(`GET /logs?${query}: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Follows `next` to the end; `between` runs after each page. */
export async function allPages (app: FastifyInstance, query: string, between?: () => Promise<void>): Promise<Event[]> {
  const out: Event[] = []
  let cursor: string | null = null
  do {
    const page: Page = await search(app, `${query}${cursor === null ? '' : `&cursor=${cursor}`}`)
    out.push(...page.events)
    cursor = page.next
    await between?.()
  } while (cursor !== null)
  return out
}
