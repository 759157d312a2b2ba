// The read API's parameters (GET /logs, /logs/tail, and what builds on them), parsed and checked once
// into a ReadQuery that both stores answer: the journal (match.ts) and MongoDB (mongo-query.ts). Every
// parameter is taken as data — nothing of it reaches MongoDB as an operator or a field name unchecked.
// `query`, the query language (query/parse.ts), is ANDed with the others; what every match of it must hold
// (query/implied.ts) is folded into the simple filters, which the read side's fast paths know how to use.
import { CANONICAL_LEVELS, canonicalLevel, type Level } from '../normalise/levels'
import type { Expr } from '../query/ast'
import { impliedBy } from '../query/implied'
import { parseQuery } from '../query/parse'
import { decodeCursor, type Cursor } from './cursor'
import { QueryParameterError, fieldPath, parseTime } from './parameters'

export { QueryParameterError, fieldPath, parseTime }

export interface FieldFilter {
  /** The stored field, by path (`http.status` → ['http', 'status']). */
  path: readonly string[]
  /** The value as given; `number` / `boolean` when the text also reads as one (then either matches). */
  text: string
  number: number | undefined
  boolean: boolean | undefined
}

export interface ReadQuery {
  /** app_name is one of these (a read key pinned to an app makes it that app alone). */
  apps: readonly string[] | undefined
  /** Levels at or above the minimum asked for; undefined for every level. */
  levels: readonly Level[] | undefined
  /** Lower-cased text that `message` contains, case-insensitively. */
  text: string | undefined
  fields: readonly FieldFilter[]
  /** ISO 8601 bounds on `timestamp`: from inclusive, to exclusive. */
  from: string | undefined
  to: string | undefined
  limit: number
  /** Where the previous page ended (exclusive). */
  after: Cursor | undefined
  /** The `query` parameter's tree; every match satisfies it too (query/evaluate.ts). */
  expr: Expr | undefined
}

export const DEFAULT_LIMIT = 100
export const MAX_PAGE_LIMIT = 1000
const MAX_TEXT = 1024
const MAX_FIELDS = 20

type Params = Record<string, unknown>

/** One value of a parameter: a repeated one (`?level=a&level=b`) is refused rather than guessed at. */
function single (params: Params, name: string): string | undefined {
  const v = params[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new QueryParameterError(name, 'give it once')
  return v
}

function levelsFrom (raw: string): Level[] {
  const min = canonicalLevel(/^\d+$/.test(raw) ? Number(raw) : raw)
  if (min === undefined) {
    throw new QueryParameterError('level', `unknown level "${raw.slice(0, 32)}"; use one of ${CANONICAL_LEVELS.join(', ')} (or any name or number ingest accepts)`)
  }
  return CANONICAL_LEVELS.slice(CANONICAL_LEVELS.indexOf(min))
}

function fieldFilter (key: string, value: unknown): FieldFilter {
  if (typeof value !== 'string') throw new QueryParameterError(key, 'give it once')
  const path = fieldPath(key, key.slice(2))
  if (value.length > MAX_TEXT) throw new QueryParameterError(key, `longer than ${MAX_TEXT} characters`)
  const n = value.trim() === '' ? NaN : Number(value)
  return {
    path,
    text: value,
    number: Number.isFinite(n) ? n : undefined,
    boolean: value === 'true' ? true : value === 'false' ? false : undefined
  }
}

export interface ParseOptions {
  now?: number
  /** The app a read key is pinned to: it replaces whatever app_name the query asks for. */
  pinnedApp?: string
  maxLimit?: number
}

export function parseReadQuery (params: Params, opts: ParseOptions = {}): ReadQuery {
  const now = opts.now ?? Date.now()
  const appParam = single(params, 'app_name')
  let apps = appParam === undefined ? undefined : appParam.split(',').map(a => a.trim()).filter(a => a !== '')
  if (apps !== undefined && (apps.length === 0 || apps.length > 100 || apps.some(a => a.length > 256))) {
    throw new QueryParameterError('app_name', 'one to 100 names of at most 256 characters, separated by commas')
  }
  if (opts.pinnedApp !== undefined) apps = [opts.pinnedApp]

  const levelParam = single(params, 'level')
  const levels = levelParam === undefined ? undefined : levelsFrom(levelParam)

  const q = single(params, 'q')
  if (q !== undefined && q.length > MAX_TEXT) throw new QueryParameterError('q', `longer than ${MAX_TEXT} characters`)

  const fields: FieldFilter[] = []
  for (const key of Object.keys(params)) {
    if (key.startsWith('f.')) fields.push(fieldFilter(key, params[key]))
  }
  if (fields.length > MAX_FIELDS) throw new QueryParameterError('f.*', `at most ${MAX_FIELDS} field filters`)

  const fromParam = single(params, 'from')
  const toParam = single(params, 'to')
  const from = fromParam === undefined ? undefined : parseTime('from', fromParam, now)
  const to = toParam === undefined ? undefined : parseTime('to', toParam, now)
  if (from !== undefined && to !== undefined && from > to) throw new QueryParameterError('from', 'is after to')

  const maxLimit = opts.maxLimit ?? MAX_PAGE_LIMIT
  const limitParam = single(params, 'limit')
  let limit = DEFAULT_LIMIT
  if (limitParam !== undefined) {
    limit = /^\d{1,9}$/.test(limitParam) ? Number(limitParam) : NaN
    if (!(limit >= 1 && limit <= maxLimit)) throw new QueryParameterError('limit', `expected a whole number from 1 to ${maxLimit}`)
  }

  const cursorParam = single(params, 'cursor')
  const after = cursorParam === undefined || cursorParam === '' ? undefined : decodeCursor(cursorParam)
  if (cursorParam !== undefined && cursorParam !== '' && after === undefined) {
    throw new QueryParameterError('cursor', 'not a cursor this API made: pass the "next" of the previous page as it is')
  }

  const read: ReadQuery = {
    apps,
    levels,
    text: q === undefined || q === '' ? undefined : q.toLowerCase(),
    fields,
    from,
    to,
    limit,
    after,
    expr: undefined
  }
  const source = single(params, 'query')
  return source === undefined || source.trim() === '' ? read : withExpression(read, parseQuery(source))
}

/** `q` ANDed with `expr`: the tree, and what it implies folded into the simple filters. */
export function withExpression (q: ReadQuery, expr: Expr): ReadQuery {
  const implied = impliedBy(expr)
  const narrower = (a: string | undefined, b: string | undefined, later: boolean): string | undefined =>
    a === undefined ? b : b === undefined ? a : (later ? (b > a ? b : a) : (b < a ? b : a))
  return {
    ...q,
    apps: implied.apps === undefined ? q.apps : q.apps === undefined ? implied.apps : q.apps.filter(a => implied.apps!.includes(a)),
    levels: implied.levels === undefined ? q.levels : q.levels === undefined ? implied.levels : q.levels.filter(l => implied.levels!.includes(l)),
    text: q.text ?? implied.text,
    fields: [...q.fields, ...implied.fields],
    from: narrower(q.from, implied.from, true),
    to: narrower(q.to, implied.to, false),
    expr
  }
}
