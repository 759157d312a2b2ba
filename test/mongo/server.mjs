// Starts a real MongoDB wire-protocol server for the tests, in the order the README documents:
//   1. MONGODB_URI / TEST_MONGODB_URI — a server the user already runs (nothing is started);
//   2. `mongod` on PATH — started on a free loopback port with a temp data dir;
//   3. FerretDB embedded in test/ferretdb (Go), built once into a cache dir keyed by its sources;
//   4. otherwise an error that says how to provide one.
// Tests that must stop and restart MongoDB (the fault suite) call startMongoServer() themselves with
// their own data dir; the runner exports which kind it chose through TEST_MONGO_KIND / TEST_FERRETDB_BIN.
import { spawn, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, mkdtempSync, openSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const ferretSrc = join(here, '..', 'ferretdb')

function onPath (cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function waitForPort (port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`server exited with code ${child.exitCode}`))
      const sock = connect(port, '127.0.0.1')
      sock.once('connect', () => { sock.destroy(); resolve() })
      sock.once('error', () => {
        sock.destroy()
        if (Date.now() > deadline) reject(new Error(`server did not listen on ${port} within ${timeoutMs} ms`))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })
}

/** Builds the FerretDB test server once per source version and returns the binary's path. */
export function ferretBinary () {
  const hash = createHash('sha256')
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(ferretSrc, f)))
  const cacheRoot = process.env.MAAP_TEST_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'maap-event-logger')
  const bin = join(cacheRoot, `ferretdb-${hash.digest('hex').slice(0, 16)}`)
  if (existsSync(bin)) return bin
  mkdirSync(cacheRoot, { recursive: true })
  const tmp = `${bin}.${process.pid}.tmp`
  process.stderr.write('# building the FerretDB test server (first run only, about a minute)…\n')
  execFileSync('go', ['build', '-o', tmp, '.'], { cwd: ferretSrc, stdio: ['ignore', 'inherit', 'inherit'] })
  renameSync(tmp, bin) // atomic: a concurrent run never sees a half-written binary
  return bin
}

/** Picks the kind of server to use; throws with instructions when there is none. */
export function chooseKind () {
  if (process.env.TEST_MONGO_KIND) return process.env.TEST_MONGO_KIND
  if (process.env.TEST_MONGODB_URI || process.env.MONGODB_URI) return 'external'
  if (onPath('mongod')) return 'mongod'
  if (onPath('go')) return 'ferretdb'
  throw new Error('The tests need a MongoDB wire-protocol server. Set TEST_MONGODB_URI (or MONGODB_URI) to ' +
    'a server you run, put `mongod` on PATH, or install Go so the tests can build FerretDB themselves.')
}

/** A kind of server the tests can stop and start themselves (the fault tests): never 'external'. */
export function restartableKind () {
  const kind = chooseKind()
  if (kind !== 'external') return kind
  return onPath('mongod') ? 'mongod' : 'ferretdb'
}

/**
 * Starts a server of the given kind. `dir` holds its data (reuse it to restart on the same data);
 * `port` may be fixed so a restarted server keeps its address. Returns { uri, port, stop() }.
 */
export async function startMongoServer ({ kind = chooseKind(), dir, port } = {}) {
  if (kind === 'external') {
    return { uri: process.env.TEST_MONGODB_URI || process.env.MONGODB_URI, kind, stop: async () => {} }
  }
  dir ??= mkdtempSync(join(tmpdir(), 'maap-mongo-'))
  port ??= await freePort()
  mkdirSync(join(dir, 'data'), { recursive: true })
  const log = openSync(join(dir, 'server.log'), 'a')
  const child = kind === 'mongod'
    ? spawn('mongod', ['--dbpath', join(dir, 'data'), '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'],
      { stdio: ['ignore', log, log] })
    : spawn(process.env.TEST_FERRETDB_BIN || ferretBinary(), ['-listen', `127.0.0.1:${port}`, '-dir', join(dir, 'data')],
      { stdio: ['ignore', log, log] })
  await waitForPort(port, child, 60_000)
  const exited = new Promise(resolve => child.once('exit', resolve))
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    kind,
    port,
    dir,
    pid: child.pid,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}
