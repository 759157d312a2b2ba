// The query language: what each form parses to, what it matches (the one evaluator), where a bad query
// says it went wrong, and the needles and bounds it implies for the read side's fast paths.
import t from 'tap'
import type { Expr } from '../src/query/ast'
import { evaluate } from '../src/query/evaluate'
import { impliedBy } from '../src/query/implied'
import { caselessRegex, mongoTranslation } from '../src/query/mongo'
import { MAX_QUERY_DEPTH, MAX_QUERY_TERMS, QuerySyntaxError, parseQuery } from '../src/query/parse'

const event = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  timestamp: '2026-12-01T10:00:00.000Z',
  level: 'ERROR',
  _id: '6750000000000000000000aa',
  received_at: '2026-12-01T10:00:01.000Z',
  app_name: 'payments',
  message: 'Upstream TIMEOUT after 30s',
  http: { status: 504, path: '/api/pay' },
  url: { path: '/health' },
  region: 'eu',
  host: 'web-3',
  duration_ms: 1500,
  tags: ['a', 'b'],
  user_id: null,
  code: '500',
  ok: true,
  ...over
})

const matches = (query: string, e: Record<string, unknown> = event()): boolean => evaluate(parseQuery(query), e)

t.test('the examples of the issue parse and mean what they say', async t => {
  t.equal(matches('level >= ERROR and app_name = payments'), true)
  t.equal(matches('level >= CRITICAL and app_name = payments'), false)
  t.equal(matches('level >= warn'), true, 'any name ingest accepts, by rank')
  t.equal(matches('level < ERROR'), false)
  t.equal(matches('http.status >= 500 and not url.path = "/health"'), false)
  t.equal(matches('http.status >= 500 and not url.path = "/healthz"'), true)
  t.equal(matches('timeout or "connection reset"'), true, 'a bare word searches message, case-insensitively')
  t.equal(matches('"connection reset" or nothing'), false)
  t.equal(matches('user_id exists'), true, 'null is a value: the field exists')
  t.equal(matches('not user_id exists'), false)
  t.equal(matches('session exists'), false)
  t.equal(matches('not session exists'), true)
  t.equal(matches('region in (eu, us)'), true)
  t.equal(matches('app_name in (api, web)'), false)
  t.equal(matches('duration_ms > 1000 and message contains "slow"'), false)
  t.equal(matches('duration_ms > 1000 and message contains "TimeOut"'), true)
  t.equal(matches('host = web-*'), true, 'a prefix')
  t.equal(matches('host = api-*'), false)
  t.equal(matches('host = *'), true, '`field = *` is exists, as in KQL')
  t.equal(matches('host:web-3'), true, '`:` is `=`')
  t.equal(matches('a or b and c'), matches('a or (b and c)'), 'and binds tighter than or')
  t.same(parseQuery('a or b and c'), parseQuery('a or (b and c)'))
  t.same(parseQuery('x y'), parseQuery('x and y'), 'adjacent terms are ANDed')
  t.equal(matches('NOT timeout'), false, 'keywords in any case')
  t.equal(matches('not not timeout'), true)
  t.equal(matches('region != us'), true, '!= is not =')
  t.equal(matches('session != x'), true, 'and holds where the field is missing, as not does')
})

t.test('numbers, strings, booleans, dates, arrays and nested fields', async t => {
  t.equal(matches('code = 500'), true, 'an unquoted number equals the same text in a string…')
  t.equal(matches('http.status = 504'), true, '…and the number')
  t.equal(matches('http.status = "504"'), false, 'quoted, it is a string only')
  t.equal(matches('code > 400'), false, 'ranges with a number compare numbers only: "500" is text')
  t.equal(matches('code > "400"'), true, 'and with text, strings only')
  t.equal(matches('http.status >= 504 and http.status <= 504 and http.status < 505 and http.status > 503'), true)
  t.equal(matches('ok = true'), true)
  t.equal(matches('ok = "true"'), false)
  t.equal(matches('timestamp >= 2026-12-01T09:00:00Z and timestamp < "2026-12-01T11:00:00.000Z"'), true, 'dates as dates')
  t.equal(matches('timestamp > 2026-12-01T10:00:00.000Z'), false)
  t.equal(matches('received_at >= 1h'), false, 'relative times, before now')
  t.equal(matches('tags = b'), true, 'an array matches when one item does')
  t.equal(matches('tags in (c, a)'), true)
  t.equal(matches('items.sku = x2', event({ items: [{ sku: 'x1' }, { sku: 'x2' }] })), true, 'a path through an array of objects')
  t.equal(matches('items.sku = x2', event({ items: [[{ sku: 'x2' }]] })), false, 'not into arrays nested in arrays (as MongoDB)')
  t.equal(matches('message contains "é"', event({ message: 'CAFÉ' })), true, 'contains folds case beyond ASCII')
  t.equal(matches('http.status contains 50'), false, 'contains reads strings only')
  t.equal(matches('_id = 6750000000000000000000aa'), true)
  t.equal(matches('level = warning', event({ level: 'WARNING' })), true)
})

