// The built-in detectors of REDACT_PATTERNS: hand-written scanners over a string value, each finding
// the next match at or after a position.
//
//   string ─► quick test (one native search: '@', 'eyJ', /bearer/i, four digits) ─no─► untouched
//              └─yes─► next(s, from, m) … ─► the redactor (redactor.ts) replaces [m.start, m.end)
//
// They run on every string value of every event with redaction on, and on whatever a client sends, so
// none may backtrack: each scanner moves forward and, where it gives a candidate up, resumes past the
// part it has read, so a character is read a bounded number of times whatever the input (the tests feed
// them 100 KB of adversarial text). No regex here does more than find a literal.

/** Where the last match was found: start inclusive, end exclusive. One per redactor, reused. */
export interface Match {
  start: number
  end: number
}

export interface Detector {
  /** False when `s` cannot hold a match: most strings are settled here without a scan. */
  quick: (s: string) => boolean
  /** Finds the first match at or after `from` into `m`; false when there is none. */
  next: (s: string, from: number, m: Match) => boolean
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isLetter = (c: number): boolean => (c | 32) >= 97 && (c | 32) <= 122
const isAlnum = (c: number): boolean => isDigit(c) || isLetter(c)

// --- e-mail: local@domain.tld ---------------------------------------------------------------------

// The local part's characters: letters, digits and . _ % + -
const isLocal = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45
const isLabel = (c: number): boolean => isAlnum(c) || c === 45

/**
 * Around each '@': the local part to its left, then dot-separated labels ending in a top-level domain of
 * two letters or more. The left scan stops at the previous '@' (not a local character) and the right one
 * at the next, so each stretch between two '@' is read at most twice.
 */
function nextEmail (s: string, from: number, m: Match): boolean {
  let at = s.indexOf('@', from)
  while (at !== -1) {
    let a = at
    while (a > from && isLocal(s.charCodeAt(a - 1))) a--
    while (a < at && s.charCodeAt(a) === 46) a++ // a local part does not start with '.'
    let b = at + 1
    let labelStart = b
    let lastDot = -1
    while (b < s.length) {
      const c = s.charCodeAt(b)
      if (isLabel(c)) {
        b++
      } else if (c === 46 && b > labelStart && b + 1 < s.length && isLabel(s.charCodeAt(b + 1))) {
        lastDot = b
        labelStart = ++b
      } else {
        break
      }
    }
    if (a < at && lastDot !== -1 && b - lastDot > 2 && lettersOnly(s, lastDot + 1, b)) {
      m.start = a
      m.end = b
      return true
    }
    at = s.indexOf('@', at + 1)
  }
  return false
}

function lettersOnly (s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isLetter(s.charCodeAt(i))) return false
  return true
}

// --- card numbers: 13 to 19 digits with a valid Luhn check digit ------------------------------------

const CARD_QUICK = /\d{4}/
/** Digits of the current candidate; 19 is the longest card number. */
const digits = new Uint8Array(19)

/**
 * A number standing on its own (no letter or digit on either side) of 13 to 19 digits, written together
 * or in groups of up to six joined by single spaces or hyphens ("4111 1111 1111 1111"), starting as a
 * card network's numbers do (2 to 6), whose last digit is its Luhn check digit. Epoch milliseconds
 * (13 digits starting with 1) and hex ids (digits next to letters) are not cards.
 */
function nextCard (s: string, from: number, m: Match): boolean {
  const len = s.length
  let i = from
  while (i < len) {
    if (!isDigit(s.charCodeAt(i))) { i++; continue }
    const start = i
    let n = 0
    let group = 0
    let end = i
    for (;;) {
      const c = s.charCodeAt(end)
      if (isDigit(c)) {
        if (n < 19) digits[n] = c - 48
        n++
        group++
        end++
        continue
      }
      // A separator joins two short groups only; a longer group after it starts a number of its own.
      if ((c === 32 || c === 45) && group <= 6 && end + 1 < len && isDigit(s.charCodeAt(end + 1)) && groupLength(s, end + 1, 7) <= 6) {
        group = 0
        end++
        continue
      }
      break
    }
    if ((start === 0 || !isAlnum(s.charCodeAt(start - 1))) && (end === len || !isAlnum(s.charCodeAt(end))) &&
      n >= 13 && n <= 19 && digits[0]! >= 2 && digits[0]! <= 6 && luhn(n)) {
      m.start = start
      m.end = end
      return true
    }
    i = end
  }
  return false
}

