// maap-logs tail, the real bin against a real collector: live events, filters, resume after the
// connection drops or the collector restarts (nothing lost, nothing twice), Ctrl-C.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { poll } from '../../test/support'
import { post, startCli, startCollector, tempLogDir, type Cli } from './maap-logs-run'

function messages (cli: Cli): string[] {
  return cli.out().split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as { message: string }).message)
}

async function tailing (app: FastifyInstance, n = 1): Promise<void> {
  await poll(() => app.collector.tails.size === n)
}

const ev = (app_name: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ app_name, message, ...extra })

t.test('tail prints each matching event posted after it started, and Ctrl-C exits 0', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  await post(url, [ev('api', 'before the tail')])
  const json = startCli(['tail', '--url', url, '--json', '--app-name', 'api', '--level', 'warning'])
  const pretty = startCli(['tail', '--url', url, '-q', 'hello'])
  await tailing(app, 2)
  await post(url, [ev('api', 'hello 1', { level: 'error', n: 1 }), ev('web', 'hello 2', { level: 'error' }), ev('api', 'quiet', { level: 'info' })])
  await post(url, [ev('api', 'hello 3', { level: 'warning', timestamp: '2026-11-27T10:00:00.000Z' })])
  await poll(() => messages(json).length === 2)
  await poll(() => pretty.out().split('\n').length === 4)
  t.same(messages(json), ['hello 1', 'hello 3'], 'filters apply; nothing from before the tail started')
  t.match(JSON.parse(json.out().split('\n')[0]!), { level: 'ERROR', app_name: 'api', n: 1, _id: /^[0-9a-f]{24}$/ })
  const lines = pretty.out().split('\n')
  t.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} ERROR    api hello 1 n=1$/, 'today: time of day only')
  t.match(lines[1], /^\d\d:\d\d:\d\d\.\d{3} ERROR    web hello 2$/)
  t.equal(lines[2], '2026-11-27 10:00:00.000 WARNING  api hello 3')
  json.child.kill('SIGINT')
  pretty.child.kill('SIGINT')
  const [a, b] = await Promise.all([json.result, pretty.result])
  t.same([a.code, a.signal, b.code, b.signal], [0, null, 0, null], 'Ctrl-C exits 0')
  t.equal(a.stderr + b.stderr, '')
  await poll(() => app.collector.tails.size === 0)
})

t.test('tail with a query prints only the events that match it, ANDed with the flags', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  const warnings = startCli(['tail', '--url', url, '--json', 'level >= WARNING'])
  const api = startCli(['tail', '--url', url, '--json', 'http.status >= 500 or "connection reset"', '--app-name', 'api'])
  await tailing(app, 2)
  await post(url, [
    ev('api', 'fine', { level: 'info', http: { status: 200 } }),
    ev('api', 'w1', { level: 'warning', http: { status: 404 } }),
    ev('web', 'e1', { level: 'error', http: { status: 503 } }),
    ev('api', 'Connection reset by peer', { level: 'info' }),
    ev('api', 'text 500', { level: 'debug', http: { status: '500' } })
  ])
  await post(url, [ev('api', 'e2', { level: 'error', http: { status: 500 } }), ev('web', 'connection reset', { level: 'info' })])
  // Matches both: once it is printed, everything before it in the journal has been judged.
  await post(url, [ev('api', 'last', { level: 'critical', http: { status: 599 } })])
  await poll(() => messages(warnings).includes('last') && messages(api).includes('last'))
  t.same(messages(warnings), ['w1', 'e1', 'e2', 'last'])
  t.same(messages(api), ['Connection reset by peer', 'e2', 'last'], 'the query and --app-name')
  warnings.child.kill('SIGINT')
  api.child.kill('SIGINT')
  const runs = await Promise.all([warnings.result, api.result])
  t.same(runs.map(r => [r.code, r.stderr]), [[0, ''], [0, '']])
})

t.test('tail with a query that does not parse: the caret, exit 2, no stream opened', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  const run = await startCli(['tail', '--url', url, 'level >= ERROR and']).result
  t.equal(run.code, 2)
  t.equal(run.stdout, '')
  t.equal(run.stderr, [
    'maap-logs: query: expected a word, a "phrase", a field or "(", found the end of the query at 19',
    '  level >= ERROR and',
    '                    ^',
    ''
  ].join('\n'))
  t.equal(app.collector.tails.size, 0)
})

