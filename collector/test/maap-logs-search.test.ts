// maap-logs search, the real bin against a real collector: output, filters, the query, errors, keys, usage.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { binPath, runCli, startCollector, tempLogDir, post } from './maap-logs-run'

const execFileP = promisify(execFile)

// Every test has its own collector and LOG_DIR, and most of the time goes to starting the bin (a node
// process per run): four at once.
t.jobs = 4

const events = [
  { timestamp: '2026-11-27T10:00:01.000Z', level: 'info', app_name: 'api', message: 'started', port: 8080 },
  { timestamp: '2026-11-27T10:00:02.000Z', level: 'warning', app_name: 'api', message: 'disk low', disk: 'sda', http: { status: 500 } },
  { timestamp: '2026-11-27T10:00:03.000Z', level: 'error', app_name: 'web', message: 'request failed', user: 'a b', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at handler (web.js:10:5)' } },
  { timestamp: '2026-11-27T10:00:04.000Z', level: 'critical', app_name: 'worker', message: 'out of \u001b[2Jmemory' }
]

t.test('search prints the newest events oldest first, readable like pino-pretty', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, events)
  const run = await runCli(['search', '--url', url])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stderr, '')
  t.equal(run.stdout, [
    '2026-11-27 10:00:01.000 INFO     api started port=8080',
    '2026-11-27 10:00:02.000 WARNING  api disk low disk=sda http={"status":500}',
    '2026-11-27 10:00:03.000 ERROR    web request failed user="a b" err={"type":"Error","message":"boom"}',
    '    Error: boom',
    '        at handler (web.js:10:5)',
    // An escape sequence in a message is shown, not sent to the terminal.
    '2026-11-27 10:00:04.000 CRITICAL worker out of \\u001b[2Jmemory',
    ''
  ].join('\n'))

  const utc = await runCli(['search', '--url', url, '--utc', '--limit', '1'])
  t.equal(utc.stdout, '2026-11-27T10:00:04.000Z CRITICAL worker out of \\u001b[2Jmemory\n', '--utc, and --limit 1 is the newest')

  const colour = await runCli(['search', '--url', url, '--color', '-a', 'api', '-l', 'warning'])
  t.equal(colour.stdout, '\u001b[90m2026-11-27 10:00:02.000\u001b[39m \u001b[33mWARNING \u001b[39m \u001b[36mapi\u001b[39m disk low ' +
    '\u001b[90mdisk=\u001b[39msda \u001b[90mhttp=\u001b[39m{"status":500}\n', '--color forces colours on a pipe')
})

t.test('--json prints each event as stored, one per line, in the same order', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, events)
  const run = await runCli(['search', '--json'], { MAAP_URL: url })
  t.equal(run.code, 0, run.stderr)
  const lines = run.stdout.trimEnd().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  t.same(lines.map(e => e.message), events.map(e => e.message))
  t.match(lines[2], { level: 'ERROR', app_name: 'web', user: 'a b', err: { stack: /at handler/ }, _id: /^[0-9a-f]{24}$/, received_at: String })
  t.equal(lines[0]!.timestamp, '2026-11-27T10:00:01.000Z')
})

t.test('every filter flag reaches the API under its name', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, events)
  const messages = async (...args: string[]): Promise<string[]> => {
    const run = await runCli(['search', '--url', url, '--json', ...args])
    t.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
    return run.stdout.trimEnd().split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as { message: string }).message)
  }
  t.same(await messages('--app-name', 'web,worker'), ['request failed', 'out of \u001b[2Jmemory'], '--app-name, a list')
  t.same(await messages('--level', 'ERROR', '-q', 'FAIL'), ['request failed'], '--level is a minimum; -q case-insensitive')
  t.same(await messages('--field', 'http.status=500'), ['disk low'], '--field, nested, a number')
  t.same(await messages('-f', 'disk=sda', '-f', 'port=8080'), [], '--field is repeatable (AND)')
  t.same(await messages('--from', '2026-11-27T10:00:02.000Z', '--to', '2026-11-27T10:00:04.000Z'), ['disk low', 'request failed'], '--from inclusive, --to exclusive')
  t.same(await messages('--limit', '2'), ['request failed', 'out of \u001b[2Jmemory'], '--limit: the newest N, oldest first')
})

