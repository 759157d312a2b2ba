// A query's tree as a MongoDB filter with the evaluator's meaning (evaluate.ts), using only operators
// FerretDB has too ($and $or $nor $in $exists $gt $gte $lt $lte $regex). Every value is a value and every
// regular expression is built here from escaped literal text: nothing a user typed becomes an operator.
//
// Where a node has no exact translation, it becomes a filter that holds for more documents than it should
// ({} at worst) and the result is marked inexact: the caller then re-checks each document with the
// evaluator, so the answer is the evaluator's either way, never a different one. Inexact today: a
// contains with non-ASCII text (case folding differs between JavaScript, PCRE and Go), a path with a
// numeric part (MongoDB reads it as an array index), and a `not` of anything inexact.
import { ObjectId, type Document } from 'mongodb'
import { TIME_FIELDS, type Expr, type Literal } from './ast'

export interface MongoTranslation {
  filter: Document
  /** Whether the filter alone gives the evaluator's answer; if not, re-check each document. */
  exact: boolean
}

const ANY: MongoTranslation = { filter: {}, exact: false }
// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/

/** Whether caselessRegex can match `text` exactly as JavaScript's lower-casing does (ASCII text). */
export function isAscii (text: string): boolean {
  return ASCII.test(text)
}

function escapeRegex (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * An ASCII text as a regular expression that matches exactly where `value.toLowerCase()` contains it
 * lower-cased: each letter as a class of its cases, plus the two non-ASCII characters that JavaScript
 * lower-cases to ASCII letters — U+212A (Kelvin) to k, and U+0130 (İ) to i followed by U+0307, which can
 * end a match only as its last letter.
 */
export function caselessRegex (text: string): string {
  const lower = text.toLowerCase()
  let out = ''
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!
    if (c >= 'a' && c <= 'z') {
      const upper = c.toUpperCase()
      if (c === 'k') out += '[kK\u212a]'
      else if (c === 'i' && i === lower.length - 1) out += '(?:[iI]|\u0130)'
      else out += `[${c}${upper}]`
    } else {
      out += escapeRegex(c)
    }
  }
  return out
}

function literalValues (lit: Literal): unknown[] {
  const values: unknown[] = [lit.text]
  if (!lit.quoted && lit.number !== undefined) values.push(lit.number)
  if (!lit.quoted && lit.boolean !== undefined) values.push(lit.boolean)
  return values
}

/** The stored value a literal is compared with: times are Dates in MongoDB, ids ObjectIds. */
function storedValues (path: readonly string[], lit: Literal): unknown[] {
  if (path.length === 1 && TIME_FIELDS.has(path[0]!)) return [new Date(lit.text)]
  if (path.length === 1 && path[0] === '_id') return [ObjectId.createFromHexString(lit.text)]
  return literalValues(lit)
}

function isSpecial (path: readonly string[]): boolean {
  return path.length === 1 && (TIME_FIELDS.has(path[0]!) || path[0] === '_id')
}

const RANGE = { '>': '$gt', '>=': '$gte', '<': '$lt', '<=': '$lte' } as const

export function mongoTranslation (expr: Expr): MongoTranslation {
  switch (expr.kind) {
    case 'and':
    case 'or': {
      const parts = expr.items.map(mongoTranslation)
      // Each part is exact or holds for more than it should: so is their AND, and their OR.
      return { filter: { [expr.kind === 'and' ? '$and' : '$or']: parts.map(p => p.filter) }, exact: parts.every(p => p.exact) }
    }
    case 'not': {
      const inner = mongoTranslation(expr.item)
      // Not of a filter that holds for too many would hold for too few: leave it to the evaluator.
      return inner.exact ? { filter: { $nor: [inner.filter] }, exact: true } : ANY
    }
    default:
      break
  }
  if (expr.path.some(part => /^\d+$/.test(part))) return ANY
  const field = expr.path.join('.')
  switch (expr.kind) {
    case 'exists':
      return { filter: { [field]: { $exists: true } }, exact: true }
    case 'in':
      return { filter: { [field]: { $in: expr.values.flatMap(v => storedValues(expr.path, v)) } }, exact: true }
    case 'contains':
      if (!isAscii(expr.text)) return ANY
      return { filter: { [field]: { $regex: caselessRegex(expr.text) } }, exact: true }
    case 'compare': {
      if (expr.prefix) return { filter: { [field]: { $regex: '^' + escapeRegex(expr.value.text) } }, exact: true }
      if (expr.op === '=') {
        const values = storedValues(expr.path, expr.value)
        return { filter: { [field]: values.length === 1 ? values[0] : { $in: values } }, exact: true }
      }
      const lit = expr.value
      const bound = isSpecial(expr.path) ? storedValues(expr.path, lit)[0] : !lit.quoted && lit.number !== undefined ? lit.number : lit.text
      return { filter: { [field]: { [RANGE[expr.op]]: bound } }, exact: true }
    }
  }
}
