// A search's keyed line test (read/line-matcher.ts, keyed: key and received_at from the line's fixed tail,
// read/line-tail.ts, and no JSON.parse where head, tail and head fields decide) held to the parse: on
// generated journals — lines the collector writes (serialised and spliced), lines whose client sent its own
// _id or received_at (renamed, so no tail), lines received after the snapshot, and hand-made ends that only
// look like the tail — every query of text, apps, levels, window, fields, expression, cursor and snapshot
// keeps exactly the lines, with exactly the keys, that JSON.parse + the exact test keep. The same holds when
// the columns (read/columns.ts) pick the lines first and those they show to match go through `admit`, as
// compacted searches do (journal-search.ts). And the fast path is the one taken.
import t from 'tap'
import fc from 'fast-check'
import { normaliseEvent } from '../src/normalise/normalise'
import { COL_HEAD, ColumnQuery, decodeColumns, encodeColumns } from '../src/read/columns'
import { comesBefore, encodeCursor } from '../src/read/cursor'
import { LineHit, lineHitBefore } from '../src/read/journal-search'
import { LineMatcher } from '../src/read/line-matcher'
import { TAIL_BYTES, tailAt } from '../src/read/line-tail'
import { parseReadQuery, type ReadQuery } from '../src/read/query'

const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
const MESSAGES = ['Upstream timeout after 30s', 'TIMEOUT', 'say "timeout"', 'Café timeout', 'x\u0130', 'slow', '', 'a ,"_id":"x" b']
const APPS = ['api', 'web', 'caf\u00e9', 'we"b']
const TIMES = ['2026-12-06T10:00:00.000Z', '2026-12-06T10:00:01.000Z', '2026-12-06T10:00:02.000Z']
const RECEIVED = ['2026-12-06T11:00:00.000Z', '2026-12-06T11:00:05.000Z', '2026-12-06T11:00:09.000Z']
const SNAPSHOT = '2026-12-06T11:00:05.000Z'
const IDS = ['0000000000000000000000a1', '0000000000000000000000b2', '0000000000000000000000c3']
const HEAD = '{"timestamp":"2026-12-06T10:00:01.000Z","level":"INFO","app_name":"api","message":"timeout"'

/** Lines that end almost like the tail: each must be left to the parse (or, parsed, answer the same). */
const ODD = [
  HEAD + ',"_id":"0000000000000000000000D4","received_at":"2026-12-06T11:00:00.000Z"}', // upper case: still plain
  HEAD + ',"_id":"00000000000000000000\\"0d4","received_at":"2026-12-06T11:00:00.000Z"}', // an escape in the id
  HEAD + ',"_id":"0000000000000000000000d5","received_at":"2026-12-06T11:00:00.00\\u0030"}', // an escape in received_at
  HEAD + ',"x":{"_id":"0000000000000000000000d6","received_at":"2026-12-06T11:00:00.000Z"}}', // nested: not the top level
  HEAD + ',"a\\"_id":"0000000000000000000000d7","received_at":"2026-12-06T11:00:00.000Z"}', // a key ending in "_id
  HEAD + ',"_id":"0000000000000000000000d8","received_at":"2026-12-06T11:00:00.000Z" }', // a space before the brace
  HEAD + ',"_id":"0000000000000000000000d9","received_at":"2026-12-06T23:00:00.000Z"}', // received after the snapshot
  HEAD + ',"_id":7,"received_at":"2026-12-06T11:00:00.000Z"}' // not a string: no event
]

/** `value` one time in four, else absent. */
const rarely = <T>(value: T): fc.Arbitrary<T | undefined> => fc.constantFrom<T | undefined>(undefined, undefined, undefined, value)

const eventArb = fc.record({
  timestamp: fc.constantFrom(...TIMES),
  app_name: fc.constantFrom(...APPS),
  message: fc.constantFrom(...MESSAGES),
  level: fc.constantFrom('info', 'error', 'warn'),
  code: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
  // A client's own _id / received_at are renamed at ingest: such a line has no tail.
  _id: rarely('mine'),
  received_at: rarely('then')
}).map(e => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)))

const textArb = (e: Record<string, unknown>): fc.Arbitrary<string> => fc.shuffledSubarray(Object.keys(e), { minLength: Object.keys(e).length })
  .map(keys => '{' + keys.map(k => JSON.stringify(k) + ':' + JSON.stringify(e[k])).join(',') + '}')