t.test('more than a page: --limit above 1000 and --all go through the NDJSON export', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  const many = Array.from({ length: 1500 }, (_, i) => ({ timestamp: new Date(Date.UTC(2026, 10, 27) + i * 1000).toISOString(), app_name: 'bulk', message: `n${i}`, pad: 'x'.repeat(100) }))
  for (let i = 0; i < many.length; i += 500) await post(url, many.slice(i, i + 500))
  const limited = await runCli(['search', '--url', url, '--json', '--limit', '1200'])
  t.equal(limited.code, 0, limited.stderr)
  const got = limited.stdout.trimEnd().split('\n').map(l => (JSON.parse(l) as { message: string }).message)
  t.same(got, many.slice(300).map(e => e.message), 'the newest 1200, oldest first')

  const all = await runCli(['search', '--url', url, '--all'])
  t.equal(all.code, 0, all.stderr)
  const lines = all.stdout.trimEnd().split('\n')
  t.equal(lines.length, 1500)
  t.match(lines[0], / bulk n1499 pad=x{100}$/, '--all streams newest first')
  t.match(lines[1499], / bulk n0 pad=x{100}$/)
  const page = await runCli(['search', '--url', url, '--json', '-n', '1000'])
  t.equal(page.stdout.trimEnd().split('\n').length, 1000, 'a page of 1000 still fits one JSON page')
  // `maap-logs search --all | head -c 100`: far more than a pipe holds, and the reader leaves early.
  // (Not spawnSync: the collector answering it runs in this process.)
  const piped = await execFileP('bash', ['-c', `"${process.execPath}" "${binPath}" search --url ${url} --all | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`],
    { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
  t.equal(piped.stdout, '0\n', 'a reader that goes away ends it quietly with 0')
  t.equal(piped.stderr, '')
})

t.test('bad parameters: exit 2 with the collector\'s message in flag terms; a bad flag never reaches it', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  const cases: Array<[string[], RegExp]> = [
    [['--level', 'LOUD'], /^maap-logs: --level: unknown level "LOUD"; use one of TRACE/],
    [['--from', 'yesterday'], /^maap-logs: --from: "yesterday" is not a time/],
    [['--from', '1h', '--to', '2h'], /^maap-logs: --from: is after to/],
    [['--field', '$where=1'], /^maap-logs: --field \$where: a field path is names/],
    [['--field', 'nokey'], /^maap-logs: --field: expected key=value/],
    [['--limit', 'ten'], /^maap-logs: --limit: expected a whole number/]
  ]
  for (const [args, message] of cases) {
    const run = await runCli(['search', '--url', url, ...args])
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`)
    t.match(run.stderr, message, args.join(' '))
    t.equal(run.stdout, '')
  }
})

t.test('keys: READ_API_KEYS set, without a key it fails clearly, with one it reads; the key is never printed', async t => {
  const key = 'read-key-0123456789'
  const { app, url } = await startCollector(tempLogDir(), { READ_API_KEYS: key, API_KEYS: 'ingest-key-0123456789' })
  t.teardown(() => app.close())
  await post(url, events.slice(0, 2), 'ingest-key-0123456789')
  const without = await runCli(['search', '--url', url])
  t.equal(without.code, 1)
  t.match(without.stderr, /^maap-logs: this route needs an API key that may read .*\(pass --api-key or set MAAP_API_KEY\) \[HTTP 401 MAAP_UNAUTHORIZED\]\n$/)
  const wrong = await runCli(['search', '--url', url, '--api-key', 'ingest-key-0123456789'])
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /\[HTTP 403 MAAP_FORBIDDEN\]/)
  t.notMatch(wrong.stderr, 'ingest-key', 'the key is not echoed')
  const flag = await runCli(['search', '--url', url, '--api-key', key])
  t.equal(flag.code, 0, flag.stderr)
  t.equal(flag.stdout.trimEnd().split('\n').length, 2)
  const env = await runCli(['search', '--url', url, '--json'], { MAAP_API_KEY: key })
  t.equal(env.code, 0, env.stderr)
  t.equal(env.stdout.trimEnd().split('\n').length, 2, 'MAAP_API_KEY')
  for (const r of [without, wrong, flag, env]) t.notMatch(r.stdout + r.stderr, key)
})

t.test('a collector that is not there: one clear line, exit 1', async t => {
  const { app, url } = await startCollector(tempLogDir())
  await app.close() // the port is free again: nothing listens there
  for (const command of ['search', 'tail']) {
    const run = await runCli([command, '--url', url])
    t.equal(run.code, 1, command)
    t.equal(run.stderr, `maap-logs: cannot reach the collector at ${url} (ECONNREFUSED); is it running? (--url or MAAP_URL)\n`)
  }
})

t.test('--help, --version, and usage errors', async t => {
  const main = await runCli(['--help'])
  t.equal(main.code, 0)
  t.match(main.stdout, /^Usage: maap-logs <command>/)
  t.match(main.stdout, /search .*\n(.*\n)?\s+tail /)
  t.match(main.stdout, /\n {2}maap-logs search 'http.status >= 500' --from 1h\n {2}maap-logs tail 'level >= WARNING'\n/, 'the examples')
  for (const [args, heading] of [[['search', '--help'], /^Usage: maap-logs search \['<query>'\] /], [['tail', '-h'], /^Usage: maap-logs tail \['<query>'\] /]] as const) {
    const run = await runCli([...args])
    t.equal(run.code, 0, args.join(' '))
    t.match(run.stdout, heading)
    t.match(run.stdout, /--field <key=value>/)
    t.match(run.stdout, /\nThe query: one argument in the query language .* Quote it: the\nshell splits at spaces/, 'the query, and why to quote it')
    t.match(run.stdout, /\n {2}level >= ERROR and app_name = api +[^\n]*and, or, not/, 'its grammar, by example')
    t.match(run.stdout, /-q, --query <text> +message contains this text, case-insensitively and literally:\n +no operators, unlike the query argument/,
      '--query is told apart from the query')
    t.match(run.stdout, /\nExamples:\n {2}maap-logs (search|tail) '/)
  }
  const version = await runCli(['--version'])
  t.equal(version.code, 0)
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)

  const usage: Array<[string[], RegExp]> = [
    [[], /a command is needed: search, tail or export/],
    [['--nope'], /unknown option --nope/],
    [['search', '--nope'], /unknown option --nope/],
    [['tail', '--limit', '5'], /unknown option --limit/]
  ]
  for (const [args, message] of usage) {
    const run = await runCli(args)
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`)
    t.match(run.stderr, message)
    t.match(run.stderr, /\(see maap-logs --help\)\n$/)
  }
})

