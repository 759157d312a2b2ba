// What a query's tree requires of every match, in the simple terms the read side already knows how to use
// without parsing a line: an app, a set of levels, a text in `message`, field equalities and a time
// window. Only the parts every match must satisfy count (the branches of its top-level ANDs); an OR or a
// NOT implies nothing. The read side narrows with them — journal blocks by time, lines by needle and head,
// MongoDB by index — and the evaluator still decides every candidate, so they never change an answer.
import { CANONICAL_LEVELS, type Level } from '../normalise/levels'
import type { FieldFilter } from '../read/query'
import type { Expr, Literal } from './ast'

export interface Implied {
  apps: string[] | undefined
  levels: Level[] | undefined
  /** Lower-cased text `message` must contain. */
  text: string | undefined
  fields: FieldFilter[]
  /** ISO bounds on `timestamp`: from inclusive, to exclusive. */
  from: string | undefined
  to: string | undefined
}

const SPECIAL = new Set(['timestamp', 'received_at', '_id', 'level', 'app_name', 'message'])

function intersect<T> (a: T[] | undefined, b: T[]): T[] {
  return a === undefined ? b : a.filter(x => b.includes(x))
}

function fieldFilter (path: readonly string[], lit: Literal): FieldFilter {
  return {
    path,
    text: lit.text,
    number: lit.quoted ? undefined : lit.number,
    boolean: lit.quoted ? undefined : lit.boolean
  }
}

function isoPlusMs (iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString()
}

/** The requirements of `expr`'s top-level AND chain. */
export function impliedBy (expr: Expr): Implied {
  const out: Implied = { apps: undefined, levels: undefined, text: undefined, fields: [], from: undefined, to: undefined }
  const visit = (e: Expr): void => {
    if (e.kind === 'and') {
      for (const item of e.items) visit(item)
      return
    }
    if (e.kind !== 'compare' && e.kind !== 'in' && e.kind !== 'contains') return
    const single = e.path.length === 1 ? e.path[0]! : undefined
    if (e.kind === 'contains') {
      // The longest text makes the most selective needle.
      if (single === 'message' && (out.text === undefined || e.text.length > out.text.length)) out.text = e.text.toLowerCase()
      return
    }
    if (e.kind === 'in') {
      if (single === 'app_name') out.apps = intersect(out.apps, e.values.map(v => v.text))
      if (single === 'level') out.levels = intersect(out.levels, e.values.map(v => v.text as Level))
      return
    }
    if (e.prefix) return
    if (single === 'timestamp') {
      const t = e.value.text
      if (e.op === '>=' || e.op === '>' || e.op === '=') out.from = out.from === undefined || t > out.from ? t : out.from
      const to = e.op === '<' ? t : e.op === '<=' || e.op === '=' ? isoPlusMs(t, 1) : undefined
      if (to !== undefined) out.to = out.to === undefined || to < out.to ? to : out.to
      return
    }
    if (e.op !== '=') return
    if (single === 'app_name') out.apps = intersect(out.apps, [e.value.text])
    else if (single === 'level') out.levels = intersect(out.levels, [e.value.text as Level])
    else if (single === undefined || !SPECIAL.has(single)) out.fields.push(fieldFilter(e.path, e.value))
  }
  visit(expr)
  if (out.levels !== undefined) out.levels = CANONICAL_LEVELS.filter(l => out.levels!.includes(l))
  return out
}
