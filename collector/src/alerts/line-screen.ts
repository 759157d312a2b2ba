// A screen: what a journal line must show in its bytes for an alert's query to have a chance, read without
// parsing the line. The evaluator parses a line only when some candidate alert's screen lets it through, so
// fifty alerts cost one pass over a line's bytes and a few comparisons, not one JSON.parse per line.
//
//   line ──LineKeys.load (one pass: every key's name and where its value starts)──┐
//   query tree ──screenFor──► and: every item's screen │ or: any item's │ not: nothing known (passes)
//                             term on a.b.key: the scalars written after each key named `key`, put to the
//                             term's own test (query/evaluate.ts termTest) ◄──────────────────────────┘
//
// A screen may let a line through that does not match (the evaluator decides those); it must never stop one
// that does. Why the values written after keys named `key` are enough:
// - every value at path a.b.key is written in the line after a key named `key`, at whatever depth or array
//   it sits — so when none of the values after such keys passes the test, no value at the path does, and
//   the term (a comparison, `in`, `contains`) is false; `exists` needs such a key;
// - the lexer skips strings by their quotes and escapes, so it finds every key of a valid JSON line and
//   nothing else; a key is its bytes unless escaped — a line with an escaped key is not screened (every
//   screen passes), and a string value holding an escape is not read (that value passes);
// - an array or object value is not read (it passes); numbers are read as JSON.parse reads them.
import type { Expr, Literal } from '../query/ast'
import { termTest } from '../query/evaluate'

/** Whether the line LineKeys holds may match. */
export type Screen = (line: LineKeys) => boolean

const QUOTE = 34
const BACKSLASH = 92
const COLON = 58

/**
 * The screen of `expr`; undefined when its bytes tell nothing (every line passes). `checked`: the app_name
 * and level terms of the top-level ANDs are left out — the evaluator checks them from the line's head and
 * app_name already (and when it cannot, the screen is only wider).
 */
export function screenFor (expr: Expr, checked = false): Screen | undefined {
  switch (expr.kind) {
    case 'and': {
      const items = checked ? expr.items.filter(e => !isAppOrLevelTerm(e)) : expr.items
      const parts = items.map(e => screenFor(e, checked)).filter((s): s is Screen => s !== undefined)
      if (parts.length === 0) return undefined
      if (parts.length === 1) return parts[0]
      return line => parts.every(s => s(line))
    }
    case 'or': {
      const parts = expr.items.map(e => screenFor(e))
      if (parts.some(s => s === undefined)) return undefined
      return line => (parts as Screen[]).some(s => s(line))
    }
    case 'not': return undefined
    case 'exists': {
      const key = Buffer.from(expr.path.at(-1)!)
      return line => line.has(key)
    }
    case 'compare': case 'in': case 'contains': {
      if (checked && isAppOrLevelTerm(expr)) return undefined
      const key = Buffer.from(expr.path.at(-1)!)
      const test = valueTest(expr)
      return line => line.anyValuePasses(key, test)
    }
  }
}

function isAppOrLevelTerm (e: Expr): boolean {
  return (e.kind === 'compare' || e.kind === 'in') && e.path.length === 1 && (e.path[0] === 'app_name' || e.path[0] === 'level')
}

/** A term's test on the scalars a line holds, with the common cases read in place (no string made). */
interface ValueTest {
  /** The string between `a` and `b` (its UTF-8 bytes, no escape in them). */
  string: (buf: Buffer, a: number, b: number) => boolean
  number: (n: number) => boolean
  other: (v: boolean | null) => boolean
}

function valueTest (expr: Extract<Expr, { kind: 'compare' | 'in' | 'contains' }>): ValueTest {
  const test = termTest(expr)
  const decoded = (buf: Buffer, a: number, b: number): boolean => test(buf.toString('utf8', a, b))
  let string = decoded
  if (expr.kind === 'compare' && expr.op === '=' && !expr.prefix) {
    // A string equals the text exactly: the same UTF-8 bytes.
    const want = Buffer.from(expr.value.text)
    string = (buf, a, b) => bytesEqual(buf, a, b, want)
  } else if (expr.kind === 'in') {
    const wants = expr.values.map((v: Literal) => Buffer.from(v.text))
    string = (buf, a, b) => wants.some(w => bytesEqual(buf, a, b, w))
  } else if (expr.kind === 'contains' && isAsciiText(expr.text)) {
    const needle = Buffer.from(expr.text.toLowerCase(), 'latin1')
    // Lower-casing non-ASCII text can make ASCII letters (U+0130 İ, U+212A K): such values are decoded.
    string = (buf, a, b) => asciiOnly(buf, a, b) ? containsCaseless(buf, a, b, needle) : decoded(buf, a, b)
  }
  return { string, number: test, other: test }
}

function bytesEqual (buf: Buffer, a: number, b: number, want: Buffer): boolean {
  if (b - a !== want.length) return false
  for (let i = 0; i < want.length; i++) if (buf[a + i] !== want[i]) return false
  return true
}

function isAsciiText (text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false
  return true
}

function asciiOnly (buf: Buffer, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (buf[i]! > 127) return false
  return true
}

/** Whether buf[a, b) holds `needle` (lower-case ASCII), ignoring ASCII case. */
function containsCaseless (buf: Buffer, a: number, b: number, needle: Buffer): boolean {
  const n = needle.length
  if (n === 0) return true
  outer: for (let i = a; i + n <= b; i++) {
    for (let j = 0; j < n; j++) {
      let c = buf[i + j]!
      if (c >= 65 && c <= 90) c += 32
      if (c !== needle[j]) continue outer
    }
    return true
  }
  return false
}