const lineArb = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(eventArb, fc.constantFrom(...RECEIVED), fc.constantFrom(...IDS)).chain(([e, receivedAt, id]) =>
    fc.tuple(fc.constant(e), fc.constant(receivedAt), fc.constant(id), fc.option(textArb(e), { nil: undefined })))
    .map(([e, receivedAt, id, text]) => {
      const r = normaliseEvent(structuredClone(e), { limits, receivedAt }, text, id)
      if (!r.ok) throw new Error(r.error)
      return r.line
    }) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD) }
)

const queryArb = fc.record({
  q: fc.option(fc.constantFrom('timeout', 'TIME', 'x', '"', 'café', '_id'), { nil: undefined, freq: 2 }),
  app_name: fc.option(fc.constantFrom(...APPS), { nil: undefined, freq: 2 }),
  level: fc.option(fc.constantFrom('ERROR', 'INFO'), { nil: undefined, freq: 2 }),
  from: fc.option(fc.constant(TIMES[1]!), { nil: undefined, freq: 2 }),
  'f.code': rarely('1'),
  query: rarely('code: 2 or message: slow'),
  cursor: fc.option(fc.tuple(fc.constantFrom(...TIMES), fc.constantFrom(...IDS)).map(([timestamp, id]) => encodeCursor({ timestamp, id, snapshot: SNAPSHOT })), { nil: undefined, freq: 2 })
}).map(p => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Record<string, string>)

type Kept = Array<[number, string, string]>

/** The reference: every line parsed, the exact test (LineMatcher with alwaysParse), the key from the event. */
function slowPath (buf: Buffer, q: ReadQuery, snapshot: string | undefined): Kept {
  const kept: Kept = []
  new LineMatcher(q, snapshot, true).scan(buf, buf.length, 0, (start, _end, event) => {
    kept.push([start, event!.timestamp as string, event!._id as string])
  })
  return kept
}

/** Each line start of `buf` (whole lines, each ending in a newline). */
function lineStarts (buf: Buffer): number[] {
  const starts = [0]
  for (let i = buf.indexOf(10); i !== -1 && i + 1 < buf.length; i = buf.indexOf(10, i + 1)) starts.push(i + 1)
  return starts
}

t.test('the keyed test keeps exactly the lines and keys the parse keeps, scanned or picked by the columns', async t => {
  let inPlace = 0
  let admitted = 0
  let inPlaceKeys = 0
  let kept = 0
  const bad: string[] = []
  fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 30 }), queryArb, fc.boolean(), (ls, params, snap) => {
    const q = parseReadQuery(params)
    const snapshot = snap ? SNAPSHOT : undefined
    const buf = Buffer.from(ls.join('\n') + '\n')
    const slow = slowPath(buf, q, snapshot)

    const scanned: Kept = []
    const keyed = new LineMatcher(q, snapshot, false, undefined, true)
    keyed.scan(buf, buf.length, 0, (start, _end, event) => {
      scanned.push([start, keyed.ts, keyed.id])
      if (event === undefined) inPlace++
    })

    // As a compacted search: the columns pick; those they show to match are admitted, the rest tested whole.
    const picked: Kept = []
    const cq = ColumnQuery.of(q)
    if (cq !== undefined) {
      const cols = decodeColumns(encodeColumns(buf, buf.length), buf.length)
      const marks: number[] = []
      cq.scan(cols, 0, cols.n, 0, i => marks.push(i * 2), i => marks.push(i * 2 + 1))
      const matcher = new LineMatcher(q, snapshot, false, undefined, true)
      for (const v of marks.sort((a, b) => a - b)) {
        const i = v >> 1
        const start = cols.starts[i]!
        const end = cols.starts[i + 1]! - 1
        // An admitted line's key may be left in place (matcher.idAt): read through the hit the search makes of it.
        const onLine = (): void => {
          if (matcher.idAt === -1) picked.push([start, matcher.ts, matcher.id])
          else {
            const hit = new LineHit(undefined, undefined, buf, start, end, undefined, matcher.ms, matcher.idAt)
            picked.push([start, hit.timestamp, hit.id])
            if (!(hit.ms === Date.parse(hit.timestamp) || Number.isNaN(hit.ms))) bad.push(`${hit.timestamp} given as ${hit.ms}`)
            inPlaceKeys++
          }
        }
        if ((v & 1) === 0) {
          admitted++
          matcher.admit(buf, start, end, onLine, (cols.flags[i]! & COL_HEAD) !== 0 ? cols.ms[i]! : NaN)
        } else {
          matcher.test(buf, start, end, onLine)
        }
      }
    }
    kept += scanned.length
    const same = (a: Kept): boolean => JSON.stringify(a) === JSON.stringify(slow)
    return same(scanned) && (cq === undefined || same(picked))
  }), { numRuns: 500, seed: 20261206 })
  t.pass('keyed scan, admitted and tested lines agree with the parse on 500 generated journals and queries')
  t.ok(inPlace > kept / 4, `lines are answered without a parse (${inPlace} of the ${kept} kept)`)
  t.ok(admitted > 0, `the columns show lines to match, which are admitted (${admitted})`)
  t.ok(inPlaceKeys > 0, `admitted lines keep their key in place (${inPlaceKeys})`)
  t.same(bad, [], 'the time given with a key in place is its timestamp\'s')
})

