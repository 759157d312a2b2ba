// The `query` parameter → its tree (ast.ts), once per request. A hand-written recursive descent over a
// tokenizer that never backtracks: the input is read once, left to right, so no query can make it slow.
//
//   query    := or
//   or       := and ( OR and )*
//   and      := unary ( [AND] unary )*            adjacent terms are ANDed, as in a search box
//   unary    := NOT unary | '(' or ')' | term
//   term     := field op value | field IN '(' value (',' value)* ')' | field EXISTS
//             | field CONTAINS value | word | "phrase"          a bare word or phrase searches `message`
//   op       := = | : | != | > | >= | < | <=          `:` is `=` (KQL); `a != v` is `not a = v`
//   value    := word | "text" | 'text'                 `word*` after = is a prefix; `field = *` is EXISTS
//
// A word ends at white space or one of ( ) , " ' = ! < > : — except that a word starting with a digit
// keeps its colons, so times need no quotes.
// Keywords (and or not in exists contains) are case-insensitive; quote a word to search for one. Errors
// say what was expected and where (1-based): `expected a value after ">=" at 14`.
import { CANONICAL_LEVELS, canonicalLevel } from '../normalise/levels'
import { QueryParameterError, fieldPath, parseTime } from '../read/parameters'
import { TIME_FIELDS, type CompareOp, type Expr, type Literal } from './ast'

export const MAX_QUERY_LENGTH = 4096
export const MAX_QUERY_DEPTH = 20
export const MAX_QUERY_TERMS = 100
const MAX_IN_VALUES = 100

type TokenKind = 'word' | 'string' | '(' | ')' | ',' | 'op' | 'end'
interface Token { kind: TokenKind, text: string, at: number }

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'exists', 'contains'])
const OPS = ['>=', '<=', '!=', '=', ':', '>', '<'] as const
const WORD_END = /[\s()",=!<>:']/
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const HEX_ID = /^[0-9a-f]{24}$/

export class QuerySyntaxError extends QueryParameterError {
  constructor (message: string, readonly position: number) {
    super('query', `${message} at ${position}`)
  }
}

function tokenize (source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    const at = i + 1
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at })
      i++
      continue
    }
    const op = OPS.find(o => source.startsWith(o, i))
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op, at })
      i += op.length
      continue
    }
    if (c === '"' || c === "'") {
      let text = ''
      let j = i + 1
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === '\\' && j + 1 < source.length) j++
        text += source[j]
      }
      if (j >= source.length) throw new QuerySyntaxError(`a quote (${c}) opened here is never closed`, at)
      tokens.push({ kind: 'string', text, at })
      i = j + 1
      continue
    }
    if (c === '!') throw new QuerySyntaxError('expected "!=" (or use not)', at)
    let j = i
    // A word that starts with a digit keeps its colons: an ISO time (2026-12-01T09:00:00Z) needs no quotes.
    const digits = c >= '0' && c <= '9'
    while (j < source.length && (!WORD_END.test(source[j]!) || (digits && source[j] === ':'))) j++
    tokens.push({ kind: 'word', text: source.slice(i, j), at })
    i = j
  }
  tokens.push({ kind: 'end', text: '', at: source.length + 1 })
  return tokens
}

function describe (t: Token): string {
  return t.kind === 'end' ? 'the end of the query' : `"${t.text.slice(0, 32)}"`
}

class Parser {
  #i = 0
  #terms = 0
  constructor (private readonly tokens: Token[]) {}

  get #peek (): Token { return this.tokens[this.#i]! }

