// The one evaluator: whether an event, as the journal holds it (times as ISO text, _id as hex), matches a
// query's tree. The journal search, the tail and everything after them ask this; MongoDB's answers are
// held to it too (mongo.ts says when they must be re-checked here).
//
// The meaning is MongoDB's, so that both stores give the same answer:
// - a path goes through objects by name; through an array, into each of its objects (not into arrays
//   nested in arrays); at its end, an array matches when the array or one of its items does;
// - `=`: a string equals the text exactly; a number equals an unquoted number; a boolean an unquoted
//   true/false; `a = 500` therefore matches 500 and "500", `a = "500"` only "500";
// - `>` `>=` `<` `<=`: an unquoted number compares with numbers only, anything else with strings only
//   (by code point, as MongoDB's binary collation does); times (timestamp, received_at) as times;
// - a comparison on a missing field is false, and `not` of it true; `exists` holds for any value, null too;
// - `contains` and bare words: case-insensitive substring of a string.
import type { StoredEvent } from '../read/match'
import type { Expr, Literal } from './ast'

/** The values at the end of `path` in `doc` (MongoDB's traversal; see above). */
export function valuesAtPath (doc: unknown, path: readonly string[]): unknown[] {
  const out: unknown[] = []
  walk(doc, path, 0, out)
  return out
}

function walk (value: unknown, path: readonly string[], i: number, out: unknown[]): void {
  if (i === path.length) {
    out.push(value)
    return
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) walk(item, path, i, out)
    }
    return
  }
  if (typeof value !== 'object' || value === null) return
  const key = path[i]!
  if (Object.hasOwn(value, key)) walk((value as Record<string, unknown>)[key], path, i + 1, out)
}

/** Whether one found value, or (for an array) one of its items, satisfies `test`. */
function any (values: unknown[], test: (v: unknown) => boolean): boolean {
  for (const v of values) {
    if (test(v)) return true
    if (Array.isArray(v) && v.some(test)) return true
  }
  return false
}

export function equalsLiteral (v: unknown, lit: Literal): boolean {
  if (typeof v === 'string') return v === lit.text
  if (typeof v === 'number') return lit.number !== undefined && v === lit.number
  if (typeof v === 'boolean') return lit.boolean !== undefined && v === lit.boolean
  return false
}

const SURROGATE = /[\ud800-\udfff]/

/** -1, 0, 1 by code point (UTF-16 order differs from it only where surrogates meet U+E000…U+FFFF). */
export function compareCodePoints (a: string, b: string): number {
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0
  return Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
}

function ordered (op: '>' | '>=' | '<' | '<=', c: number): boolean {
  return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0
}

function compareTest (expr: Extract<Expr, { kind: 'compare' }>): (v: unknown) => boolean {
  const { op, value: lit } = expr
  if (op === '=') {
    if (expr.prefix) return v => typeof v === 'string' && v.startsWith(lit.text)
    return v => equalsLiteral(v, lit)
  }
  if (!lit.quoted && lit.number !== undefined) {
    const n = lit.number
    return v => typeof v === 'number' && !Number.isNaN(v) && ordered(op, v < n ? -1 : v > n ? 1 : 0)
  }
  return v => typeof v === 'string' && ordered(op, compareCodePoints(v, lit.text))
}

export function evaluate (expr: Expr, event: StoredEvent): boolean {
  switch (expr.kind) {
    case 'and': return expr.items.every(e => evaluate(e, event))
    case 'or': return expr.items.some(e => evaluate(e, event))
    case 'not': return !evaluate(expr.item, event)
    case 'exists': return valuesAtPath(event, expr.path).length > 0
    case 'compare': case 'in': case 'contains': return any(valuesAtPath(event, expr.path), termTest(expr))
  }
}

/**
 * What one value found at a term's path must satisfy (for an array value, one of its items): the whole
 * meaning of a term, shared with the alerts' line screen (alerts/line-screen.ts), which applies it to the
 * values it reads straight from a journal line.
 */
export function termTest (expr: Extract<Expr, { kind: 'compare' | 'in' | 'contains' }>): (v: unknown) => boolean {
  switch (expr.kind) {
    case 'compare': return compareTest(expr)
    case 'in': return v => expr.values.some(lit => equalsLiteral(v, lit))
    case 'contains': {
      const needle = expr.text.toLowerCase()
      return v => typeof v === 'string' && v.toLowerCase().includes(needle)
    }
  }
}
