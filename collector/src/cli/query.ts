// Filters → the read API's query string, and the API's parameter names back to our flags (for its 400s).
// The collector ANDs them all: the query (the positional argument) and every flag.
import type { Filters } from './args'

export function queryString (f: Filters, extra: Record<string, string> = {}): URLSearchParams {
  const p = new URLSearchParams()
  // A blank query means no query to the collector as well; not sending it spares a collector that
  // predates the query language a refusal of `maap-logs search "$EMPTY"`.
  if (f.query !== undefined && f.query.trim() !== '') p.set('query', f.query)
  if (f.appName !== undefined) p.set('app_name', f.appName)
  if (f.level !== undefined) p.set('level', f.level)
  if (f.text !== undefined) p.set('q', f.text)
  for (const [key, value] of f.fields) p.set(`f.${key}`, value)
  if (f.from !== undefined) p.set('from', f.from)
  if (f.to !== undefined) p.set('to', f.to)
  for (const [k, v] of Object.entries(extra)) p.set(k, v)
  return p
}

const FLAG_OF: Record<string, string> = { app_name: '--app-name', level: '--level', q: '--query', from: '--from', to: '--to', limit: '--limit' }

/** "level: unknown level …" → "--level: unknown level …", so the message names what the user typed. */
export function inFlagTerms (message: string): string {
  const colon = message.indexOf(': ')
  if (colon === -1) return message
  const param = message.slice(0, colon)
  const flag = FLAG_OF[param] ?? (param.startsWith('f.') ? `--field ${param.slice(2)}` : undefined)
  return flag === undefined ? message : flag + message.slice(colon)
}
