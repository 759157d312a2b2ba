import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { deadPort, startStub } from '../../../test/support'
import { runCli, startCli } from './fixtures/run-cli'

const mixed = [
  '{"level":30,"time":1700000000000,"pid":1,"hostname":"h","name":"pinoapp","msg":"from pino","reqId":"r1"}',
  '{"level":"warn","message":"from winston","timestamp":"2026-11-27T00:00:00.000Z","service":"svc"}',
  'plain text, not JSON',
  '',
  '{"broken": ',
  '{"level":50,"msg":"failed","err":{"type":"Error","message":"boom","stack":"Error: boom\\n    at x"}}'
].join('\n') + '\n'

t.test('mixed JSON / non-JSON input: every line shipped and mapped, exit 0', async t => {
  const stub = await startStub(t)
  const run = await runCli(['--url', stub.url, '--app-name', 'cli', '--api-key', 'k'], mixed)
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, '', 'nothing on stdout without --tee')
  t.match(run.stderr, /all delivered \(sent 5,/)
  t.match(stub.accepted, [
    { level: 'info', message: 'from pino', timestamp: 1700000000000, reqId: 'r1', app_name: 'cli', name: 'pinoapp' },
    { level: 'warn', message: 'from winston', timestamp: '2026-11-27T00:00:00.000Z', service: 'svc', app_name: 'cli' },
    { level: 'info', message: 'plain text, not JSON', app_name: 'cli' },
    { level: 'info', message: '{"broken": ' },
    { level: 'error', message: 'failed', err: { type: 'Error', message: 'boom' } }
  ])
  t.equal(stub.accepted.length, 5)
  t.equal(stub.requests[0]!.headers.authorization, 'Bearer k')
})

t.test('environment fallbacks and --quiet', async t => {
  const stub = await startStub(t)
  const run = await runCli(['-q'], 'hello\n', { MAAP_URL: stub.url, MAAP_APP_NAME: 'from-env' })
  t.equal(run.code, 0)
  t.equal(run.stderr, '')
  t.match(stub.accepted, [{ message: 'hello', app_name: 'from-env' }])
})

t.test('--tee copies input to stdout unchanged', async t => {
  const stub = await startStub(t)
  const run = await runCli(['--url', stub.url, '--tee', '--batch-size', '2'], mixed)
  t.equal(run.code, 0)
  t.equal(run.stdout, mixed)
  t.equal(stub.accepted.length, 5)
})

t.test('rejected records: exit 1 with a one-line reason', async t => {
  const stub = await startStub(t, req => ({ status: 200, body: { accepted: req.lines.length - 1, rejected: [{ index: 0, error: 'no' }] } }))
  const run = await runCli(['--url', stub.url], 'a\nb\n')
  t.equal(run.code, 1)
  t.match(run.stderr, /maap-ship: end of input: not everything was delivered \(sent 1, rejected 1/)
})

t.test('collector unreachable with --spool-dir: exit 3, says where the records are', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-cli-spool-'))
  const port = await deadPort()
  const run = await runCli(['--url', `http://127.0.0.1:${port}`, '--spool-dir', dir, '--close-timeout', '100', '--retry-base-ms', '10'], 'a\nb\n')
  t.equal(run.code, 3)
  t.match(run.stderr, new RegExp(`undelivered records kept in ${dir} \\(1 files;`))
  t.equal(readdirSync(dir).filter(f => f.endsWith('.ndjson')).length, 1)
})

t.test('collector unreachable without a spool: exit 1', async t => {
  const port = await deadPort()
  const run = await runCli(['--url', `http://127.0.0.1:${port}`, '--close-timeout', '50', '--retry-base-ms', '10'], 'a\n')
  t.equal(run.code, 1)
  t.match(run.stderr, /dropped 1 records: close deadline/)
})

t.test('usage errors exit 2; --help explains every flag; --version', async t => {
  for (const args of [['--nope'], ['--batch-size', 'ten'], ['--compress', 'maybe'], ['--url', 'ftp://x'], ['stray']]) {
    const run = await runCli(args, '')
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, /^maap-ship: /)
  }
  t.match((await runCli(['--nope'], '')).stderr, /^maap-ship: Unknown option '--nope' \(see --help\)/)
  for (const flag of ['--version', '-V']) {
    const version = await runCli([flag], '')
    t.equal(version.code, 0, flag)
    t.equal(version.stdout.trim(), (JSON.parse(readFileSync(resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version)
  }
  const help = await runCli(['--help'], '')
  t.equal(help.code, 0)
  for (const flag of ['--url', '--api-key', '--app-name', '--batch-size', '--batch-bytes', '--batch-interval', '--max-buffer-bytes',
    '--high-water-bytes', '--spool-dir', '--timeout', '--ca', '--compress', '--concurrency', '--retry-base-ms', '--retry-max-ms',
    '--close-timeout', '--tee', '--quiet', '--help', '--version', 'Exit status']) {
    t.match(help.stdout, flag)
  }
})

t.test('SIGTERM: what was read is delivered, then exit 0', async t => {
  const stub = await startStub(t)
  const { child, result } = startCli(['--url', stub.url, '--tee', '--batch-interval', '3600000'])
  child.stdin.write('one\ntwo\n')
  // --tee echoes a chunk when the CLI has read it: then it is in the shipper, not in a pipe.
  await new Promise<void>(resolve => {
    let seen = ''
    child.stdout.on('data', (c: Buffer) => { seen += c; if (seen === 'one\ntwo\n') resolve() })
  })
  child.kill('SIGTERM')
  const run = await result
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, /SIGTERM: all delivered \(sent 2,/)
  t.same(stub.accepted.map(e => e.message), ['one', 'two'])
})

t.test('stdin faster than the collector: memory bounded by backpressure, nothing dropped', async t => {
  const stub = await startStub(t)
  const line = JSON.stringify({ level: 30, msg: 'x'.repeat(200) }) + '\n'
  const run = await runCli(['--url', stub.url, '--high-water-bytes', '20000', '--max-buffer-bytes', '60000'], line.repeat(3000))
  t.equal(run.code, 0, run.stderr)
  t.equal(stub.accepted.length, 3000)
})