t.test('journal hits order by time and _id in place as by their text: ties, unknown times, keys as text', async t => {
  // A hit as a search makes it: key in place (with or without its time) or as text, in a line of its own.
  const hitArb = fc.record({ ts: fc.constantFrom(...TIMES), id: fc.constantFrom(...IDS), form: fc.constantFrom('time', 'no time', 'text'), pad: fc.nat(5) })
    .map(({ ts, id, form, pad }) => {
      const line = Buffer.from(' '.repeat(pad) + `{"timestamp":"${ts}","level":"INFO","message":"m","_id":"${id}","received_at":"${RECEIVED[0]!}"}`)
      const idAt = line.indexOf(id)
      return form === 'text'
        ? new LineHit(ts, id, line, pad, line.length, undefined)
        : new LineHit(undefined, undefined, line, pad, line.length, undefined, form === 'time' ? Date.parse(ts) : NaN, idAt)
    })
  fc.assert(fc.property(hitArb, hitArb, (a, b) =>
    lineHitBefore(a, b) === comesBefore(a.timestamp, a.id, b.timestamp, b.id) && a.timestamp === a.line.slice(14, 38)), { numRuns: 2000, seed: 20261207 })
  t.pass('2,000 pairs ordered as their text orders them')
})

t.test('the tail is found only where it is the top level\'s last two members', async t => {
  const at = (line: string): number => tailAt(Buffer.from(line), 0, Buffer.byteLength(line))
  const written = normaliseEvent({ app_name: 'api', message: 'x' }, { limits, receivedAt: RECEIVED[0]! }, undefined, IDS[0]!)
  if (!written.ok) throw new Error(written.error)
  const line = written.line
  t.equal(at(line), line.length - TAIL_BYTES + 8, 'a written line: the id right after `,"_id":"`')
  t.equal(at(ODD[0]!), ODD[0]!.length - TAIL_BYTES + 8, 'any plain id (the parse gives the same string)')
  for (const odd of ODD.slice(1, 6).concat(ODD.slice(7))) t.equal(at(odd), -1, odd.slice(HEAD.length))
  t.equal(at('{"_id":"0000000000000000000000d5","received_at":"2026-12-06T11:00:00.000Z"}'), -1, 'no member before the tail: no comma')
  t.equal(at(line.slice(0, -1)), -1, 'no closing brace')
})

t.test('a hit parses its line only when asked, and a line that is not JSON inside still answers its key', async t => {
  const good = Buffer.from(`xx${HEAD},"_id":"${IDS[0]!}","received_at":"${RECEIVED[0]!}"}yy`)
  const hit = new LineHit(TIMES[1]!, IDS[0]!, good, 2, good.length - 2, undefined)
  t.equal(hit.line, good.toString('utf8', 2, good.length - 2))
  t.match(hit.event, { message: 'timeout', _id: IDS[0], received_at: RECEIVED[0] })
  t.equal(hit.event, hit.event, 'parsed once')
  const bad = Buffer.from(`${HEAD},"x":,"_id":"${IDS[1]!}","received_at":"${RECEIVED[0]!}"}`)
  t.same(new LineHit(TIMES[1]!, IDS[1]!, bad, 0, bad.length, undefined).event, { timestamp: TIMES[1], _id: IDS[1] })
})
