// The exit guarantee, in real child processes: records logged right before the process ends reach the
// collector through the synchronous exit flush (the shipper's exit-flush.ts), or are spooled, or are counted on stderr.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startCollector, deadPort, journaled, runNode, winstonApp, type RunningCollector } from '../../../test/support'

const fixture = (name: string): string => resolve(__dirname, 'fixtures', name)

const run = (script: string, env: Record<string, string>): ReturnType<typeof runNode> => runNode([script], env)


let shared: Promise<RunningCollector> | undefined
/**
 * The tests that need a collector with no settings of its own take turns on one (a process started per
 * test was a second or more of each): each reads the journal from where it stood when the test took it,
 * so what a test checks is what its application sent.
 */
async function sharedCollector (): Promise<{ url: string, journal: () => Array<Record<string, unknown>> }> {
  shared ??= startCollector(t)
  const collector = await shared
  const from = journaled(collector.logDir).length
  return { url: collector.url, journal: () => journaled(collector.logDir).slice(from) }
}

function checkAll (t: Tap.Test, events: Array<Record<string, unknown>>, n: number): void {
  t.equal(events.length, n, `all ${n} records delivered`)
  t.equal(new Set(events.map(e => e.i)).size, n, 'no duplicates, none missing')
  t.match(events[0], { app_name: 'exit-app', requestId: 'req-1', level: 'INFO', message: 'record 0' })
}

t.test('50,000 records then process.exit(): all delivered', async t => {
  const collector = await sharedCollector()
  const app = await run(winstonApp, { MAAP_TEST_URL: collector.url, N: '50000', MODE: 'exit', CLOSE_TIMEOUT: '120000' })
  t.equal(app.code, 0, app.stderr)
  checkAll(t, collector.journal(), 50_000)
})

t.test('a natural end of the process, no end() and no exit(): all delivered', async t => {
  const collector = await sharedCollector()
  const app = await run(winstonApp, { MAAP_TEST_URL: collector.url, N: '20000', MODE: 'natural' })
  t.equal(app.code, 0, app.stderr)
  checkAll(t, collector.journal(), 20_000)
})

t.test("logger.end(): 'finish' after delivery, then process.exit() has nothing left to do", async t => {
  const collector = await sharedCollector()
  const app = await run(winstonApp, { MAAP_TEST_URL: collector.url, N: '20000', MODE: 'end' })
  t.equal(app.code, 0, app.stderr)
  t.equal(app.stdout, 'finish\n')
  checkAll(t, collector.journal(), 20_000)
})

t.test('an uncaught exception with handleExceptions: the crash record is delivered with its stack', async t => {
  const collector = await sharedCollector()
  const app = await run(winstonApp, { MAAP_TEST_URL: collector.url, N: '100', MODE: 'throw' })
  t.equal(app.code, 1, 'winston exits with 1 after an uncaught exception')
  const events = collector.journal()
  t.equal(events.length, 101)
  t.match(events.find(e => e.exception === true), {
    level: 'ERROR',
    message: /uncaughtException: crash after logging/,
    stack: /^Error: crash after logging\n\s+at /,
    app_name: 'exit-app'
  })
})

t.test('collector down at exit: records spooled within the bound, replayed by the next run', async t => {
  const spool = mkdtempSync(join(tmpdir(), 'maap-winston-exit-spool-'))
  const port = await deadPort()
  const down = await run(winstonApp, { MAAP_TEST_URL: `http://127.0.0.1:${port}`, N: '5000', MODE: 'exit', SPOOL_DIR: spool, CLOSE_TIMEOUT: '300' })
  t.equal(down.code, 0, down.stderr)
  const files = readdirSync(spool).filter(f => f.endsWith('.ndjson'))
  const spooled = files.reduce((n, f) => n + readFileSync(join(spool, f), 'utf8').split('\n').filter(Boolean).length, 0)
  t.equal(spooled, 5000, 'every record is on disk')

  // The application starts again and the collector is back: the spool is replayed with the new records.
  const collector = await startCollector(t, { port })
  const up = await run(winstonApp, { MAAP_TEST_URL: collector.url, N: '10', MODE: 'exit', SPOOL_DIR: spool })
  t.equal(up.code, 0, up.stderr)
  t.equal(journaled(collector.logDir).length, 5010)
  t.same(readdirSync(spool).filter(f => f.endsWith('.ndjson')), [])
})

t.test('collector down at exit without a spool: drops are counted on stderr, the app still exits', async t => {
  const port = await deadPort()
  const app = await run(winstonApp, { MAAP_TEST_URL: `http://127.0.0.1:${port}`, N: '100', MODE: 'exit', CLOSE_TIMEOUT: '200' })
  t.equal(app.code, 0)
  t.match(app.stderr, /maap-winston: dropped 100 records: close deadline/, 'the worker\'s line says whose records they were')
})

t.test('collector down, nobody listening: the first failed send of a streak is on stderr', async t => {
  const port = await deadPort()
  const app = await run(winstonApp, { MAAP_TEST_URL: `http://127.0.0.1:${port}`, N: '10', MODE: 'end', CLOSE_TIMEOUT: '500' })
  t.equal(app.code, 0)
  t.match(app.stderr, /maap-winston: sending 10 records failed \(.*ECONNREFUSED.*\); retry 1 in \d+ ms/)
  t.match(app.stderr, /maap-winston: dropped 10 records: close deadline/)
  t.equal(app.stdout, 'finish\n', "'finish' comes after the close deadline, not never")
})

t.test('ESM named import and CommonJS require (winston.add) both ship', async t => {
  const collector = await sharedCollector()
  for (const [script, printed] of [['esm.mjs', 'finish\n'], ['cjs.cjs', 'logged\n']]) {
    const app = await run(fixture(script!), { MAAP_URL: collector.url })
    t.equal(app.code, 0, app.stderr)
    t.equal(app.stdout, printed, script)
  }
  t.match(collector.journal(), [
    { message: 'from esm', app_name: 'esm-app', kind: 'function' },
    { message: 'from cjs', app_name: 'cjs-app', kind: 'function' }
  ])
})
