// Whether a journal event matches a ReadQuery, decided in two steps so that a scan over gigabytes parses
// only the lines that can match:
//   1. prefilter (per block of lines): the one needle every matching line must contain as text, found
//      with a native substring search over the whole block — the query text (case-insensitively), else a
//      field value, else the app name;
//   2. matchEvent (per candidate, after JSON.parse): the exact test, the same one the tail uses, and the
//      same meaning MongoDB gives the query (mongo-query.ts).
// The prefilter must never drop a match. A JSON string holds its text as written unless escaped; escapes
// other than \uXXXX only stand for characters a needle here never contains (" \ / and control
// characters), so lines with "\u" are always candidates. Lower-casing: only U+0130 (İ → i̇) and U+212A
// (Kelvin sign → k) lower-case to ASCII letters, so lines holding them are candidates for needles with
// an i or a k.
import { evaluate } from '../query/evaluate'
import type { FieldFilter, ReadQuery } from './query'

export type StoredEvent = Record<string, unknown>

function valuesAt (value: unknown, path: readonly string[], i: number, out: unknown[]): void {
  if (i === path.length) {
    out.push(value)
    return
  }
  if (Array.isArray(value)) {
    for (const v of value) valuesAt(v, path, i, out)
    return
  }
  if (typeof value !== 'object' || value === null) return
  const key = path[i]!
  if (!Object.hasOwn(value, key)) return
  valuesAt((value as Record<string, unknown>)[key], path, i + 1, out)
}

function equals (v: unknown, f: FieldFilter): boolean {
  if (typeof v === 'string') return v === f.text
  if (typeof v === 'number') return f.number !== undefined && v === f.number
  if (typeof v === 'boolean') return f.boolean !== undefined && v === f.boolean
  return false
}

/** Equality as MongoDB means it: on a path through arrays, any element; on an array value, any item. */
export function fieldMatches (event: StoredEvent, f: FieldFilter): boolean {
  const found: unknown[] = []
  valuesAt(event, f.path, 0, found)
  for (const v of found) {
    if (equals(v, f)) return true
    if (Array.isArray(v) && v.some(item => equals(item, f))) return true
  }
  return false
}

/** The exact test on a parsed event; `snapshot` (ISO) excludes events received after it. */
export function matchEvent (e: StoredEvent, q: ReadQuery, snapshot?: string): boolean {
  const ts = e.timestamp as string
  if (q.from !== undefined && ts < q.from) return false
  if (q.to !== undefined && ts >= q.to) return false
  if (snapshot !== undefined && (e.received_at as string) > snapshot) return false
  if (q.levels !== undefined && !q.levels.includes(e.level as never)) return false
  if (q.apps !== undefined && !q.apps.includes(e.app_name as string)) return false
  if (q.text !== undefined && (typeof e.message !== 'string' || !e.message.toLowerCase().includes(q.text))) return false
  for (const f of q.fields) if (!fieldMatches(e, f)) return false
  return q.expr === undefined || evaluate(q.expr, e)
}

export interface Prefilter {
  /** The needle's bytes, searched for as they are (or, with `lowerCase`, ignoring ASCII case). */
  needle: Buffer
  lowerCase: boolean
  /** With `lowerCase`: the needle as a case-insensitive expression over the block as a one-byte string. */
  pattern?: RegExp
  /** Byte sequences that make a line a candidate whatever it holds. */
  alwaysCandidates: Buffer[]
}

/**
 * Which always-candidate sequences one journal block holds, learnt by the first scan of the whole block:
 * most blocks hold none of them, and a later search of the block then makes one pass over it, not two.
 */
export type SequenceMemo = Map<string, boolean>

