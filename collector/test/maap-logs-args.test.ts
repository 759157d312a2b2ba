// maap-logs' pure parts, in process: flags and the query → options, the API's parameter names → flags,
// the caret under a bad query, one event → one line.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseCommand, UsageError, type Command } from '../src/cli/args'
import { pointAt } from '../src/cli/caret'
import { helpFor } from '../src/cli/help'
import { parseQuery } from '../src/query/parse'
import { formatEvent, formatTime, harmless } from '../src/cli/format'
import { inFlagTerms, queryString } from '../src/cli/query'
import { styleOf } from '../src/cli/style'

const tty = { env: {}, isTTY: true }
const pipe = { env: {}, isTTY: false }

function options (c: Command): Extract<Command, { kind: 'search' }>['options'] {
  if (c.kind !== 'search') throw new Error(`not a search: ${c.kind}`)
  return c.options
}

t.test('flags become the API\'s parameters', async t => {
  const o = options(parseCommand(['search', '-a', 'api,web', '-l', 'warn', '-q', 'disk', '-f', 'http.status=500', '--field', 'a=b=c',
    '--from', '15m', '--to', '2026-11-27', '-n', '5'], pipe))
  t.equal(o.limit, 5)
  t.equal(queryString(o.filters, { limit: '5' }).toString(),
    'app_name=api%2Cweb&level=warn&q=disk&f.http.status=500&f.a=b%3Dc&from=15m&to=2026-11-27&limit=5')
  t.equal(queryString(options(parseCommand(['search'], pipe)).filters).toString(), '', 'no filter, no parameter')
})