t.test('bad queries: a 400 that says what was expected, and where', async t => {
  const where = (query: string): string => {
    try {
      parseQuery(query)
    } catch (err) {
      t.ok(err instanceof QuerySyntaxError)
      return (err as Error).message
    }
    return 'parsed'
  }
  t.equal(where('http.status >= 500 and level >='), 'query: expected a value after ">=" at 32')
  t.equal(where('level >= ERROR and http.status >='), 'query: expected a value after ">=" at 34')
  t.equal(where('(a or b'), 'query: expected ")" to close the "(" at 1, found the end of the query at 8')
  t.equal(where('a or b)'), 'query: a ")" without its "(" at 7')
  t.equal(where('"open'), 'query: a quote (") opened here is never closed at 1')
  t.equal(where('level >= LOUD'), 'query: unknown level "LOUD"; use one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL at 10')
  t.equal(where('$where = 1'), 'query: "$where" is not a field name (names separated by dots, none empty or starting with "$") at 1')
  t.equal(where('a..b = 1'), 'query: "a..b" is not a field name (names separated by dots, none empty or starting with "$") at 1')
  t.equal(where('x in a'), 'query: expected "(" after in at 6')
  t.equal(where('x in (a b)'), 'query: expected "," or ")" in the list of in, found "b" at 9')
  t.equal(where('and'), 'query: expected a word, a "phrase", a field or "(", found "and" at 1')
  t.equal(where(''), 'query: expected a word, a "phrase", a field or "(" at 1')
  t.equal(where('a or'), 'query: expected a word, a "phrase", a field or "(", found the end of the query at 5')
  t.equal(where('x = a*b'), 'query: a * stands only at the end of a value after =, for a prefix at 5')
  t.equal(where('timestamp > yesterday'), 'query: "yesterday" is not a time (ISO 8601, epoch milliseconds, or 15m / 2h / 7d before now) at 13')
  t.equal(where('timestamp contains 2026'), 'query: timestamp is not text: compare it with = < <= > >= at 20')
  t.equal(where('_id > 6750000000000000000000aa'), 'query: _id is compared with = to the 24 hex digits of an id at 7')
  t.equal(where('a ! b'), 'query: expected "!=" (or use not) at 3')
  t.equal(where('status >= and app_name = api'), 'query: expected a value after ">=", found "and" (quote it to mean the word) at 11')
  t.equal(matches('message = "and"', event({ message: 'and' })), true, 'quoted, a keyword is a value')
  t.equal(where('""'), 'query: an empty phrase matches everything; leave it out at 1')
  t.equal(where('message contains "a\u0000b"'), 'query: a query cannot hold the NUL character at 20')
  t.match(where('('.repeat(MAX_QUERY_DEPTH + 1) + 'a' + ')'.repeat(MAX_QUERY_DEPTH + 1)), /nested deeper than 20 levels/)
  t.match(where(Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`).join(' ')), /more than 100 terms/)
  t.match(where('x'.repeat(5000)), /longer than 4096 characters/)
})

t.test('the MongoDB filter: only literal values, escaped regular expressions, exact where it can be', async t => {
  const tr = (q: string): ReturnType<typeof mongoTranslation> => mongoTranslation(parseQuery(q))
  t.same(tr('http.status >= 500'), { filter: { 'http.status': { $gte: 500 } }, exact: true })
  t.same(tr('code = 500'), { filter: { code: { $in: ['500', 500] } }, exact: true })
  t.same(tr('not region = eu'), { filter: { $nor: [{ region: 'eu' }] }, exact: true })
  t.same(tr('host = we.b*'), { filter: { host: { $regex: '^we\\.b' } }, exact: true })
  t.same(tr('$x'), { filter: { message: { $regex: '\\$[xX]' } }, exact: true }, 'a word is text, never an operator')
  t.same(tr('a.0 = 1'), { filter: {}, exact: false }, 'a numeric path part (an array index to MongoDB) is left to the evaluator')
  t.same(tr('message contains é'), { filter: {}, exact: false })
  t.same(tr('not message contains é'), { filter: {}, exact: false }, 'not of an inexact part cannot be translated')
  t.same(tr('x = 1 or message contains é'), { filter: { $or: [{ x: { $in: ['1', 1] } }, {}] }, exact: false })
  t.match(tr('timestamp >= 2026-01-01T00:00:00Z').filter, { timestamp: { $gte: new Date('2026-01-01T00:00:00.000Z') } })
  const re = new RegExp(caselessRegex('kit'))
  t.equal(re.test('\u212aIT'), true, 'Kelvin sign lower-cases to k')
  t.equal(new RegExp(caselessRegex('xi')).test('X\u0130'), true, 'İ lower-cases to i + a combining dot: it can end a match')
  t.equal('X\u0130'.toLowerCase().includes('xi'), true)
  t.equal(new RegExp(caselessRegex('ix')).test('\u0130x'), false, '…but not stand inside one')
  t.equal('\u0130x'.toLowerCase().includes('ix'), false, 'as JavaScript says')
})

t.test('what a query implies for the fast paths: only what every match must hold', async t => {
  const imp = (q: string): ReturnType<typeof impliedBy> => impliedBy(parseQuery(q))
  t.match(imp('level >= ERROR and app_name = payments and "Time Out" and x = 5'), {
    apps: ['payments'], levels: ['ERROR', 'CRITICAL'], text: 'time out', fields: [{ path: ['x'], text: '5', number: 5 }]
  })
  t.same(imp('a or b'), { apps: undefined, levels: undefined, text: undefined, fields: [], from: undefined, to: undefined }, 'an OR implies nothing')
  t.match(imp('not app_name = x'), { apps: undefined })
  t.match(imp('app_name in (a, b) and app_name = b'), { apps: ['b'] })
  t.match(imp('timestamp >= 2026-01-01T00:00:00Z and timestamp <= 2026-01-02T00:00:00Z'), { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.001Z' })
  t.match(imp('level = error and level >= warning'), { levels: ['ERROR'] })
})

t.test('evaluating a tree never consults anything but the event', async t => {
  const tree: Expr = { kind: 'or', items: [{ kind: 'exists', path: ['nope'] }, { kind: 'contains', path: ['message'], text: 'after' }] }
  t.equal(evaluate(tree, event()), true)
  t.equal(evaluate(tree, { message: 42 }), false)
})