// The query language, as a user types it: one argument after the command.
const shop = [
  { timestamp: '2026-11-27T10:00:01.000Z', level: 'info', app_name: 'api', message: 'GET /health', http: { status: 200 }, url: { path: '/health' }, region: 'eu' },
  { timestamp: '2026-11-27T10:00:02.000Z', level: 'error', app_name: 'payments', message: 'upstream timeout', http: { status: 504 }, url: { path: '/api/pay' }, region: 'us', user_id: 7 },
  { timestamp: '2026-11-27T10:00:03.000Z', level: 'warning', app_name: 'api', message: 'connection reset by peer', http: { status: 502 }, url: { path: '/api/users' }, region: 'eu' },
  { timestamp: '2026-11-27T10:00:04.000Z', level: 'error', app_name: 'api', message: 'health check failed', http: { status: 500 }, url: { path: '/health' }, region: 'ap' },
  { timestamp: '2026-11-27T10:00:05.000Z', level: 'info', app_name: 'web', message: 'reset the connection pool', host: 'web-3', user_id: null },
  { timestamp: '2026-11-27T10:00:06.000Z', level: 'critical', app_name: 'web', message: 'say "hi" to Ann', user: 'Ann Lee', host: 'web-12', http: { status: '503' } }
]

const messagesOf = (ndjson: string): string[] => ndjson.split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as { message: string }).message)

