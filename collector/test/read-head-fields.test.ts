// The in-place test of app_name and message (read/head-fields.ts) held to the parse: on generated events,
// written both ways the collector writes lines (serialised, and spliced from the client's own text in any
// key order and spacing), every query of text and app names keeps exactly the lines JSON.parse + the exact
// test keep — and the in-place test does decide many lines, so the fast path is the one taken.
import t from 'tap'
import fc from 'fast-check'
import { normaliseEvent } from '../src/normalise/normalise'
import { HeadVerdict, testHeadFields } from '../src/read/head-fields'
import { LineMatcher } from '../src/read/line-matcher'
import { matchEvent, type StoredEvent } from '../src/read/match'
import { parseReadQuery } from '../src/read/query'

const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
const MESSAGES = ['Upstream timeout after 30s', 'TIMEOUT', 'say "timeout"', 'back\\slash timeout', 'tab\there', 'Café timeout',
  'İstanbul', 'ki\u212aled', '\u212aELVIN', 'x\u0130', 'time\u00adout', 'emoji 🙂 timeout', '', 'a b c', 'time out', 'ÀÉÎ timeout']
const APPS = ['api', 'web', 'pay', 'caf\u00e9', 'we"b', 'a\\b']
const TEXTS = ['timeout', 'TIMEOUT', 'time', 'out', 'ki', 'xi', 'k', 'i', '"', '\\', 'é', 'café', 'a b', '🙂', 'ab', 'istanbul', 'i̇stanbul', 'kelvin']

const eventArb = fc.record({
  app_name: fc.constantFrom(...APPS),
  message: fc.constantFrom(...MESSAGES),
  level: fc.constantFrom('info', 'error', 'WARN', 'debug'),
  // Keys that look like the head's, nested or after it, and fields that hold the needles.
  extra: fc.option(fc.record({ message: fc.constantFrom('timeout', 'x'), app_name: fc.constantFrom('api', 'web') }), { nil: undefined }),
  note: fc.option(fc.constantFrom('timeout', '"message":"timeout"', '"app_name":"api"'), { nil: undefined })
}).map(e => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)))

/** The client's own text of `e`: keys in some order, with or without spaces, for the splice path. */
const textArb = (e: Record<string, unknown>): fc.Arbitrary<string> => fc.tuple(fc.shuffledSubarray(Object.keys(e), { minLength: Object.keys(e).length }), fc.boolean())
  .map(([keys, spaced]) => '{' + keys.map(k => JSON.stringify(k) + (spaced ? ' : ' : ':') + JSON.stringify(e[k])).join(spaced ? ' , ' : ',') + '}')

const lineArb = eventArb.chain(e => fc.tuple(fc.constant(e), fc.option(textArb(e), { nil: undefined })))
  .map(([e, text]) => {
    const r = normaliseEvent(structuredClone(e), { limits, receivedAt: '2026-12-06T10:00:00.000Z' }, text)
    if (!r.ok) throw new Error(r.error)
    return r.line
  })

const queryArb = fc.record({
  q: fc.option(fc.constantFrom(...TEXTS), { nil: undefined }),
  app_name: fc.option(fc.constantFrom(...APPS), { nil: undefined }),
  level: fc.option(fc.constantFrom('ERROR', 'INFO'), { nil: undefined })
}).filter(p => p.q !== undefined || p.app_name !== undefined)
  .map(p => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Record<string, string>)

t.test('the in-place test keeps exactly what the parse keeps', async t => {
  let decided = 0
  let lines = 0
  fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 40 }), queryArb, (ls, params) => {
    const q = parseReadQuery(params)
    const buf = Buffer.from(ls.join('\n') + '\n')
    const fast: number[] = []
    new LineMatcher(q, undefined, false).scan(buf, buf.length, 0, (start) => { fast.push(start) })
    const slow: number[] = []
    let at = 0
    for (const l of ls) {
      if (matchEvent(JSON.parse(l) as StoredEvent, q)) slow.push(at)
      const end = at + Buffer.byteLength(l)
      const verdict = testHeadFields(buf, at, end, { text: q.text, apps: q.apps?.map(a => Buffer.from(a)) })
      if (verdict !== HeadVerdict.Undecided) decided++
      lines++
      at = end + 1
    }
    return fast.length === slow.length && fast.every((s, i) => s === slow[i])
  }), { numRuns: 400, seed: 20261206 })
  t.pass('fast and slow agree on 400 generated journals and queries')
  // The generator leans on escapes and the two special characters; ordinary lines are all decided in place.
  t.ok(decided > lines / 4, `the in-place test decides many lines (${decided} of ${lines})`)
})

t.test('what the in-place test leaves to the parse', async t => {
  const line = (e: Record<string, unknown>): Buffer => {
    const r = normaliseEvent(e, { limits, receivedAt: '2026-12-06T10:00:00.000Z' })
    if (!r.ok) throw new Error(r.error)
    return Buffer.from(r.line)
  }
  const verdict = (b: Buffer, text: string | undefined, apps?: string[]): HeadVerdict =>
    testHeadFields(b, 0, b.length, { text, apps: apps?.map(a => Buffer.from(a)) })
  t.equal(verdict(line({ app_name: 'api', message: 'a "timeout"' }), 'timeout'), HeadVerdict.Undecided, 'an escape in the message')
  t.equal(verdict(line({ app_name: 'api', message: 'x\u0130' }), 'xi'), HeadVerdict.Undecided, 'İ, whose lower case is ASCII')
  t.equal(verdict(line({ app_name: 'api', message: '\u212aelvin' }), 'kelvin'), HeadVerdict.Undecided, 'the Kelvin sign')
  t.equal(verdict(line({ app_name: 'api', message: 'café' }), 'café'), HeadVerdict.Undecided, 'a needle beyond ASCII')
  t.equal(verdict(line({ app_name: 'we"b', message: 'x' }), undefined, ['we"b']), HeadVerdict.Undecided, 'an escape in app_name')
  t.equal(verdict(line({ app_name: 'api', message: 'Upstream TIMEOUT' }), 'timeout'), HeadVerdict.Match)
  t.equal(verdict(line({ app_name: 'api', message: 'Café timeout' }), 'timeout'), HeadVerdict.Match, 'other non-ASCII bytes are fine')
  t.equal(verdict(line({ app_name: 'api', message: 'slow' }), 'timeout'), HeadVerdict.NoMatch)
  t.equal(verdict(line({ app_name: 'web', message: 'timeout' }), 'timeout', ['api']), HeadVerdict.NoMatch, 'another app')
  t.equal(verdict(line({ app_name: 'api', message: 'timeout' }), 'timeout', ['api', 'web']), HeadVerdict.Match)
  t.equal(verdict(Buffer.from('{"timestamp":"2026-12-06T10:00:00.000Z","level":"INFO","message":"timeout","app_name":"api"}'), 'timeout', ['api']),
    HeadVerdict.Undecided, 'app_name after the message: an older writer')
  t.equal(verdict(Buffer.from('{"timestamp":"2026-12-06T10:00:00.000Z","level":"INFO","message":"timeout"}'), 'timeout'),
    HeadVerdict.Match, 'no app_name and no app asked')
  t.equal(verdict(Buffer.from('{"timestamp":"2026-12-06T10:00:00.000Z","level":"INFO","app_name":"api","message":"timeout'), 'timeout'),
    HeadVerdict.Undecided, 'a message that does not end')
  t.equal(verdict(Buffer.from('{"timestamp":"2026-12-06T10:00:00.000Z","level":"INFO"}'), 'timeout'), HeadVerdict.Undecided, 'a head and nothing else')
})