/** The digits from `i`, counted up to `max`. */
function groupLength (s: string, i: number, max: number): number {
  let n = 0
  while (n < max && i + n < s.length && isDigit(s.charCodeAt(i + n))) n++
  return n
}

function luhn (n: number): boolean {
  let sum = 0
  for (let k = 0; k < n; k++) {
    let d = digits[n - 1 - k]!
    if (k % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

// --- bearer tokens: "Bearer <token>" ------------------------------------------------------------

// A literal, found by the engine's own search: linear.
const BEARER = /bearer/gi
const BEARER_QUICK = /bearer/i
// RFC 6750's b64token characters: letters, digits and - . _ ~ + /, then '=' padding.
const isTokenChar = (c: number): boolean => isAlnum(c) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47
/** Shorter tokens, or tokens of letters alone, are taken for words ("bearer of the news"). */
const MIN_TOKEN = 8

/** The token after the word "bearer" and its spaces; the word itself is kept, so the line still says what it was. */
function nextBearer (s: string, from: number, m: Match): boolean {
  BEARER.lastIndex = from
  for (let found = BEARER.exec(s); found !== null; found = BEARER.exec(s)) {
    const word = found.index
    let i = word + 6
    if (word > 0 && isAlnum(s.charCodeAt(word - 1))) continue
    const spaces = i
    while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++
    if (i === spaces) continue
    const start = i
    let symbols = false
    while (i < s.length && isTokenChar(s.charCodeAt(i))) {
      if (!isLetter(s.charCodeAt(i))) symbols = true
      i++
    }
    const tokenEnd = i
    while (i < s.length && s.charCodeAt(i) === 61) i++
    if (tokenEnd - start >= MIN_TOKEN && symbols) {
      m.start = start
      m.end = i
      return true
    }
    BEARER.lastIndex = i // past the token read: it holds no "bearer" that could start a match
  }
  return false
}

// --- JWTs: header.payload.signature, the header's JSON starting '{"' (base64url "eyJ") --------------

const isB64url = (c: number): boolean => isAlnum(c) || c === 45 || c === 95
/** A header is at least '{"alg":"x"}': 15 base64url characters. */
const MIN_HEADER = 15

function segmentEnd (s: string, i: number): number {
  while (i < s.length && isB64url(s.charCodeAt(i))) i++
  return i
}

/**
 * Three base64url segments joined by dots, the first starting "eyJ" (the signature may be empty: an
 * unsecured JWT). A failed candidate resumes after its header, so a segment is read by at most three
 * candidates (as header, payload and signature).
 */
function nextJwt (s: string, from: number, m: Match): boolean {
  let i = s.indexOf('eyJ', from)
  while (i !== -1) {
    const e1 = segmentEnd(s, i + 3)
    const before = i > 0 ? s.charCodeAt(i - 1) : 0
    if (!isB64url(before) && before !== 46 && e1 - i >= MIN_HEADER && s.charCodeAt(e1) === 46) {
      const e2 = segmentEnd(s, e1 + 1)
      if (e2 - e1 > 2 && s.charCodeAt(e2) === 46) {
        m.start = i
        m.end = segmentEnd(s, e2 + 1)
        return true
      }
    }
    i = s.indexOf('eyJ', Math.max(e1, i + 3))
  }
  return false
}

/** The detectors REDACT_PATTERNS may name, by name. */
export const DETECTORS: Readonly<Record<string, Detector>> = Object.freeze({
  email: { quick: s => s.includes('@'), next: nextEmail },
  card: { quick: s => CARD_QUICK.test(s), next: nextCard },
  bearer: { quick: s => BEARER_QUICK.test(s), next: nextBearer },
  jwt: { quick: s => s.includes('eyJ'), next: nextJwt }
})

export const DETECTOR_NAMES = Object.freeze(Object.keys(DETECTORS))