t.test('a dropped connection is resumed with Last-Event-ID: nothing lost, nothing twice', async t => {
  const { app, url } = await startCollector(tempLogDir())
  t.teardown(() => app.close())
  const cli = startCli(['tail', '--url', url, '--json'])
  await tailing(app)
  await post(url, [ev('api', 'a1'), ev('api', 'a2')])
  await poll(() => messages(cli).length === 2)
  // Cut the stream (as a proxy or a network would), then write while nobody is connected.
  app.server.closeAllConnections()
  await poll(() => app.collector.tails.size === 0)
  await app.inject({ method: 'POST', url: '/logs', payload: [ev('api', 'b1'), ev('api', 'b2'), ev('api', 'b3')] })
  await tailing(app)
  await post(url, [ev('api', 'c1')])
  await poll(() => messages(cli).includes('c1'))
  t.same(messages(cli), ['a1', 'a2', 'b1', 'b2', 'b3', 'c1'])
  t.match(cli.err(), /maap-logs: connection lost \([^)]+\); reconnecting in \d+\.\d s\nmaap-logs: reconnected; resuming right after the last event received\n/)
  cli.child.kill('SIGINT')
  t.equal((await cli.result).code, 0)
})

t.test('a collector restarted on the same journal and port: the tail waits for it and resumes exactly', async t => {
  const logDir = tempLogDir()
  const first = await startCollector(logDir)
  const cli = startCli(['tail', '--url', first.url, '--json', '-a', 'api'])
  await tailing(first.app)
  await post(first.url, [ev('api', 'a1'), ev('web', 'w1'), ev('api', 'a2')])
  await poll(() => messages(cli).length === 2)
  // Stop the collector with the tail connected (the tail must notice and keep trying).
  first.app.server.closeAllConnections()
  await first.app.close()
  await poll(() => /reconnecting in/.test(cli.err()))
  // The restarted collector takes events before it listens: the tail cannot have seen them live.
  const second = await startCollector(logDir, {}, first.port, false)
  t.teardown(() => second.app.close())
  await second.app.inject({ method: 'POST', url: '/logs', payload: [ev('api', 'b1'), ev('web', 'w2'), ev('api', 'b2')] })
  await second.app.listen({ host: '127.0.0.1', port: first.port })
  await tailing(second.app)
  await post(first.url, [ev('api', 'c1')])
  await poll(() => messages(cli).includes('c1'))
  t.same(messages(cli), ['a1', 'a2', 'b1', 'b2', 'c1'])
  t.match(cli.err(), /reconnected; resuming/)
  cli.child.kill('SIGINT')
  t.equal((await cli.result).code, 0)
})

t.test('tail: a filter the collector refuses exits 2, a missing key exits 1, with a key it tails', async t => {
  const key = 'read-key-0123456789'
  const { app, url } = await startCollector(tempLogDir(), { READ_API_KEYS: key })
  t.teardown(() => app.close())
  const bad = await startCli(['tail', '--url', url, '--api-key', key, '--level', 'LOUD']).result
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^maap-logs: --level: unknown level "LOUD"/)
  const noKey = await startCli(['tail', '--url', url]).result
  t.equal(noKey.code, 1)
  t.match(noKey.stderr, /\[HTTP 401 MAAP_UNAUTHORIZED\]/)
  const cli = startCli(['tail', '--url', url, '--json'], { MAAP_API_KEY: key })
  await tailing(app)
  await post(url, [ev('api', 'with a key')])
  await poll(() => messages(cli).length === 1)
  cli.child.kill('SIGTERM')
  const run = await cli.result
  t.equal(run.code, 0, 'SIGTERM ends it cleanly too')
  t.notMatch(run.stdout + run.stderr, key)
})

t.test('past MAX_TAIL_CLIENTS the tail waits (503 + Retry-After) and gets in once a place is free', async t => {
  const { app, url } = await startCollector(tempLogDir(), { MAX_TAIL_CLIENTS: '1' })
  t.teardown(() => app.close())
  const firstTail = startCli(['tail', '--url', url, '--json'])
  await tailing(app)
  const second = startCli(['tail', '--url', url, '--json'])
  await poll(() => /MAX_TAIL_CLIENTS.*; reconnecting in/.test(second.err()))
  firstTail.child.kill('SIGINT')
  t.equal((await firstTail.result).code, 0)
  await poll(() => /reconnected/.test(second.err()))
  await post(url, [ev('api', 'for the second')])
  await poll(() => messages(second).length === 1)
  second.child.kill('SIGINT')
  t.equal((await second.result).code, 0)
})
