// The exit guarantee: records logged right before the process ends reach the collector.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deadPort, pinoApp, runNode, startStub, type Stub } from '../../../test/support'


const runApp = (env: Record<string, string>): ReturnType<typeof runNode> => runNode([pinoApp], env)

function checkAll (t: Tap.Test, stub: Stub, n: number): void {
  t.equal(stub.accepted.length, n, `all ${n} records delivered`)
  const seen = new Set(stub.accepted.map(e => e.i))
  t.equal(seen.size, n, 'no duplicates, none missing')
  t.match(stub.accepted[0], { app_name: 'exit-app', requestId: 'req-1', level: 'info' })
}

const endings: Array<[string, string, number]> = [
  ['100,000 records then process.exit(): all delivered', 'exit', 100_000],
  ['logger.flush(cb) then process.exit(): all delivered', 'flush-exit', 20_000],
  ['a natural end of the process: all delivered', 'natural', 20_000]
]
for (const [name, mode, n] of endings) {
  t.test(name, async t => {
    const stub = await startStub(t)
    const run = await runApp({ MAAP_TEST_URL: stub.url, N: String(n), MODE: mode })
    t.equal(run.code, 0, run.stderr)
    checkAll(t, stub, n)
  })
}

t.test('as one of several targets (next to pino/file), process.exit(): both complete', async t => {
  const stub = await startStub(t)
  const file = join(mkdtempSync(join(tmpdir(), 'maap-targets-')), 'app.log')
  const run = await runApp({ MAAP_TEST_URL: stub.url, N: '20000', MODE: 'targets', FILE_DEST: file })
  t.equal(run.code, 0, run.stderr)
  checkAll(t, stub, 20_000)
  t.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 20_000, 'the file target got everything too')
})

t.test('collector down at exit: records spooled within the close bound, replayed by the next run', async t => {
  const spool = mkdtempSync(join(tmpdir(), 'maap-exit-spool-'))
  const port = await deadPort()
  const down = await runApp({ MAAP_TEST_URL: `http://127.0.0.1:${port}`, N: '5000', MODE: 'exit', SPOOL_DIR: spool, CLOSE_TIMEOUT: '300' })
  t.equal(down.code, 0, down.stderr)
  const files = readdirSync(spool).filter(f => f.endsWith('.ndjson'))
  const spooled = files.reduce((n, f) => n + readFileSync(join(spool, f), 'utf8').split('\n').filter(Boolean).length, 0)
  t.equal(spooled, 5000, 'every record is on disk')

  // The application starts again and the collector is back: the spool is replayed with the new records.
  const stub = await startStub(t, undefined, port)
  const up = await runApp({ MAAP_TEST_URL: stub.url, N: '10', MODE: 'exit', SPOOL_DIR: spool })
  t.equal(up.code, 0, up.stderr)
  t.equal(stub.accepted.length, 5010)
  t.same(readdirSync(spool).filter(f => f.endsWith('.ndjson')), [])
})

t.test('collector down at exit without a spool: drops are counted on stderr, the app still exits', async t => {
  const port = await deadPort()
  const run = await runApp({ MAAP_TEST_URL: `http://127.0.0.1:${port}`, N: '100', MODE: 'exit', CLOSE_TIMEOUT: '200' })
  t.equal(run.code, 0)
  t.match(run.stderr, /maap-shipper: dropped 100 records: close deadline/)
})
