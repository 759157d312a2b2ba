// The alerts' line screens (alerts/line-screen.ts) are a fast path in front of the one evaluator: held here to
// it. For generated events, each written the ways a journal line can hold it, and generated queries, a
// screen must let through every line whose event the evaluator matches — and it must also stop lines, or it
// would be no screen at all.
import t from 'tap'
import fc from 'fast-check'
import { LineKeys, screenFor } from '../src/alerts/line-screen'
import { evaluate } from '../src/query/evaluate'
import { parseQuery } from '../src/query/parse'
import { eventArb, queryArb, render } from './query-arbitraries'

/** The same event as the journal may hold it: as serialised, as a client's raw text kept by the splice path, with escapes. */
function spellings (e: Record<string, unknown>): string[] {
  const plain = JSON.stringify(e)
  return [
    plain,
    // Whitespace around colons and commas: valid JSON, kept as sent.
    JSON.stringify(e, null, 1).replace(/\n/g, ' '),
    // Escaped letters in keys and values: the bytes are not the text.
    plain.replace('"message":', '"\\u006dessage":').replace('"http":', '"\\u0068ttp":'),
    plain.replace(/"(eu|us|web-1|Café|u1|x1)"/g, (_, v: string) => `"\\u${v.charCodeAt(0).toString(16).padStart(4, '0')}${v.slice(1)}"`),
    // A key that ends in an escaped quote and another key's name, and a string holding a key's look-alike.
    plain.replace(/^\{/, '{"x\\"status":999,"note2":"\\"region\\":\\"eu\\"",')
  ]
}

t.test('a screen never stops a line whose event matches, and stops others', async t => {
  const keys = new LineKeys()
  let matched = 0
  let stopped = 0
  fc.assert(fc.property(queryArb, fc.array(eventArb, { minLength: 1, maxLength: 8 }), (q, events) => {
    const expr = parseQuery(render(q))
    const screens = [screenFor(expr), screenFor(expr, true)]
    for (const e of events) {
      for (const line of spellings(e)) {
        const buf = Buffer.from(`junk before\n${line}\n`)
        const start = buf.indexOf(10) + 1
        const end = buf.length - 1
        const event = JSON.parse(line) as Record<string, unknown>
        const matches = evaluate(expr, event)
        keys.load(buf, start, end)
        for (const [i, screen] of screens.entries()) {
          const passes = screen === undefined || keys.escapedKey || screen(keys)
          if (matches && !passes) throw new Error(`screen ${i} stopped a match: ${render(q)} on ${line}`)
          if (i === 0 && !passes) stopped++
        }
        if (matches) matched++
      }
    }
  }), { seed: 20261206, numRuns: 400 })
  t.ok(matched > 500, `${matched} matching lines let through`)
  t.ok(stopped > 1000, `${stopped} lines stopped without a parse`)
})

t.test('what the screen reads in place', async t => {
  const keys = new LineKeys()
  const passes = (query: string, line: string): boolean => {
    const buf = Buffer.from(line)
    keys.load(buf, 0, buf.length)
    const screen = screenFor(parseQuery(query))
    return screen === undefined || keys.escapedKey || screen(keys)
  }
  t.ok(passes('http.status >= 500', '{"http":{"status":503}}'))
  t.notOk(passes('http.status >= 500', '{"http":{"status":200},"other":{"status":404}}'), 'every value after the key fails')
  t.ok(passes('http.status >= 500', '{"a":{"status":200},"http":{"status" : 5e2}}'), 'whitespace and exponent')
  t.ok(passes('http.status >= 500', '{"http":{"status":[200,503]}}'), 'an array is left to the evaluator')
  t.notOk(passes('http.status >= 500', '{"http":{"code":503}}'), 'no key of that name')
  t.notOk(passes('region = eu', '{"region":"us","note":"\\"region\\":\\"eu\\""}'), 'a key\'s look-alike inside a string is not a key')
  t.ok(passes('region = eu', '{"region":"\\u0065u"}'), 'an escaped value is left to the evaluator')
  t.ok(passes('region = eu', '{"r\\u0065gion":"eu"}'), 'an escaped key makes the line pass')
  t.ok(passes('timeout', '{"message":"Upstream TIMEOUT"}'), 'contains ignores ASCII case in place')
  t.ok(passes('i', '{"message":"\u0130"}'), 'non-ASCII text is decoded and lower-cased as the evaluator does (İ → i + U+0307)')
  t.notOk(passes('timeout', '{"message":"fine"}'))
  t.ok(passes('user_id exists', '{"user_id":null}'))
  t.notOk(passes('user_id exists', '{"user":"x"}'))
  t.ok(passes('not region = eu', '{"region":"eu"}'), 'not: nothing known')
  t.notOk(passes('region = eu or region = us', '{"region":"ap"}'))
  t.ok(passes('ok = true', '{"ok":true}'))
  t.notOk(passes('ok = true', '{"ok":false}'))
  t.ok(passes('n = 12345678901234567890', '{"n":12345678901234567890}'), 'long numbers read as JSON.parse reads them')
  t.notOk(passes('d < 0', '{"d":-0}'))
  t.ok(passes('d <= -3', '{"d":-3.5}'))
  const many = JSON.stringify(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i])))
  t.ok(passes('k199 = 199', many), 'more keys than the first allocation')
  t.notOk(passes('k199 = 198', many))
})
