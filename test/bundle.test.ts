// Issue #23, "bundled applications": an app that uses pino (maapDestination) and winston (MaapTransport,
// default options) is bundled by esbuild into ONE file, copied where there is no node_modules, and run
// with node. Every record of both arrives at a real collector exactly once. The winston transport's
// worker file is not in the bundle: it falls back to shipping from the application thread, and says so.
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import t from 'tap'
import { journaled, runNode, startCollector } from './support'

const COUNT = 300

t.test('a bundled app ships every pino and winston record exactly once, from a directory without node_modules', async t => {
  const collector = await startCollector(t)
  const out = mkdtempSync(join(tmpdir(), 'maap-bundle-out-'))
  const result = await build({
    entryPoints: [resolve(__dirname, 'bundle', 'app.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: join(out, 'app.js'),
    logLevel: 'silent'
  })
  t.same(result.errors, [], 'esbuild bundled it')
  const dir = mkdtempSync(join(tmpdir(), 'maap-bundle-run-'))
  copyFileSync(join(out, 'app.js'), join(dir, 'app.js'))
  t.same(readdirSync(dir), ['app.js'], 'one file, nothing beside it')

  const run = `b${Date.now()}`
  const app = await runNode([join(dir, 'app.js')], { MAAP_URL: collector.url, RUN: run, COUNT: String(COUNT), NODE_PATH: undefined })
  t.equal(app.code, 0, 'the bundled app exits 0')
  t.same(JSON.parse(app.stdout), { pino: 0, winston: 0 }, 'both flushes report everything delivered')
  t.match(app.stderr, /maap-winston: the shipper's worker thread could not be started .*shipping from the application thread instead/)

  const mine = journaled(collector.logDir).filter(e => e.run === run)
  for (const appName of ['bundled-pino', 'bundled-winston']) {
    const seqs = mine.filter(e => e.app_name === appName).map(e => e.seq as number)
    t.equal(seqs.length, COUNT, `${appName}: every record arrived, none twice`)
    t.equal(new Set(seqs).size, COUNT, `${appName}: each seq once`)
  }
})
