// The query language as the search box needs it — no parsing: the collector parses and answers a 400 with
// a position when it cannot. Here: which word the caret is in (to complete field names), how a clicked
// value is written, and how a clause is added to what is already there.
//
// The word rules are query/parse.ts's: a word ends at white space or one of ( ) , " ' = ! < > : (one that
// starts with a digit keeps its colons); keywords are case-insensitive; a quoted text takes \" and \\.
// Unlike the parser this scanner never fails: an unclosed quote runs to the end, which is what someone in
// the middle of typing has.
export interface Token {
  kind: 'word' | 'string' | 'op' | '(' | ')' | ','
  /** A word or an op as written; a string's text without its quotes and escapes. */
  text: string
  start: number
  end: number
  /** Parentheses around it. */
  depth: number
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'exists', 'contains'])
const OPS = ['>=', '<=', '!=', '=', ':', '>', '<', '!']
const WORD_END = /[\s()",=!<>:']/
const SEGMENT_END = /[\s()",=!<>:'\0]/
/** A value written without quotes means itself (and nothing else) when it is made of these only. */
const BARE = /^[A-Za-z0-9_.@/-]+$/
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
/** The parser's limit on one value. */
const MAX_VALUE = 1024

export function scan (source: string): Token[] {
  const out: Token[] = []
  let depth = 0
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === '(' || c === ')' || c === ',') {
      if (c === ')') depth = Math.max(0, depth - 1)
      out.push({ kind: c, text: c, start: i, end: i + 1, depth })
      if (c === '(') depth++
      i++
    } else if (c === '"' || c === "'") {
      let text = ''
      let j = i + 1
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === '\\' && j + 1 < source.length) j++
        text += source[j]
      }
      out.push({ kind: 'string', text, start: i, end: Math.min(j + 1, source.length), depth })
      i = j + 1
    } else {
      const op = OPS.find(o => source.startsWith(o, i))
      if (op !== undefined) {
        out.push({ kind: 'op', text: op, start: i, end: i + op.length, depth })
        i += op.length
        continue
      }
      let j = i
      const digits = c >= '0' && c <= '9'
      while (j < source.length && (!WORD_END.test(source[j]!) || (digits && source[j] === ':'))) j++
      out.push({ kind: 'word', text: source.slice(i, j), start: i, end: j, depth })
      i = j
    }
  }
  return out
}

const isKeyword = (t: Token | undefined, ...words: string[]): boolean =>
  t !== undefined && t.kind === 'word' && words.includes(t.text.toLowerCase())

/** A stored field's path as the query writes it, or undefined when the language cannot name it. */
export function fieldText (path: readonly string[]): string | undefined {
  if (path.length === 0 || !path.every(s => s !== '' && !s.startsWith('$') && !s.includes('.') && !SEGMENT_END.test(s))) return undefined
  const name = path.join('.')
  return KEYWORDS.has(name.toLowerCase()) ? undefined : name
}

/**
 * A value as the query writes it so that `field = <it>` matches that value: numbers and booleans bare
 * (they compare as such), a string bare only when it could be nothing else, else in double quotes.
 * Undefined for what `=` cannot match (null, objects), for line breaks, which a search box drops, and
 * for a value longer than the parser takes.
 */
export function valueText (v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined
  if (typeof v === 'boolean') return String(v)
  if (typeof v !== 'string' || v.length > MAX_VALUE || /[\r\n]/.test(v)) return undefined
  // "500" and "true" quoted: bare, they would also match the number or the boolean.
  const bare = BARE.test(v) && !KEYWORDS.has(v.toLowerCase()) && !NUMBER.test(v) && v !== 'true' && v !== 'false'
  return bare ? v : `"${v.replace(/[\\"]/g, '\\$&')}"`
}

/** `field = value`, or `not field = value`; undefined when either cannot be written. */
export function clauseFor (path: readonly string[], value: unknown, negate: boolean): string | undefined {
  const field = fieldText(path)
  const written = valueText(value)
  if (field === undefined || written === undefined) return undefined
  return `${negate ? 'not ' : ''}${field} = ${written}`
}

const BINDS = /^0(?:o:|,:|w:(?:not|in|contains)$)/

/** Tokens compared as the parser reads them: keywords in lower case, `:` as `=`, `a != v` as `not a = v`. */
function keys (tokens: Token[]): string[] {
  const out: string[] = []
  tokens.forEach((t, i) => {
    const next = tokens[i + 1]
    if (t.kind === 'word' && next?.kind === 'op' && next.text === '!=') out.push(`${t.depth}w:not`)
    const text = t.kind === 'word' && KEYWORDS.has(t.text.toLowerCase())
      ? t.text.toLowerCase()
      : t.kind === 'op' && (t.text === ':' || t.text === '!=') ? '=' : t.text
    out.push(`${t.depth}${t.kind[0]!}:${text}`)
  })
  return out
}

/**
 * `query` ANDed with `clause`: unchanged when the clause already is one of its terms; in parentheses
 * when it has an `or` of its own (`a or b and c` would be `a or (b and c)`).
 */
export function addClause (query: string, clause: string): string {
  const text = query.trim()
  if (text === '') return clause
  const tokens = scan(text)
  const or = tokens.some(t => t.depth === 0 && isKeyword(t, 'or'))
  if (!or) {
    const have = keys(tokens)
    const want = keys(scan(clause))
    for (let k = 0; k + want.length <= have.length; k++) {
      // A term of the whole only when nothing before binds to it: not `not`, an operator, in, contains.
      if (want.every((w, j) => have[k + j] === w) && (k === 0 || !BINDS.test(have[k - 1]!))) return text
    }
  }
  return or ? `(${text}) and ${clause}` : `${text} and ${clause}`
}

export interface Word {
  /** Where the word is (it is replaced whole), and what of it is before the caret. */
  start: number
  end: number
  prefix: string
}

/** The word at the caret when a field name may stand there (not after an operator, `in` or `contains`). */
export function fieldAt (text: string, caret: number): Word | undefined {
  const tokens = scan(text)
  let i = tokens.findIndex(t => t.start < caret && caret <= t.end)
  let word: Word
  if (i === -1) {
    // Between tokens: an empty word, after the last token that ends before the caret.
    i = tokens.findIndex(t => t.start >= caret)
    if (i === -1) i = tokens.length
    word = { start: caret, end: caret, prefix: '' }
  } else {
    const t = tokens[i]!
    if (t.kind !== 'word') return undefined
    word = { start: t.start, end: t.end, prefix: text.slice(t.start, caret) }
  }
  const before = tokens[i - 1]
  if (before === undefined) return word
  if (before.kind === 'op' || before.kind === ',' || isKeyword(before, 'in', 'contains')) return undefined
  if (before.kind === '(' && isKeyword(tokens[i - 2], 'in')) return undefined
  return word
}