t.test('the positional argument is the query, sent as `query` beside the flags', async t => {
  const params = (argv: string[]): string => queryString(options(parseCommand(argv, pipe)).filters).toString()
  t.equal(params(['search', 'http.status >= 500', '--from', '1h']), 'query=http.status+%3E%3D+500&from=1h')
  t.equal(params(['search', '--from', '1h', 'http.status >= 500']), 'query=http.status+%3E%3D+500&from=1h', 'before or after the flags')
  t.equal(params(['search', 'level >= ERROR', '-q', 'disk', '-l', 'warn', '-f', 'a=b']), 'query=level+%3E%3D+ERROR&level=warn&q=disk&f.a=b',
    '--query stays the message text (q), apart from the query')
  t.equal(params(['search', '--', '-5 or not x']), 'query=-5+or+not+x', 'after --, a query may start with -')
  t.equal(params(['search', ' \t']), '', 'a blank query is no query, and is not sent')
  t.match(parseCommand(['tail', 'level >= WARNING', '-a', 'api'], pipe), { kind: 'tail', options: { filters: { query: 'level >= WARNING', appName: 'api' } } })

  // `maap-logs search level >= ERROR`: the shell redirected to a file "=" and passed the rest.
  t.throws(() => parseCommand(['search', 'level', 'ERROR'], pipe), {
    constructor: UsageError,
    message: 'the query must be one argument, in quotes; got 2: "level" "ERROR"\n' +
      '  unquoted, the shell splits a query at its spaces and takes > < ( ) * " \' for its own:\n' +
      '  maap-logs search \'level >= ERROR and app_name = api\''
  })
  t.throws(() => parseCommand(['tail', 'a', 'b', 'c', 'd', 'e', 'f\u001b'], pipe), { message: /^the query must be one argument, in quotes; got 6: "a" "b" "c" "d" "e" …\n[^]*\n {2}maap-logs tail '/ })
  t.throws(() => parseCommand(['search', '-a', 'api', 'x', '-l', 'error', 'y'], pipe), { message: /; got 2: "x" "y"\n/ }, 'among flags')
})

t.test('every query in --help and in the README\'s maap-logs section parses', async t => {
  const readme = readFileSync(resolve(__dirname, '..', '..', 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Reading your logs from a terminal'), readme.indexOf('## The web page'))
  const texts = [helpFor(undefined), helpFor('search'), helpFor('tail'), helpFor('export'), section]
  // As a shell passes them: '…' as it is, "…" with \" and \\ unescaped; not the README's sample of a bad one ($ …).
  const queries = texts.flatMap(text => [...text.matchAll(/(?<!\$ )maap-logs (?:search|tail|export --dir \S+) (?:'([^']*)'|"((?:[^"\\]|\\.)*)")/g)]
    .map(m => m[1] ?? m[2]!.replace(/\\(.)/g, '$1')))
  // The left column of the grammar's table in --help.
  const table = helpFor('search').split('\n\n').find(p => p.startsWith('The query:'))!
  const rows = table.split('\n').filter(l => l.startsWith('  ')).map(l => l.trim().split(/ {3,}/)[0]!)
  t.ok(queries.length >= 10 && rows.length >= 8, `${queries.length} examples, ${rows.length} rows`)
  for (const q of [...queries, ...rows]) t.doesNotThrow(() => parseQuery(q), q)
  t.ok(queries.includes("user = 'Ann Lee' or message contains \"connection reset\""), 'double-quoted examples are read too')
})

t.test('a caret under the place a query went wrong, in terminal columns', async t => {
  t.same(pointAt('level >= ERROR and app_name =', 30, Infinity), [
    '  level >= ERROR and app_name =',
    '                               ^'
  ], 'at the end: right after the last word')
  t.equal(pointAt('level >= ERROR and app_name = ', 31, Infinity)[1], '                               ^', 'trailing spaces aside')
  t.same(pointAt('a )', 3, Infinity), ['  a )', '    ^'], 'at a character: under it')
  t.same(pointAt('x', 1, Infinity), ['  x', '  ^'], 'position 1 is the first column')
  // Wide characters take two columns; one outside the BMP is two UTF-16 units and, as an emoji, two columns;
  // a combining accent none.
  t.same(pointAt('user = "山田" and (', 17, Infinity), ['  user = "山田" and (', '                    ^'], '17 code units in, 18 columns')
  t.same(pointAt('m = "🔥" !', 10, Infinity), ['  m = "🔥" !', '           ^'], '10 code units in, 9 characters, 10 columns')
  t.same(pointAt('n = "e\u0301" !', 10, Infinity), ['  n = "e\u0301" !', '          ^'], '10 code units in, 8 columns')
  // A tab is one space either way; a control character is shown as its escape, and the caret moves with it.
  t.same(pointAt('a\tb\u001b =', 6, Infinity), ['  a b\\u001b =', '            ^'])
  t.same(pointAt('level >= ERROR\r\nand x in (a b)', 29, Infinity), ['  line 2: and x in (a b)', '                      ^'],
    'several lines: the position\'s line, numbered')
  t.same(pointAt('a\n\nb >=\n', 9, Infinity), ['  line 3: b >=', '              ^'], 'at the end of several lines: after the last word')

  // Wider than the terminal: a window around the position.
  const long = Array.from({ length: 40 }, (_, i) => `f${i} = ${i}`).join(' and ') + ' and ('
  const middle = pointAt(long, long.indexOf('f20') + 1, 40)
  t.same(middle, ['  … and f19 = 19 and f20 = 20 and f21 …', '                     ^'])
  t.equal(middle[1]!.indexOf('^'), middle[0]!.indexOf('f20'), 'under the place')
  const end = pointAt(long, long.length + 1, 40)
  t.same(end, ['  …= 37 and f38 = 38 and f39 = 39 and (', '                                       ^'], 'the end of a long line')
  const start = pointAt(long, 1, 40)
  t.same(start, ['  f0 = 0 and f1 = 1 and f2 = 2 and f3 …', '  ^'], 'the start of a long line')
  t.ok([...middle, ...end, ...start].every(l => l.length <= 40), 'each line fits in 40 columns')
})

t.test('defaults and the environment', async t => {
  const d = options(parseCommand(['search'], pipe))
  t.equal(d.url.href, 'http://127.0.0.1:8181/')
  t.equal(d.apiKey, undefined)
  t.equal(d.limit, 100)
  t.same([d.json, d.color, d.utc], [false, false, false])
  t.equal(options(parseCommand(['search', '--all'], pipe)).limit, undefined, '--all: no limit')
  const e = options(parseCommand(['search'], { env: { MAAP_URL: 'https://logs.example/maap', MAAP_API_KEY: 'k' }, isTTY: false }))
  t.equal(e.url.href, 'https://logs.example/maap/', 'a path prefix is kept')
  t.equal(e.apiKey, 'k')
  t.equal(options(parseCommand(['search', '--api-key', 'flag'], { env: { MAAP_API_KEY: 'env' }, isTTY: false })).apiKey, 'flag', 'the flag wins')
  t.equal(options(parseCommand(['search'], { env: { MAAP_API_KEY: '' }, isTTY: false })).apiKey, undefined, 'an empty key is none')
})

t.test('colour: flags, then NO_COLOR / FORCE_COLOR, then whether stdout is a terminal', async t => {
  const colour = (argv: string[], env: { env: NodeJS.ProcessEnv, isTTY: boolean }): boolean => options(parseCommand(['search', ...argv], env)).color
  t.equal(colour([], tty), true)
  t.equal(colour([], pipe), false)
  t.equal(colour([], { env: { NO_COLOR: '1' }, isTTY: true }), false)
  t.equal(colour([], { env: { NO_COLOR: '' }, isTTY: true }), true, 'an empty NO_COLOR does not count')
  t.equal(colour([], { env: { FORCE_COLOR: '1' }, isTTY: false }), true)
  t.equal(colour([], { env: { FORCE_COLOR: '0' }, isTTY: true }), false)
  t.equal(colour(['--color'], { env: { NO_COLOR: '1' }, isTTY: false }), true)
  t.equal(colour(['--no-color'], tty), false)
  t.equal(colour(['--no-color', '--color'], pipe), true, 'the last one wins')
  t.equal(colour(['--color', '--no-color'], pipe), false)
})

t.test('help, version, tail', async t => {
  t.match(parseCommand(['--help'], pipe), { kind: 'help', text: /^Usage: maap-logs <command>/ })
  t.match(parseCommand(['help'], pipe), { kind: 'help', text: /^Usage: maap-logs <command>/ })
  t.match(parseCommand(['help', 'search'], pipe), { kind: 'help', text: /^Usage: maap-logs search/ })
  t.match(parseCommand(['search', '-h'], pipe), { kind: 'help', text: /^Usage: maap-logs search/ })
  t.match(parseCommand(['tail', '--help'], pipe), { kind: 'help', text: /^Usage: maap-logs tail/ })
  t.same(parseCommand(['-V'], pipe), { kind: 'version' })
  t.match(parseCommand(['tail', '-a', 'api', '--json'], pipe), { kind: 'tail', options: { json: true, filters: { appName: 'api' } } })
})

t.test('export: --dir and the search\'s filters, nothing about a collector', async t => {
  t.same(parseCommand(['export', '--dir', '/var/log/maap', 'level >= ERROR', '-a', 'api', '-l', 'warn', '-q', 'timeout', '-f', 'a.b=1', '--from', '2h', '--to', '1h'], pipe), {
    kind: 'export',
    options: { dir: '/var/log/maap', filters: { query: 'level >= ERROR', appName: 'api', level: 'warn', text: 'timeout', fields: [['a.b', '1']], from: '2h', to: '1h' } }
  })
  t.match(parseCommand(['export', '-d', 'logs'], pipe), { kind: 'export', options: { dir: 'logs', filters: { query: undefined, fields: [] } } })
  t.match(parseCommand(['export', '-h'], pipe), { kind: 'help', text: /^Usage: maap-logs export --dir/ })
  t.match(parseCommand(['help', 'export'], pipe), { kind: 'help', text: /^Usage: maap-logs export --dir/ })
  t.match(helpFor(undefined), /\n {2}export {3}every matching event in a LOG_DIR/)
  for (const [argv, message] of [
    [['export'], /^export needs --dir <dir>/],
    [['export', '--dir', ''], /^export needs --dir <dir>/],
    [['export', '--dir', 'x', '--json'], /^unknown option --json$/],
    [['export', '--dir', 'x', '--api-key', 'k'], /^unknown option --api-key$/],
    [['export', '--dir', 'x', 'a', 'b'], /^the query must be one argument[^]*maap-logs export '/]
  ] as Array<[string[], RegExp]>) t.throws(() => parseCommand(argv, pipe), { constructor: UsageError, message }, argv.join(' '))
})

t.test('usage errors name the flag', async t => {
  const cases: Array<[string[], RegExp]> = [
    [[], /a command is needed/],
    [['grep'], /unknown command "grep"/],
    [['-x'], /unknown option -x/],
    [['search', '--nope'], /^unknown option --nope$/],
    [['search', 'one', 'two'], /^the query must be one argument, in quotes/],
    [['search', '--level'], /argument missing/],
    [['search', '--json=yes'], /does not take an argument/],
    [['tail', '--all'], /unknown option --all/],
    [['search', '--field', '=x'], /--field: expected key=value/],
    [['search', '--limit', '-1'], /--limit/],
    [['search', '--limit', '1e3'], /--limit: expected a whole number/],
    [['search', '--all', '-n', '3'], /--limit and --all/],
    [['search', '--url', 'file:///etc/passwd'], /--url: use an http/],
    [['search', '--url', 'http://u:p@h'], /no credentials/],
    [['search', '--url', '::'], /is not a URL/]
  ]
  for (const [argv, message] of cases) t.throws(() => parseCommand(argv, pipe), { constructor: UsageError, message }, argv.join(' '))
})

t.test('the collector\'s parameter names become flags in its messages', async t => {
  t.equal(inFlagTerms('level: unknown level "X"'), '--level: unknown level "X"')
  t.equal(inFlagTerms('app_name: too long'), '--app-name: too long')
  t.equal(inFlagTerms('q: longer than 1024 characters'), '--query: longer than 1024 characters')
  t.equal(inFlagTerms('f.http.status: give it once'), '--field http.status: give it once')
  t.equal(inFlagTerms('unknown parameter "x"'), 'unknown parameter "x"')
  t.equal(inFlagTerms('cursor: not a cursor'), 'cursor: not a cursor', 'one we never send stays as it is')
})

t.test('one event, one line', async t => {
  const plain = styleOf(false)
  const now = new Date(2026, 10, 27, 12)
  const ts = new Date(2026, 10, 27, 9, 5, 7, 42).toISOString()
  t.equal(formatTime(ts, false, now), '09:05:07.042', 'today: the time of day')
  t.equal(formatTime(ts, false, new Date(2026, 10, 28, 1)), '2026-11-27 09:05:07.042', 'another day: with the date')
  t.equal(formatTime(ts, true, now), ts, '--utc: ISO 8601')
  t.equal(formatTime(undefined, false, now), '-')
  t.equal(formatTime('not a time', false, now), 'not a time')

  t.equal(formatEvent({ timestamp: ts, level: 'INFO', app_name: 'api', message: 'm', _id: 'x', received_at: ts }, plain, false, now),
    '09:05:07.042 INFO     api m', '_id and received_at are left to --json')
  t.equal(formatEvent({ level: 'NOTICE', message: { nested: true }, empty: '', quote: 'say "hi"', eq: 'a=b', n: null, list: [1, 'two'], flag: false }, plain, false, now),
    '- NOTICE   - {"nested":true} empty="" quote="say \\"hi\\"" eq="a=b" n=null list=[1,"two"] flag=false')
  t.equal(formatEvent({ level: 'ERROR', app_name: 'a', message: 'boom', err: { message: 'x', stack: 'Error: x\n  at f' }, arr: [{ stack: 's' }] }, plain, false, now),
    '- ERROR    a boom err={"message":"x"} arr=[{"stack":"s"}]\n    Error: x\n      at f', 'a nested stack on its own lines; not inside arrays')
  t.equal(formatEvent({ level: 'INFO', app_name: 'a\u001b]0;owned\u0007', message: 'tab\tand\nnewline \u009b2J', 'k\u001b': 'v\u0000' }, plain, false, now),
    '- INFO     a\\u001b]0;owned\\u0007 tab\tand\nnewline \\u009b2J k\\u001b=v\\u0000', 'control characters are shown, not sent')
  t.equal(harmless('plain é ✓'), 'plain é ✓')

  const colour = styleOf(true)
  t.equal(formatEvent({ level: 'TRACE', app_name: 'a', message: 'm' }, colour, false, now), '\u001b[90m-\u001b[39m \u001b[90mTRACE   \u001b[39m \u001b[36ma\u001b[39m m')
  t.match(formatEvent({ level: 'NOTICE', message: 'm' }, colour, false, now), '\u001b[35mNOTICE', 'a level we do not know: magenta')
  for (const level of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']) t.match(formatEvent({ level, message: 'm' }, colour, false, now), /\u001b\[[\d;]+m[A-Z]+ *\u001b\[[\d;]+m/, level)
})
