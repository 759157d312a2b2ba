// app_name and message read in place, for the lines whose test they alone decide (a count or histogram
// of `q=timeout&app_name=api`): no JSON.parse, no event object, no strings but the message's bytes.
//
//   {"timestamp":"…","level":"ERROR","app_name":"api","message":"upstream timeout",…the rest…}
//                                    └─ app_name ──┘ └─ message ────────────────┘
//
// The collector writes both right after the head whenever the event has them (normalise.ts puts the
// canonical keys first and never twice), so a line that goes on any other way, or whose value holds
// anything that makes the bytes differ from the text — a backslash escape, or the two characters whose
// lower case is ASCII (U+0130 İ and U+212A K) — is left undecided and takes the parse. The differential
// test in collector/test/read-head-fields.test.ts holds this to the parse on generated lines.
import { LEVEL_START } from '../journal/line-head'

// The bytes both this test and the compacted columns (columns.ts) read lines by.
export const QUOTE = 0x22
export const BACKSLASH = 0x5c
export const COMMA = 0x2c
export const APP_KEY = Buffer.from('"app_name":"', 'latin1')
export const MESSAGE_KEY = Buffer.from('"message":"', 'latin1')
/** UTF-8 of U+0130 and U+212A: their lower case holds an ASCII letter. */
export const DOTTED_CAPITAL_I = Buffer.from('\u0130', 'utf8')
export const KELVIN = Buffer.from('\u212a', 'utf8')

/** The result of reading one line's app_name and message in place. */
export const enum HeadVerdict { Undecided, Match, NoMatch }

/** What the in-place test checks: the lower-cased text the message must contain, the apps one of which it must be. */
export interface HeadFieldTest {
  text: string | undefined
  apps: readonly Buffer[] | undefined
}

function startsWith (buf: Buffer, at: number, end: number, key: Buffer): boolean {
  if (at + key.length > end) return false
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return false
  return true
}

/**
 * The offset of the quote that ends the JSON string whose text starts at `from`, or -1 when the string
 * holds a backslash (its bytes are not its text) or does not end before `end`. `high` is set when the
 * string holds bytes of non-ASCII characters.
 */
function stringEnd (buf: Buffer, from: number, end: number, high: { seen: boolean }): number {
  for (let i = from; i < end; i++) {
    const b = buf[i]!
    if (b === QUOTE) return i
    if (b === BACKSLASH) return -1
    if (b >= 0x80) high.seen = true
  }
  return -1
}

function holds (buf: Buffer, from: number, to: number, seq: Buffer): boolean {
  const at = buf.indexOf(seq, from)
  return at !== -1 && at + seq.length <= to
}

const high = { seen: false }

/**
 * Decides `test` for the line `buf[start, end)` (which has the head) from its app_name and message read
 * in place, or answers Undecided when the line does not allow it.
 */
export function testHeadFields (buf: Buffer, start: number, end: number, test: HeadFieldTest): HeadVerdict {
  // The level ends at the first quote after its start (level names are plain letters).
  const levelEnd = buf.indexOf(QUOTE, start + LEVEL_START)
  if (levelEnd === -1 || levelEnd >= end || buf[levelEnd + 1] !== COMMA) return HeadVerdict.Undecided
  let at = levelEnd + 2
  high.seen = false
  if (startsWith(buf, at, end, APP_KEY)) {
    const from = at + APP_KEY.length
    const to = stringEnd(buf, from, end, high)
    if (to === -1 || high.seen) return HeadVerdict.Undecided
    if (test.apps !== undefined && !test.apps.some(a => a.length === to - from && buf.compare(a, 0, a.length, from, to) === 0)) {
      return HeadVerdict.NoMatch
    }
    if (buf[to + 1] !== COMMA) return HeadVerdict.Undecided
    at = to + 2
  } else if (test.apps !== undefined) {
    return HeadVerdict.Undecided
  }
  if (test.text === undefined) return HeadVerdict.Match
  if (!startsWith(buf, at, end, MESSAGE_KEY)) return HeadVerdict.Undecided
  const from = at + MESSAGE_KEY.length
  const to = stringEnd(buf, from, end, high)
  if (to === -1) return HeadVerdict.Undecided
  if (high.seen && (holds(buf, from, to, DOTTED_CAPITAL_I) || holds(buf, from, to, KELVIN))) return HeadVerdict.Undecided
  // One byte per character in latin1: a non-ASCII byte lower-cases to a non-ASCII character, so only the
  // message's ASCII letters can meet the (ASCII or not) needle's ASCII letters, as in the parsed test;
  // a needle with non-ASCII characters never matches here, so it is left to the parse.
  if (!isAscii(test.text)) return HeadVerdict.Undecided
  return buf.latin1Slice(from, to).toLowerCase().includes(test.text) ? HeadVerdict.Match : HeadVerdict.NoMatch
}

function isAscii (text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}
