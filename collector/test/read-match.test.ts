// The journal's prefilter (match.ts) against the exact test: over random events — escapes, non-ASCII
// text, İ and the Kelvin sign, nested and array fields — the fast path (substring search over a block,
// then parse) finds exactly the lines that parsing every line finds.
import t from 'tap'
import { normaliseEvent } from '../src/normalise/normalise'
import { LineMatcher } from '../src/read/line-matcher'
import { LATIN1_WINDOW_BYTES, candidateLines, fieldMatches, matchEvent, prefilterFor, searchablePart, type SequenceMemo, type StoredEvent } from '../src/read/match'
import { parseReadQuery, type ReadQuery } from '../src/read/query'

// mulberry32: a small seeded generator, so every run tests the same events.
let seed = 42
function rand (n: number): number {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return (((x ^ (x >>> 14)) >>> 0) / 4294967296 * n) | 0
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!
const WORDS = ['timeout', 'TimeOut', 'disk', 'İstanbul', 'Kelvin \u212a', 'kilo', 'naïve', 'Ünïcode', 'quote "x"', 'back\\slash',
  'line\nbreak', 'tab\tbed', 'slash/path', '\u00e9t\u00e9', 'ok', 'status 500', '日本語', 'emoji 😀', 'i', 'k', 'FOXİ', 'AZ\u212a']
const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }

function randomEvent (i: number): { raw: object, text?: string } {
  const message = Array.from({ length: 1 + rand(4) }, () => pick(WORDS)).join(' ')
  const raw: Record<string, unknown> = { level: pick(['info', 'warn', 'error', 'debug']), message, app_name: pick(['api', 'web', 'wörker']), seq: i }
  if (rand(2) === 0) raw.http = { status: pick([200, 404, 500, '500']), tags: pick([['a', 'b'], ['timeout'], []]) }
  if (rand(3) === 0) raw.user = pick(['ann', 'bob', 'İris', 'a"b'])
  if (rand(4) === 0) raw.ok = rand(2) === 0
  const text = rand(2) === 0 ? JSON.stringify({ level: raw.level, timestamp: 1764590400000 + i, ...raw }) : undefined
  // Some arrive as the transports write them (spliced), with characters escaped as a client may escape
  // them: é as \u00e9, even a plain letter (timeout as tim\u0065out).
  return { raw, text: text?.replace(/é/g, rand(2) === 0 ? '\\u00e9' : 'é').replace(/timeout/g, rand(2) === 0 ? 'tim\\u0065out' : 'timeout') }
}

const lines: string[] = []
for (let i = 0; i < 3000; i++) {
  const { raw, text } = randomEvent(i)
  const parsed = text === undefined ? raw : JSON.parse(text)
  const r = normaliseEvent(parsed, { limits, receivedAt: '2026-12-01T10:00:00.000Z' }, text)
  if (r.ok) lines.push(r.line)
}
const block = Buffer.from(lines.join('\n') + '\n')

function viaPrefilter (q: ReadQuery, memo?: SequenceMemo): number[] {
  const seqs: number[] = []
  new LineMatcher(q, undefined, true).scan(block, block.length, 0, (_s, _e, event) => { seqs.push(event!.seq as number) }, memo)
  return seqs
}
function viaParse (q: ReadQuery): number[] {
  return lines.map(l => JSON.parse(l) as StoredEvent).filter(e => matchEvent(e, q)).map(e => e.seq as number)
}