const UNSAFE = /["\\/\u0000-\u001f]/
// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/
const BACKSLASH_U = Buffer.from('\\u', 'latin1')
const DOTTED_CAPITAL_I = Buffer.from('\u0130', 'utf8')
const KELVIN = Buffer.from('\u212a', 'utf8')

/**
 * Bytes of a journal line from the commonest on, roughly: the quote and the separators, digits
 * (timestamps and ids), lower-case letters by their frequency in English with the timestamps' other
 * bytes and the level names' letters among them. A byte not listed is rarer than all.
 */
const COMMON_BYTES = '":, 0123456789etaoinsr-hldcumf.pgwyb_/TZINFOEvkxjqz'
const COMMONNESS = new Uint8Array(256)
for (let i = 0; i < COMMON_BYTES.length; i++) COMMONNESS[COMMON_BYTES.charCodeAt(i)] = COMMON_BYTES.length - i
/** A shorter needle than this finds too many lines that only look like candidates. */
const MIN_NEEDLE_BYTES = 4

/**
 * The part of `needle` to search for: from its rarest byte to its end. Every line that holds the needle
 * holds this part, and the native search skips ahead to each occurrence of the part's first byte, so
 * a rare first byte (`xyzzy"` rather than `needle-xyzzy"`) makes it several times faster.
 */
export function searchablePart (needle: Buffer): Buffer {
  let best = 0
  for (let i = 1; i <= needle.length - MIN_NEEDLE_BYTES; i++) {
    if (COMMONNESS[needle[i]!]! < COMMONNESS[needle[best]!]!) best = i
  }
  return needle.subarray(best)
}

/** The cheapest sound prefilter for `q`, or undefined when every line must be parsed. */
export function prefilterFor (q: ReadQuery): Prefilter | undefined {
  if (q.text !== undefined && q.text.length >= 2 && ASCII.test(q.text) && !UNSAFE.test(q.text)) {
    const always = [BACKSLASH_U]
    if (q.text.includes('i')) always.push(DOTTED_CAPITAL_I)
    if (q.text.includes('k')) always.push(KELVIN)
    // Without the `u` flag, case-insensitive matching folds only ASCII letters onto ASCII letters (no
    // other one-byte character canonicalises to one), which is the ASCII-only lower-casing this needs.
    const pattern = new RegExp(q.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi')
    return { needle: Buffer.from(q.text, 'latin1'), lowerCase: true, pattern, alwaysCandidates: always }
  }
  // A number may be written in many ways (5e2, 500.0): only text and booleans are searched for. A string
  // value stands in the line followed by its quote, which makes the needle more selective; true/false may
  // stand as a boolean, without one.
  const field = q.fields.find(f => f.number === undefined && f.text.length >= 2 && !UNSAFE.test(f.text))
  if (field !== undefined) {
    // The closing quote only: a needle that starts with '"', the commonest byte of a JSON line, makes the
    // native search several times slower.
    const needle = field.boolean === undefined ? field.text + '"' : field.text
    return { needle: searchablePart(Buffer.from(needle, 'utf8')), lowerCase: false, alwaysCandidates: [BACKSLASH_U] }
  }
  if (q.apps?.length === 1 && !UNSAFE.test(q.apps[0]!)) {
    return { needle: searchablePart(Buffer.from(q.apps[0] + '"', 'utf8')), lowerCase: false, alwaysCandidates: [BACKSLASH_U] }
  }
  return undefined
}

const NL = 10
/** How much of a block a case-insensitive search turns into a string at a time (see candidateLines). */
export const LATIN1_WINDOW_BYTES = 64 * 1024

/**
 * Start offsets (sorted, unique) of the lines in `buf[0, length)` that may match: lines holding the
 * needle or one of the always-candidate sequences. `buf` holds whole lines, each ending in '\n'.
 */
export function candidateLines (buf: Buffer, length: number, p: Prefilter, memo?: SequenceMemo): number[] {
  const starts: number[] = []
  const lineStart = (at: number): number => buf.lastIndexOf(NL, at) + 1
  const lineEnd = (at: number): number => {
    const nl = buf.indexOf(NL, at)
    return nl === -1 || nl >= length ? length : nl
  }
  if (p.pattern !== undefined) {
    // One-byte strings of the block keep byte offsets. They are made a window at a time, never the whole
    // block: a block-sized one (~1 MiB) is a string Node allocates outside the JavaScript heap (past
    // ~1,000,000 bytes) on every block of every search, and the allocator keeps what they churn through
    // (issue #24: RSS grew under a dashboard). A window of LATIN1_WINDOW_BYTES stays in V8's young
    // generation. Consecutive windows overlap by the needle's length less one, so a needle that straddles
    // two windows is whole in the second. (A window is longer than any needle: V8 compiles no pattern
    // near 32 KiB, and a query's text comes in a URL.)
    const re = p.pattern
    const overlap = p.needle.length - 1
    for (let at = 0; at < length;) {
      const end = Math.min(at + LATIN1_WINDOW_BYTES, length)
      const text = buf.toString('latin1', at, end)
      let from = 0
      re.lastIndex = 0
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const found = at + m.index
        starts.push(lineStart(found))
        from = lineEnd(found) + 1
        if (from >= end) break
        re.lastIndex = from - at
      }
      if (end === length) break
      // The next window starts where the last match's line ended, or early enough to see a straddler.
      at = Math.max(from, end - overlap)
    }
  } else {
    for (let at = buf.indexOf(p.needle); at !== -1 && at < length; at = buf.indexOf(p.needle, lineEnd(at) + 1)) starts.push(lineStart(at))
  }
  let merged = false
  for (const seq of p.alwaysCandidates) {
    const key = seq.toString('latin1')
    if (memo?.get(key) === false) continue
    let found = false
    for (let at = buf.indexOf(seq); at !== -1 && at < length; at = buf.indexOf(seq, lineEnd(at) + 1)) {
      starts.push(lineStart(at))
      found = true
    }
    memo?.set(key, found)
    merged ||= found
  }
  if (!merged) return starts
  starts.sort((a, b) => a - b)
  return starts.filter((s, i) => i === 0 || s !== starts[i - 1])
}
