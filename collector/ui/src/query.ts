// The page's query is the URL's query, parameter for parameter the one GET /logs takes
// (query, app_name, level, from, to): a link reproduces the view, back/forward walk through it.
// Without `from` the page shows the last 24 hours. `q` and `f.<field>` are what the page wrote before the
// search box took the query language: links with them still work, as removable chips; nothing new writes them.
import { valueText } from './query-text'

export interface Query {
  /** The search box: the query language (the collector parses it). */
  query: string
  app_name: string
  level: string
  q: string
  from: string
  to: string
  fields: Array<[string, string]>
}

export const DEFAULT_FROM = '24h'
export const PRESETS = ['15m', '1h', '24h', '7d'] as const

export function parseQuery (search: string): Query {
  const p = new URLSearchParams(search)
  const fields: Array<[string, string]> = []
  for (const [k, v] of p) if (k.startsWith('f.') && k.length > 2) fields.push([k.slice(2), v])
  return {
    query: p.get('query') ?? '',
    app_name: p.get('app_name') ?? '',
    level: (p.get('level') ?? '').toUpperCase(),
    q: p.get('q') ?? '',
    from: p.get('from') ?? '',
    to: p.get('to') ?? '',
    fields
  }
}

/** The query as URL parameters, empty ones left out (what the address bar shows). */
export function toParams (q: Query): URLSearchParams {
  const p = new URLSearchParams()
  if (q.query !== '') p.set('query', q.query)
  if (q.app_name !== '') p.set('app_name', q.app_name)
  if (q.level !== '') p.set('level', q.level)
  if (q.q !== '') p.set('q', q.q)
  if (q.from !== '') p.set('from', q.from)
  if (q.to !== '') p.set('to', q.to)
  for (const [k, v] of q.fields) p.append(`f.${k}`, v)
  return p
}

/** The parameters sent to the read API: the URL's, with the page's default range filled in. */
export function apiParams (q: Query, opts: { range?: boolean } = {}): URLSearchParams {
  const p = toParams(q)
  if (opts.range === false) { p.delete('from'); p.delete('to') } else if (q.from === '') p.set('from', DEFAULT_FROM)
  return p
}

export function sameQuery (a: Query, b: Query): boolean {
  return toParams(a).toString() === toParams(b).toString()
}

/**
 * The page's filters as one query in the language, what a saved search or an alert keeps: the app picker
 * and the level chips folded in (`app_name = api and level >= ERROR and (…)`). Undefined when the URL has
 * the older q / f.<field> filters, whose meaning the language does not quite have: Save and Alert are
 * then disabled until those chips are removed.
 */
export function wholeQuery (q: Query): string | undefined {
  if (q.q !== '' || q.fields.length > 0) return undefined
  const parts: string[] = []
  if (q.app_name !== '') {
    const app = valueText(q.app_name)
    if (app === undefined) return undefined
    parts.push(`app_name = ${app}`)
  }
  if (q.level !== '') {
    const level = valueText(q.level)
    if (level === undefined) return undefined
    parts.push(`level >= ${level}`)
  }
  const text = q.query.trim()
  if (text !== '') parts.push(parts.length === 0 ? text : `(${text})`)
  return parts.join(' and ')
}