t.test('every journal line starts with the fixed head', async t => {
  t.ok(lines.length > 2900)
  t.ok(lines.every(l => /^\{"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"[A-Z]+",/.test(l)))
})

t.test('the prefiltered scan finds exactly what parsing every line finds', async t => {
  const queries: Array<Record<string, string>> = [
    { q: 'timeout' }, { q: 'TIMEOUT' }, { q: 'i' }, { q: 'k' }, { q: 'ki' }, { q: 'istanbul' }, { q: 'i̇stanbul' }, { q: 'ünï' },
    { q: 'xi' }, { q: 'zk' }, { q: 'kelvin k' }, { q: '"x"' }, { q: 'back\\slash' }, { q: 'slash/path' }, { q: 'été' }, { q: 'status 5' }, { q: '日本' },
    { app_name: 'api' }, { app_name: 'wörker' }, { app_name: 'api,web' }, { 'f.user': 'ann' }, { 'f.user': 'a"b' },
    { 'f.user': 'İris' }, { 'f.http.status': '500' }, { 'f.http.tags': 'timeout' }, { 'f.ok': 'true' }, { 'f.ok': 'false' },
    { level: 'warn' }, { level: 'error', q: 'disk' }, { level: 'debug', app_name: 'web', q: 'ok' }, { q: 'zzz-not-there' }
  ]
  // One memo for the block across all queries, as the block index keeps it: a second scan that trusts
  // what the first learnt must still find everything.
  const memo: SequenceMemo = new Map()
  for (const params of queries) {
    const q = parseReadQuery(params)
    const expected = viaParse(q)
    t.same(viaPrefilter(q), expected, `${JSON.stringify(params)}: ${expected.length} matches`)
    t.same(viaPrefilter(q, memo), expected, `${JSON.stringify(params)}, with the block's memo`)
    t.same(viaPrefilter(q, memo), expected, `${JSON.stringify(params)}, with the memo learnt`)
  }
  t.equal(memo.get('\\u'), true, 'the block holds escapes, and the memo says so')
})

t.test('a block known to hold no escape is searched in one pass', async t => {
  const plain = Buffer.from(lines.filter(l => !l.includes('\\u')).join('\n') + '\n')
  const p = prefilterFor(parseReadQuery({ 'f.user': 'ann' }))!
  const memo: SequenceMemo = new Map()
  const first = candidateLines(plain, plain.length, p, memo)
  t.same(memo, new Map([['\\u', false]]), 'the first scan learns that the block holds no \\u')
  // Proof that the memo is trusted: a memo that (wrongly) says "no escape" hides an escaped line.
  const escaped = Buffer.from('{"user":"\\u0061nn"}\n')
  t.same(candidateLines(escaped, escaped.length, p), [0], 'without a memo the escaped line is a candidate')
  t.same(candidateLines(escaped, escaped.length, p, new Map([['\\u', false]])), [], 'with the memo its pass is skipped')
  t.same(candidateLines(plain, plain.length, p, memo), first, 'the same candidates either way on the plain block')
})

t.test('a case-insensitive needle is found across the windows a block is searched in', async t => {
  // The search turns LATIN1_WINDOW_BYTES of the block into a string at a time: the needle at every
  // place across a window's edge, in several cases, on lines short and long (one longer than a window),
  // must give the candidates one string of the whole block gives.
  const wholeBlock = (buf: Buffer, re: RegExp): number[] => {
    const text = buf.toString('latin1')
    const starts: number[] = []
    re.lastIndex = 0
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const start = text.lastIndexOf('\n', m.index) + 1
      if (starts.at(-1) !== start) starts.push(start)
    }
    return starts
  }
  const p = prefilterFor(parseReadQuery({ q: 'timeout' }))!
  const pad = (n: number): string => 'x'.repeat(n)
  for (let k = 0; k <= 7; k++) {
    for (const word of ['timeout', 'TimeOut', 'TIMEOUT']) {
      // The needle on line 1 starts k bytes before the edge (0: at it, 7: wholly before it); then a line longer than a
      // window holding the needle twice; then short lines, one with the needle twice.
      const first = pad(LATIN1_WINDOW_BYTES - k - 9) + word + '\n'
      const text = pad(9) + first.slice(0, -1) + ' x\n' + pad(LATIN1_WINDOW_BYTES + 100) + word + pad(50) + word + '\n' +
        'no match\n' + word + ' ' + word + '\n' + pad(3) + word.toLowerCase() + '\n'
      const buf = Buffer.from(text, 'latin1')
      const expected = wholeBlock(buf, new RegExp('timeout', 'gi'))
      t.equal(expected.length, 4)
      t.same(candidateLines(buf, buf.length, p), expected, `${word}, ${k} bytes before the edge`)
    }
  }
})

t.test('which needle the prefilter uses', async t => {
  t.match(prefilterFor(parseReadQuery({ q: 'Timeout' })), { lowerCase: true })
  t.equal(prefilterFor(parseReadQuery({ q: 'a"b' })), undefined, 'a needle an escape could hide is not searched for')
  t.equal(prefilterFor(parseReadQuery({ q: 'été' })), undefined, 'non-ASCII text: every line is parsed')
  t.equal(prefilterFor(parseReadQuery({ 'f.http.status': '500', 'f.user': 'ann' }))?.needle.toString(), 'ann"', 'numbers are written many ways; text is not, and ends at its quote')
  t.equal(prefilterFor(parseReadQuery({ 'f.ok': 'true' }))?.needle.toString(), 'true', 'a boolean may stand without quotes')
  t.equal(prefilterFor(parseReadQuery({ 'f.http.status': '500' })), undefined)
  t.equal(prefilterFor(parseReadQuery({ level: 'info' })), undefined)
})

t.test('the needle is searched for from its rarest byte on', async t => {
  const part = (s: string): string => searchablePart(Buffer.from(s)).toString()
  t.equal(part('needle-xyzzy"'), 'zzy"', 'from the rarest letter, at least four bytes kept')
  t.equal(part('ord-977"'), 'd-977"')
  t.equal(part('a#bcdefg"'), '#bcdefg"', 'a byte outside the common ones is the rarest')
  t.equal(part('ann"'), 'ann"', 'a short needle stays whole')
  t.equal(part('timeout"'), 'meout"')
  t.equal(prefilterFor(parseReadQuery({ 'f.order': 'needle-xyzzy' }))?.needle.toString(), 'zzy"')
  t.equal(prefilterFor(parseReadQuery({ app_name: 'billing' }))?.needle.toString(), 'billing"', 'b is the rarest of the bytes that leave four')
})

t.test('field equality means what MongoDB means', async t => {
  const f = (key: string, value: string): ReturnType<typeof parseReadQuery>['fields'][number] => parseReadQuery({ [`f.${key}`]: value }).fields[0]!
  const e = { a: { b: [{ c: 1 }, { c: 2 }] }, tags: ['x', 'y'], n: 5, s: '5', t: true, nul: null }
  t.ok(fieldMatches(e, f('a.b.c', '2')), 'a path through an array')
  t.ok(fieldMatches(e, f('tags', 'y')), 'an item of an array')
  t.ok(fieldMatches(e, f('n', '5')), 'a number')
  t.ok(fieldMatches(e, f('s', '5')), 'its string')
  t.ok(fieldMatches(e, f('t', 'true')))
  t.notOk(fieldMatches(e, f('t', 'yes')))
  t.notOk(fieldMatches(e, f('n', '05x')))
  t.notOk(fieldMatches(e, f('nul', 'null')))
  t.notOk(fieldMatches(e, f('missing.deep', 'x')))
  t.notOk(fieldMatches(e, f('n.x', '5')), 'no path below a number')
})
