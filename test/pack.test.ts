// The packages as users get them: `npm pack` every workspace, install the tarballs into a fresh app in a
// temp directory (test/pack/install.ts), start the packed collector with `npx maap-collector`, ship from
// the app through pino and winston (CommonJS and ESM) and maap-ship, and count what arrived — in the
// read API at once, and in MongoDB after SIGTERM (the shutdown flush). The ESM-only browser package is
// packed and imported in Node (its Chromium tests are test/browser.test.ts). The Dockerfile's CMD and
// HEALTHCHECK run against the same install, which is the image's.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { createInterface } from 'node:readline'
import { connectTestClient, logMessage, testMongoUri, uniqueDbName } from './support'
import { packAndInstall, repo, userEnv, type FreshApp } from './pack/install'

t.setTimeout(240_000)
const N = 25
const INGEST_KEY = 'ingest-key-for-the-pack-test'
const ADMIN_KEY = 'admin-key-for-the-pack-test'
let app: FreshApp

t.before(async () => { app = await packAndInstall(t) })

const installed = (name: string, path = ''): string => join(app.dir, 'node_modules', name, path)

t.test('each tarball ships what runs, and what a registry page needs', async t => {
  t.same(app.packed.map(p => p.name).sort(), ['@maap-event-logger/browser', '@maap-event-logger/collector', '@maap-event-logger/pino-transport',
    '@maap-event-logger/shipper', '@maap-event-logger/winston-transport'])
  for (const { name, files } of app.packed) {
    const paths = new Set(files.map(f => f.path))
    t.same([...paths].filter(p => /\.tsbuildinfo$|(^|\/)test\/|\.test\.|(^|\/)\.env/.test(p)), [], `${name}: no tests, build info or env files`)
    for (const must of ['package.json', 'README.md', 'LICENSE']) t.ok(paths.has(must), `${name} ships ${must}`)
    for (const map of [...paths].filter(p => p.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(installed(name, map), 'utf8')) as { sources: string[] }
      const missing = sources.map(s => posix.join(posix.dirname(map), s)).filter(s => !paths.has(s))
      if (missing.length > 0) t.fail(`${name}: ${map} points at sources it does not ship: ${missing.join(', ')}`)
    }
    const pkg = JSON.parse(readFileSync(installed(name, 'package.json'), 'utf8')) as Record<string, any>
    t.equal(pkg.license, 'MIT', `${name} license`)
    t.match(pkg.engines, { node: /^>=20/ }, `${name} engines`)
    t.match(pkg.repository, { type: 'git', url: /^git\+https:\/\//, directory: /./ }, `${name} repository`)
    t.match(readFileSync(installed(name, 'README.md'), 'utf8'), /^# @maap-event-logger\/[a-z-]+\n\n```sh\n.*\S.*\n```/, `${name}: the README starts with its one-line use`)
    const targets = [...Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap(v => typeof v === 'string' ? [v] : Object.values(v)),
      ...Object.values((pkg.bin ?? {}) as Record<string, string>)]
    for (const target of targets) t.ok(paths.has(posix.normalize(target)), `${name}: ${target} is in the tarball`)
  }
})

t.test('the browser package: ESM only, no dependencies, no Node built-ins in what it ships', async t => {
  const pkg = JSON.parse(readFileSync(installed('@maap-event-logger/browser', 'package.json'), 'utf8')) as Record<string, any>
  t.equal(pkg.type, 'module')
  t.same(pkg.dependencies ?? {}, {}, 'nothing to install with it')
  const files = app.packed.find(p => p.name === '@maap-event-logger/browser')!.files.map(f => f.path).filter(p => p.startsWith('dist/') && p.endsWith('.js'))
  t.ok(files.length > 0)
  for (const file of files) {
    const imports = [...readFileSync(installed('@maap-event-logger/browser', file), 'utf8').matchAll(/^(?:import|export)\b[^'"\n]*from '([^']+)'/gm)].map(m => m[1]!)
    t.same(imports.filter(i => !i.startsWith('./')), [], `${file} imports only its own files`)
  }
})

t.test('every public entry loads from CommonJS and from ESM named imports', async t => {
  const cjs = node(['entries.cjs'])
  t.equal(cjs.status, 0, cjs.stderr)
  t.match(JSON.parse(cjs.stdout), {
    '@maap-event-logger/collector': { build: 'function', loadConfig: 'function', ConfigError: 'function' },
    '@maap-event-logger/shipper': { Shipper: 'function', ShipperError: 'function', ERROR_CODES: 'object', startShipperThread: 'function' },
    '@maap-event-logger/shipper/app-thread': { startShipperThread: 'function', resolveOptions: 'function' },
    '@maap-event-logger/pino-transport': { default: 'function', maapTransport: 'function' },
    '@maap-event-logger/winston-transport': { MaapTransport: 'function' }
  })
  t.notMatch(JSON.parse(cjs.stdout)['@maap-event-logger/shipper'], { backoffDelay: String, stderrLine: String, DROP_LINE_MS: String },
    'test internals stay out of the public entry')
  const esm = node(['entries.mjs'])
  t.equal(esm.status, 0, esm.stderr)
  const { named, worker } = JSON.parse(esm.stdout) as { named: Record<string, string>, worker: string }
  t.same(Object.entries(named).filter(([, type]) => type === 'undefined'), [], 'every named import is bound')
  t.equal(worker, installed('@maap-event-logger/shipper', 'dist/thread/entry.js'))
})

t.test('the types work from ESM (.mts) and CommonJS (.cts) under module nodenext', async t => {
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc')
  // The app has no @types/node of its own; the repo's is the same one a user would add.
  const r = node([tsc, '-p', 'tsconfig.json', '--typeRoots', join(repo, 'node_modules', '@types'), '--types', 'node'])
  t.equal(r.status, 0, r.stdout + r.stderr)
})

t.test('the packed collector, started with npx, takes what pino, winston and maap-ship send from the app', async t => {
  const dbName = uniqueDbName('pack')
  const client = await connectTestClient(t)
  t.teardown(() => client.db(dbName).dropDatabase())
  const logDir = mkdtempSync(join(tmpdir(), 'maap-pack-logs-'))
  t.teardown(() => rmSync(logDir, { recursive: true, force: true }))
  const collector = await startPackedCollector(t, {
    HOST: '127.0.0.1', PORT: '0', LOG_DIR: logDir, MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName,
    API_KEYS: INGEST_KEY, ADMIN_API_KEY: ADMIN_KEY, FLUSH_INTERVAL: '3600'
  })
  const ship = { MAAP_URL: collector.url, MAAP_API_KEY: INGEST_KEY, N: String(N) }
  const input = Array.from({ length: N }, (_, i) => JSON.stringify({ level: 'info', message: `record ${i}`, i })).join('\n') + '\n'
  const cases: Array<[string, string, string[], string?]> = [
    ['pino-cjs', process.execPath, ['pino.cjs']],
    ['pino-esm', process.execPath, ['pino.mjs']],
    ['winston-cjs', process.execPath, ['winston.cjs']],
    ['winston-esm', process.execPath, ['winston.mjs']],
    ['maap-ship', 'npx', ['maap-ship', '--url', collector.url, '--api-key', INGEST_KEY, '--app-name', 'maap-ship', '--quiet'], input]
  ]
  // One at a time would only add up their start-up times; they share nothing but the collector.
  const runs = await Promise.all(cases.map(async ([appName, command, args, stdin]) => ({
    appName, ...await exited(spawn(command, args, { cwd: app.dir, env: userEnv({ ...ship, APP_NAME: appName }) }), stdin)
  })))
  for (const { appName, code, stderr } of runs) t.equal(code, 0, `${appName} exits 0 once delivered ${stderr}`)
  for (const [appName] of cases) {
    const res = await fetch(`${collector.url}/logs?app_name=${appName}&limit=1000`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    t.equal(res.status, 200)
    const { events } = await res.json() as { events: Array<{ message: string, app_name: string }> }
    t.same(events.map(e => e.message).sort(), Array.from({ length: N }, (_, i) => `record ${i}`).sort(), `${appName}: all ${N} records arrived, once each`)
  }
  const page = await fetch(`${collector.url}/`)
  t.equal(page.status, 200, 'the packed collector serves its web page (@fastify/static as the registry gives it)')
  t.match(page.headers.get('content-type'), /^text\/html/)
  const refused = await fetch(`${collector.url}/log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"level":"info","message":"x","app_name":"x"}' })
  t.equal(refused.status, 401, 'the packed collector enforces API_KEYS')

  // The image's HEALTHCHECK command, as Docker would run it inside the container (PORT from its environment).
  const health = JSON.parse(/^HEALTHCHECK [^]*?CMD (\[.*\])$/m.exec(readFileSync(join(repo, 'Dockerfile'), 'utf8'))![1]!) as string[]
  const probe = (port: string): number | null => spawnSync(health[0]!, health.slice(1), { env: userEnv({ PORT: port }), timeout: 30_000 }).status
  t.equal(probe(new URL(collector.url).port), 0, 'the HEALTHCHECK passes on the running collector')
  t.equal(probe('1'), 1, 'and fails where nothing answers')

  // FLUSH_INTERVAL is an hour: what MongoDB holds after SIGTERM is what the shutdown flush wrote.
  t.equal(await collector.stop(), 'stopped')
  t.equal(await client.db(dbName).collection('logs').countDocuments(), N * cases.length, 'SIGTERM flushed every event into MongoDB')
})

t.test("the Dockerfile's CMD, on the image's PATH, is the packed collector", async t => {
  const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8')
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[]
  t.match(dockerfile, /^ENV [^]*PATH=\/app\/node_modules\/\.bin:\$PATH$/m, 'the image puts the app\'s bins on PATH')
  t.match(dockerfile, /^WORKDIR \/app$/m)
  const pathEnv = { PATH: `${join(app.dir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` }
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), '--version'], { cwd: app.dir, env: userEnv(pathEnv), encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.trim(), JSON.parse(readFileSync(installed('@maap-event-logger/collector', 'package.json'), 'utf8')).version)
  const help = spawnSync(cmd[0]!, [...cmd.slice(1), '--help'], { cwd: app.dir, env: userEnv(pathEnv), encoding: 'utf8' })
  t.match(help.stdout, /^ {2}LOG_DIR {2}default logs$/m, 'the packed --help lists the configuration')
  t.ok(existsSync(installed('@maap-event-logger/collector', 'dist/ui/index.html')), 'the web page is in the package')
})

function node (args: string[]): ReturnType<typeof spawnSync<string>> {
  return spawnSync(process.execPath, args, { cwd: app.dir, env: userEnv(), encoding: 'utf8', timeout: 120_000 })
}

async function exited (child: ReturnType<typeof spawn>, stdin?: string): Promise<{ code: number | null, stderr: string }> {
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c })
  child.stdin!.end(stdin)
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  return { code, stderr }
}

interface PackedCollector { url: string, stop: () => Promise<string> }

/**
 * `npx maap-collector` in the app, in a process group of its own: npx runs the bin through a shell and
 * does not pass SIGTERM on, so the signal goes to the group (as a terminal's Ctrl-C or systemd would),
 * and the collector reached it when it printed "stopped" and closed its end of stdout.
 */
async function startPackedCollector (t: Tap.Test, env: Record<string, string>): Promise<PackedCollector> {
  const child = spawn('npx', ['maap-collector'], { cwd: app.dir, env: userEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let ended = false
  const closed = new Promise<void>(resolve => child.stdout!.once('close', () => { ended = true; resolve() }))
  // Whatever the test's outcome, nothing of this group outlives it.
  t.teardown(() => { if (!ended) process.kill(-child.pid!, 'SIGKILL') })
  child.stderr!.on('data', (c: Buffer) => lines.push(String(c)))
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => {
      lines.push(line)
      const m = /listening at http:\/\/[^"\s]*:(\d+)/i.exec(logMessage(line))
      if (m) resolve(Number(m[1]))
    })
    void closed.then(() => reject(new Error(`the packed collector ended before listening:\n${lines.join('\n')}`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      process.kill(-child.pid!, 'SIGTERM')
      await closed
      return lines.some(l => logMessage(l) === 'stopped') ? 'stopped' : lines.join('\n')
    }
  }
}