/** One line's keys: where each key's name is and where its value starts, found in one pass. */
export class LineKeys {
  buf: Buffer = Buffer.alloc(0)
  private end = 0
  /** A key with an escape in its name: its bytes are not its name, so nothing may be screened out. */
  escapedKey = false
  private count = 0
  private nameStart: Int32Array = new Int32Array(64)
  private nameEnd: Int32Array = new Int32Array(64)
  private valueAt: Int32Array = new Int32Array(64)
  private depth: Int32Array = new Int32Array(64)

  /** Reads the keys of the JSON line buf[start, end). */
  load (buf: Buffer, start: number, end: number): void {
    this.buf = buf
    this.end = end
    this.count = 0
    this.escapedKey = false
    let depth = 0
    for (let i = start; i < end; i++) {
      const c = buf[i]
      if (c !== QUOTE) {
        if (c === 123 /* { */ || c === 91 /* [ */) depth++
        else if (c === 125 /* } */ || c === 93 /* ] */) depth--
        continue
      }
      const open = i
      let escaped = false
      for (i++; i < end && buf[i] !== QUOTE; i++) {
        if (buf[i] === BACKSLASH) {
          escaped = true
          i++
        }
      }
      // i is at the closing quote: a key when a colon follows.
      const colon = skipSpace(buf, i + 1, end)
      if (colon < end && buf[colon] === COLON) {
        if (escaped) this.escapedKey = true
        this.push(open + 1, i, skipSpace(buf, colon + 1, end), depth)
        i = colon
      }
    }
  }

  private push (nameStart: number, nameEnd: number, valueAt: number, depth: number): void {
    if (this.count === this.nameStart.length) {
      const grow = (a: Int32Array): Int32Array => { const b = new Int32Array(a.length * 2); b.set(a); return b }
      this.nameStart = grow(this.nameStart)
      this.nameEnd = grow(this.nameEnd)
      this.valueAt = grow(this.valueAt)
      this.depth = grow(this.depth)
    }
    this.nameStart[this.count] = nameStart
    this.nameEnd[this.count] = nameEnd
    this.depth[this.count] = depth
    this.valueAt[this.count++] = valueAt
  }

  /**
   * The string value of the top-level key `name` (the line's object is depth 1), when it occurs once there
   * and holds no escape; undefined otherwise (then nothing may be concluded from it).
   */
  topLevelString (name: Buffer): string | undefined {
    let found = -1
    for (let k = 0; k < this.count; k++) {
      if (this.depth[k] !== 1 || !this.named(k, name)) continue
      if (found !== -1) return undefined
      found = k
    }
    if (found === -1 || this.escapedKey) return undefined
    const at = this.valueAt[found]!
    if (this.buf[at] !== QUOTE) return undefined
    for (let i = at + 1; i < this.end; i++) {
      const c = this.buf[i]
      if (c === QUOTE) return this.buf.toString('utf8', at + 1, i)
      if (c === BACKSLASH) return undefined
    }
    return undefined
  }

  private named (k: number, name: Buffer): boolean {
    const a = this.nameStart[k]!
    if (this.nameEnd[k]! - a !== name.length) return false
    for (let i = 0; i < name.length; i++) if (this.buf[a + i] !== name[i]) return false
    return true
  }

  /** Whether some key is named `name`. */
  has (name: Buffer): boolean {
    for (let k = 0; k < this.count; k++) if (this.named(k, name)) return true
    return false
  }

  /** Whether a value written after a key named `name` passes `test`, or cannot be read here (then it may). */
  anyValuePasses (name: Buffer, test: ValueTest): boolean {
    const { buf, end } = this
    for (let k = 0; k < this.count; k++) {
      if (!this.named(k, name)) continue
      const at = this.valueAt[k]!
      const c = buf[at]
      if (c === QUOTE) {
        let close = at + 1
        while (close < end && buf[close] !== QUOTE && buf[close] !== BACKSLASH) close++
        if (close >= end || buf[close] === BACKSLASH) return true // escaped (or cut): not read here
        if (test.string(buf, at + 1, close)) return true
      } else if (c === 116 /* t */ || c === 102 /* f */ || c === 110 /* n */) {
        if (test.other(c === 116 ? true : c === 102 ? false : null)) return true
      } else if (c === 45 /* - */ || (c !== undefined && c >= 48 && c <= 57)) {
        if (test.number(readNumber(buf, at, end))) return true
      } else {
        return true // an array, an object, or not JSON as expected: the evaluator decides
      }
    }
    return false
  }
}

function skipSpace (buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return i
    i++
  }
  return i
}

/** The JSON number at `at`: whole numbers of up to 15 digits read in place, anything else by Number(). */
function readNumber (buf: Buffer, at: number, end: number): number {
  let i = at
  const negative = buf[i] === 45
  if (negative) i++
  let n = 0
  const digitsFrom = i
  while (i < end && buf[i]! >= 48 && buf[i]! <= 57 && i - digitsFrom < 15) n = n * 10 + buf[i++]! - 48
  if (i > digitsFrom && (i >= end || !isNumberByte(buf[i]!))) return negative ? -n : n
  let e = at + 1
  while (e < end && isNumberByte(buf[e]!)) e++
  return Number(buf.toString('latin1', at, e))
}

function isNumberByte (c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45
}