t.test('a positional query filters as the collector does, and is ANDed with the flags', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, shop)
  const search = async (...args: string[]): Promise<string[]> => {
    const run = await runCli(['search', '--url', url, '--json', ...args])
    t.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
    t.equal(run.stderr, '')
    return messagesOf(run.stdout)
  }
  /** What the collector itself answers for these parameters, oldest first as the CLI prints it. */
  const collector = async (params: Record<string, string>): Promise<string[]> => {
    const res = await fetch(`${url}/logs?${new URLSearchParams(params).toString()}`)
    t.equal(res.status, 200)
    return ((await res.json()) as { events: Array<{ message: string }> }).events.map(e => e.message).reverse()
  }
  const cases: Array<[string, string[]]> = [
    ['http.status >= 500', ['upstream timeout', 'connection reset by peer', 'health check failed']],
    ['http.status >= 500 and not url.path = "/health"', ['upstream timeout', 'connection reset by peer']],
    ['level >= ERROR and app_name = payments', ['upstream timeout']],
    ['timeout or "connection reset"', ['upstream timeout', 'connection reset by peer']],
    ['user_id exists', ['upstream timeout', 'reset the connection pool']],
    ['region in (eu, us)', ['GET /health', 'upstream timeout', 'connection reset by peer']],
    ['host = web-*', ['reset the connection pool', 'say "hi" to Ann']],
    ['http.status = 503', ['say "hi" to Ann']],
    ['level < INFO', []]
  ]
  for (const [query, expected] of cases) {
    const got = await search(query)
    t.same(got, expected, query)
    t.same(got, await collector({ query }), `${query}: as GET /logs?query= answers`)
  }

  const combined: Array<[string[], Record<string, string>, string[]]> = [
    [['http.status >= 500', '-a', 'api'], { app_name: 'api' }, ['connection reset by peer', 'health check failed']],
    [['-a', 'api', 'http.status >= 500'], { app_name: 'api' }, ['connection reset by peer', 'health check failed']],
    [['http.status >= 500', '--level', 'error'], { level: 'error' }, ['upstream timeout', 'health check failed']],
    [['level >= WARNING', '--query', 'HEALTH'], { q: 'HEALTH' }, ['health check failed']],
    [['region = eu', '--field', 'http.status=502'], { 'f.http.status': '502' }, ['connection reset by peer']],
    [['level >= INFO', '--from', '2026-11-27T10:00:03Z', '--to', '2026-11-27T10:00:05Z'], { from: '2026-11-27T10:00:03Z', to: '2026-11-27T10:00:05Z' },
      ['connection reset by peer', 'health check failed']],
    [['not app_name = api', '-n', '2'], { limit: '2' }, ['reset the connection pool', 'say "hi" to Ann']]
  ]
  for (const [args, params, expected] of combined) {
    const got = await search(...args)
    t.same(got, expected, args.join(' '))
    const query = args.find(a => a.includes(' '))!
    t.same(got, await collector({ query, ...params }), `${args.join(' ')}: as the collector ANDs them`)
  }

  const pretty = await runCli(['search', '--url', url, '--utc', 'http.status >= 500', '--from', '2026-11-27T10:00:03Z'])
  t.equal(pretty.code, 0, pretty.stderr)
  t.equal(pretty.stdout, '2026-11-27T10:00:03.000Z WARNING  api connection reset by peer http={"status":502} url={"path":"/api/users"} region=eu\n' +
    '2026-11-27T10:00:04.000Z ERROR    api health check failed http={"status":500} url={"path":"/health"} region=ap\n')
})

t.test('quoting: a phrase is one term, words are ANDed; escapes inside quotes; through a real shell', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, shop)
  const search = async (query: string): Promise<string[]> => {
    const run = await runCli(['search', '--url', url, '--json', query])
    t.equal(run.code, 0, `${query}: ${run.stderr}`)
    return messagesOf(run.stdout)
  }
  t.same(await search('"connection reset"'), ['connection reset by peer'], 'a phrase: those words, in that order')
  t.same(await search('connection reset'), ['connection reset by peer', 'reset the connection pool'], 'two words: both, anywhere')
  t.same(await search('message contains "say \\"hi\\""'), ['say "hi" to Ann'], '\\" inside quotes')
  t.same(await search("user = 'Ann Lee'"), ['say "hi" to Ann'], 'single quotes in the language')
  t.same(await search('user = "Ann Lee"'), ['say "hi" to Ann'])
  t.same(await search('user = Ann'), [], '= is the whole value')
  t.same(await search('"and"'), [], 'a keyword in quotes is a word to look for')

  // The command lines of the README and --help, as a shell reads them, in a directory of their own.
  const cwd = tempLogDir()
  const sh = async (command: string): Promise<{ code: number, stdout: string, stderr: string }> => {
    try {
      const { stdout, stderr } = await execFileP('bash', ['-c', `maap_logs () { "${process.execPath}" "${binPath}" "$@"; }; ${command}`],
        { cwd, encoding: 'utf8', env: { ...process.env, MAAP_URL: url, TZ: 'UTC' } })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code: number, stdout: string, stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }
  const quoted = await sh(`maap_logs search 'http.status >= 500 and not url.path = "/health"' --json`)
  t.equal(quoted.code, 0, quoted.stderr)
  t.same(messagesOf(quoted.stdout), ['upstream timeout', 'connection reset by peer'])
  const inner = await sh(`maap_logs search "user = 'Ann Lee' or message contains \\"by peer\\"" --json`)
  t.same(messagesOf(inner.stdout), ['connection reset by peer', 'say "hi" to Ann'], '"…" outside, \'…\' and \\" inside')
  // Unquoted, the shell sends "level" "ERROR" and redirects stdout to a file named "=": refused, not joined.
  const unquoted = await sh('maap_logs search level >= ERROR')
  t.equal(unquoted.code, 2)
  t.equal(unquoted.stderr, 'maap-logs: the query must be one argument, in quotes; got 2: "level" "ERROR"\n' +
    '  unquoted, the shell splits a query at its spaces and takes > < ( ) * " \' for its own:\n' +
    '  maap-logs search \'level >= ERROR and app_name = api\' (see maap-logs --help)\n')
  t.equal(readFileSync(join(cwd, '='), 'utf8'), '', 'stdout, which the shell sent to a file "=", got nothing')
})