  #keyword (t: Token, word: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === word
  }

  #next (): Token { return this.tokens[this.#i++]! }

  parse (): Expr {
    const expr = this.#or(0)
    const t = this.#peek
    if (t.kind !== 'end') throw new QuerySyntaxError(t.kind === ')' ? 'a ")" without its "("' : `expected and, or or the end, found ${describe(t)}`, t.at)
    return expr
  }

  #or (depth: number): Expr {
    const items = [this.#and(depth)]
    while (this.#keyword(this.#peek, 'or')) {
      this.#next()
      items.push(this.#and(depth))
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items }
  }

  #and (depth: number): Expr {
    const items = [this.#unary(depth)]
    for (;;) {
      const t = this.#peek
      if (this.#keyword(t, 'and')) {
        this.#next()
      } else if (!(t.kind === 'string' || t.kind === '(' || (t.kind === 'word' && (!KEYWORDS.has(t.text.toLowerCase()) || this.#keyword(t, 'not'))))) {
        break
      }
      items.push(this.#unary(depth))
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items }
  }

  #unary (depth: number): Expr {
    if (depth >= MAX_QUERY_DEPTH) throw new QuerySyntaxError(`nested deeper than ${MAX_QUERY_DEPTH} levels`, this.#peek.at)
    const t = this.#peek
    if (this.#keyword(t, 'not')) {
      this.#next()
      return { kind: 'not', item: this.#unary(depth + 1) }
    }
    if (t.kind === '(') {
      this.#next()
      const inner = this.#or(depth + 1)
      const close = this.#next()
      if (close.kind !== ')') throw new QuerySyntaxError(`expected ")" to close the "(" at ${t.at}, found ${describe(close)}`, close.at)
      return inner
    }
    return this.#term()
  }

  #term (): Expr {
    const t = this.#next()
    if (++this.#terms > MAX_QUERY_TERMS) throw new QuerySyntaxError(`more than ${MAX_QUERY_TERMS} terms`, t.at)
    if (t.kind === 'string') return contains(['message'], t)
    if (t.kind !== 'word' || KEYWORDS.has(t.text.toLowerCase())) {
      throw new QuerySyntaxError(`expected a word, a "phrase", a field or "(", found ${describe(t)}`, t.at)
    }
    const after = this.#peek
    if (after.kind === 'op') return this.#comparison(t, this.#next())
    if (this.#keyword(after, 'exists')) {
      this.#next()
      return { kind: 'exists', path: path(t) }
    }
    if (this.#keyword(after, 'contains')) {
      this.#next()
      const value = this.#value(after.text)
      if (isTime(path(t)) || path(t)[0] === '_id') throw new QuerySyntaxError(`${t.text} is not text: compare it with = < <= > >=`, value.at)
      return contains(path(t), value)
    }
    if (this.#keyword(after, 'in')) return this.#in(t, this.#next())
    return contains(['message'], t)
  }

  /** The value after the token whose text is `after` (for the message when there is none). */
  #value (after: string): Token {
    const v = this.#next()
    if (v.kind !== 'word' && v.kind !== 'string') throw new QuerySyntaxError(`expected a value after "${after}"`, v.at)
    // `status >= and …` is a value left out, not a comparison with the word "and": quote a keyword to mean it.
    if (v.kind === 'word' && KEYWORDS.has(v.text.toLowerCase())) throw new QuerySyntaxError(`expected a value after "${after}", found "${v.text}" (quote it to mean the word)`, v.at)
    if (v.text.length > 1024) throw new QuerySyntaxError('a value longer than 1024 characters', v.at)
    return v
  }

  #comparison (field: Token, opToken: Token): Expr {
    const p = path(field)
    const v = this.#value(opToken.text)
    const op: CompareOp = opToken.text === ':' || opToken.text === '!=' ? '=' : opToken.text as CompareOp
    const negate = opToken.text === '!='
    let expr: Expr
    if (v.kind === 'word' && v.text === '*' && op === '=') {
      expr = { kind: 'exists', path: p }
    } else {
      expr = compare(p, op, v)
    }
    return negate ? { kind: 'not', item: expr } : expr
  }

  #in (field: Token, inToken: Token): Expr {
    const open = this.#next()
    if (open.kind !== '(') throw new QuerySyntaxError('expected "(" after in', open.at)
    const values: Token[] = []
    for (;;) {
      values.push(this.#value(values.length === 0 ? inToken.text : ','))
      if (values.length > MAX_IN_VALUES) throw new QuerySyntaxError(`more than ${MAX_IN_VALUES} values in one in ( … )`, values.at(-1)!.at)
      const sep = this.#next()
      if (sep.kind === ')') break
      if (sep.kind !== ',') throw new QuerySyntaxError(`expected "," or ")" in the list of in, found ${describe(sep)}`, sep.at)
    }
    const p = path(field)
    // Each value as `=` would take it (times, levels, ids made canonical); a pattern has no place here.
    const literals = values.map(v => {
      const e = compare(p, '=', v)
      if (e.kind !== 'compare' || e.prefix) throw new QuerySyntaxError('in ( … ) takes values, not patterns', v.at)
      return e.value
    })
    return { kind: 'in', path: p, values: literals }
  }
}

function path (t: Token): string[] {
  try {
    return fieldPath('query', t.text)
  } catch {
    throw new QuerySyntaxError(`"${t.text.slice(0, 32)}" is not a field name (names separated by dots, none empty or starting with "$")`, t.at)
  }
}

function isTime (p: readonly string[]): boolean {
  return p.length === 1 && TIME_FIELDS.has(p[0]!)
}

function literal (t: Token): Literal {
  const quoted = t.kind === 'string'
  const number = !quoted && NUMBER.test(t.text) ? Number(t.text) : undefined
  return {
    text: t.text,
    quoted,
    number: number !== undefined && Number.isFinite(number) ? number : undefined,
    boolean: quoted ? undefined : t.text === 'true' ? true : t.text === 'false' ? false : undefined
  }
}

const quotedText = (text: string): Literal => ({ text, quoted: true, number: undefined, boolean: undefined })

function contains (p: readonly string[], t: Token): Expr {
  if (t.text === '') throw new QuerySyntaxError('an empty phrase matches everything; leave it out', t.at)
  return { kind: 'contains', path: p, text: t.text }
}

/** A comparison with the fields that have a meaning of their own: times, levels by rank, ids. */
function compare (p: readonly string[], op: CompareOp, v: Token): Expr {
  const prefix = op === '=' && v.kind === 'word' && v.text.endsWith('*')
  const text = prefix ? v.text.slice(0, -1) : v.text
  if (!prefix && v.kind === 'word' && v.text.includes('*')) throw new QuerySyntaxError('a * stands only at the end of a value after =, for a prefix', v.at)
  if (isTime(p)) {
    if (prefix) throw new QuerySyntaxError(`${p[0]} is a time: compare it with = < <= > >=`, v.at)
    let iso: string
    try {
      iso = parseTime('query', text, Date.now())
    } catch {
      throw new QuerySyntaxError(`"${text.slice(0, 32)}" is not a time (ISO 8601, epoch milliseconds, or 15m / 2h / 7d before now)`, v.at)
    }
    return { kind: 'compare', path: p, op, value: quotedText(iso), prefix: false }
  }
  if (p.length === 1 && p[0] === 'level' && !prefix) {
    const level = canonicalLevel(/^\d+$/.test(text) ? Number(text) : text)
    if (level === undefined) throw new QuerySyntaxError(`unknown level "${text.slice(0, 32)}"; use one of ${CANONICAL_LEVELS.join(', ')}`, v.at)
    if (op === '=') return { kind: 'compare', path: p, op, value: quotedText(level), prefix: false }
    // Levels compare by rank: the ones that satisfy the comparison, by name.
    const rank = CANONICAL_LEVELS.indexOf(level)
    const keep = CANONICAL_LEVELS.filter((_, i) => op === '>' ? i > rank : op === '>=' ? i >= rank : op === '<' ? i < rank : i <= rank)
    return { kind: 'in', path: p, values: keep.map(quotedText) }
  }
  if (p.length === 1 && p[0] === '_id') {
    if (op !== '=' || prefix || !HEX_ID.test(text)) throw new QuerySyntaxError('_id is compared with = to the 24 hex digits of an id', v.at)
    return { kind: 'compare', path: p, op, value: quotedText(text), prefix: false }
  }
  return { kind: 'compare', path: p, op, value: prefix ? quotedText(text) : literal(v), prefix }
}

/** The tree of a `query` parameter; QuerySyntaxError (a 400 MAAP_BAD_QUERY) says what and where. */
export function parseQuery (source: string): Expr {
  if (source.length > MAX_QUERY_LENGTH) throw new QuerySyntaxError(`longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH + 1)
  // MongoDB refuses NUL in a regular expression, and no search box types one: refused here, the same on
  // every store, rather than failing on one.
  const nul = source.indexOf('\0')
  if (nul !== -1) throw new QuerySyntaxError('a query cannot hold the NUL character', nul + 1)
  const tokens = tokenize(source)
  if (tokens.length === 1) throw new QuerySyntaxError('expected a word, a "phrase", a field or "("', 1)
  return new Parser(tokens).parse()
}