t.test('a query that does not parse: the collector\'s message, a caret under the place, exit 2', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, shop)
  const bad = async (query: string): Promise<string> => {
    const run = await runCli(['search', '--url', url, query])
    t.equal(run.code, 2, `${JSON.stringify(query)}: exit 2`)
    t.equal(run.stdout, '')
    return run.stderr
  }
  t.equal(await bad('level >= ERROR and app_name ='), [
    'maap-logs: query: expected a value after "=" at 30',
    '  level >= ERROR and app_name =',
    '                               ^',
    ''
  ].join('\n'), 'at the end: after the last word')
  const inList = await bad('http.status >= 500 and region in (eu us)')
  t.equal(inList, [
    'maap-logs: query: expected "," or ")" in the list of in, found "us" at 38',
    '  http.status >= 500 and region in (eu us)',
    '  ' + ' '.repeat(37) + '^',
    ''
  ].join('\n'), 'in the middle: under the 38th character')
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')
  t.ok(readme.includes("```\n$ maap-logs search 'http.status >= 500 and region in (eu us)'\n" + inList + '```\n'), 'the README shows this very output')
  t.equal(await bad('level >= LOUD'), [
    'maap-logs: query: unknown level "LOUD"; use one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL at 10',
    '  level >= LOUD',
    '           ^',
    ''
  ].join('\n'), 'a value it cannot use')
  t.equal(await bad('user = "山田 太郎" and (x'), [
    'maap-logs: query: expected ")" to close the "(" at 20, found the end of the query at 22',
    '  user = "山田 太郎" and (x',
    // 21 characters, 25 columns: each of 山田太郎 takes two
    '  ' + ' '.repeat(25) + '^',
    ''
  ].join('\n'), 'wide characters')
  t.equal(await bad('level >= ERROR\nand http.status >'), [
    'maap-logs: query: expected a value after ">" at 33',
    '  line 2: and http.status >',
    '                           ^',
    ''
  ].join('\n'), 'a query of several lines: the line of the place')
})

t.test('a collector from before the query language: what to do, exit 1; a blank query is not sent', async t => {
  // Answers as such a collector does: the query parameter is unknown to it.
  const old = createServer((req, res) => {
    const known = !new URL(req.url!, 'http://x').searchParams.has('query')
    res.writeHead(known ? 200 : 400, { 'content-type': 'application/json' })
    res.end(JSON.stringify(known ? { events: [], next: null } : { statusCode: 400, code: 'MAAP_BAD_QUERY', error: 'Bad Request', message: 'unknown parameter "query"' }))
  })
  await new Promise<void>(resolve => old.listen(0, '127.0.0.1', resolve))
  t.teardown(() => old.close())
  const url = `http://127.0.0.1:${(old.address() as { port: number }).port}`
  const run = await runCli(['search', '--url', url, 'level >= ERROR'])
  t.equal(run.code, 1)
  t.equal(run.stderr, 'maap-logs: this collector does not know the query language (upgrade it); the flags --app-name, --level, --query, --field, --from, --to still work\n')
  const blank = await runCli(['search', '--url', url, ' '])
  t.equal(blank.code, 0, blank.stderr)
})

t.test('a page the collector cut short at its time budget says so on stderr, also to a script', async t => {
  const cut = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ events: [{ timestamp: '2026-12-06T10:00:00.000Z', level: 'ERROR', app_name: 'api', message: 'found in time' }], next: 'c1', partial: true, reason: 'time budget' }))
  })
  await new Promise<void>(resolve => cut.listen(0, '127.0.0.1', resolve))
  t.teardown(() => cut.close())
  const run = await runCli(['search', '--url', `http://127.0.0.1:${(cut.address() as { port: number }).port}`, '--limit', '10'])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /found in time/)
  t.equal(run.stderr, "maap-logs: the collector's time budget (QUERY_TIMEOUT) ended the search: the 1 newest found so far are shown; more may match\n")
})
