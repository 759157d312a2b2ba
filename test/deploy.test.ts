// The deployment files, as far as this machine can check them (it has no Docker): compose.yaml parses and
// wires what the README's Deployment section says, agrees with the Dockerfile and with the collector's
// configuration; the systemd unit stops more slowly than the collector flushes. test/pack.test.ts runs
// the Dockerfile's CMD and HEALTHCHECK against the packed collector.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { WORKER_MALLOC_ENV } from '../collector/src/cluster/worker-env'
import { loadConfig, SETTINGS } from '../collector/src/config'

const repo = join(__dirname, '..')
const read = (file: string): string => readFileSync(join(repo, file), 'utf8')
const dockerfile = read('Dockerfile')
const readme = read('README.md')
const envOf = (name: string): string | undefined => new RegExp(`^ENV [^]*?\\b${name}=(\\S+)`, 'm').exec(dockerfile)?.[1]

interface Service { image?: string, build?: string, command?: string[], ports?: string[], environment?: Record<string, string>,
  volumes?: string[], depends_on?: Record<string, { condition: string }>, healthcheck?: { test: string[] }, stop_grace_period?: string }

t.test('the Dockerfile: multi-stage on a slim Node 20, production dependencies, non-root, LOG_DIR a volume', async t => {
  t.same([...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1]), ['node:20-slim', 'node:20-slim'])
  t.match(dockerfile, /npm install --omit=dev/)
  t.match(dockerfile, /^USER node$/m)
  t.equal(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1], String(SETTINGS.port.default), 'EXPOSE is the default PORT')
  t.equal(envOf('PORT'), String(SETTINGS.port.default))
  t.equal(JSON.parse(/^VOLUME (\[.*\])$/m.exec(dockerfile)![1]!)[0], envOf('LOG_DIR'), 'the volume is LOG_DIR')
  t.match(dockerfile, /^HEALTHCHECK [^]*\/health/m)
  t.match(dockerfile, /^CMD \["/m, 'exec form: signals reach node')
  for (const [name, value] of Object.entries(WORKER_MALLOC_ENV)) t.equal(envOf(name), value, `${name}: what the cluster primary gives its workers`)
  // The build stage runs `npm ci`, whose prepare script is `lerna run build`: it needs the workspace's
  // manifests, lerna.json and every workspace folder.
  const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.*) \S+$/gm)].flatMap(m => m[1]!.split(' '))
  const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces
  for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'lerna.json', ...new Set(workspaces.map(w => w.split('/')[0]!))]) {
    t.ok(copied.includes(needed), `the build stage copies ${needed}`)
  }
  const ignored = read('.dockerignore').split('\n')
  for (const entry of ['**/node_modules', '**/dist', '.env', '.git']) t.ok(ignored.includes(entry), `.dockerignore: ${entry}`)
})

t.test('compose.yaml: a one-node replica set it initiates itself, the collector on it with w=majority, a volume each', async t => {
  const compose = parse(read('compose.yaml')) as { services: Record<string, Service>, volumes: Record<string, unknown> }
  const { mongodb, collector } = compose.services
  t.ok(mongodb && collector, 'services mongodb and collector')
  const replSet = mongodb!.command![mongodb!.command!.indexOf('--replSet') + 1]
  t.equal(replSet, 'rs0')
  const check = mongodb!.healthcheck!.test.join(' ')
  t.match(check, `rs.initiate({ _id: '${replSet}', members: [{ _id: 0, host: 'mongodb:27017' }] })`, 'the health check initiates the set, with the service name as its member')
  t.equal(mongodb!.ports, undefined, 'MongoDB is not published on the host')
  t.same(collector!.depends_on, { mongodb: { condition: 'service_healthy' } }, 'the collector starts once the set has a primary')
  t.equal(collector!.build, '.')
  t.equal(collector!.image, 'maap-event-logger', 'the image name the README builds')

  const env = collector!.environment!
  const uri = new URL(env.MONGODB_URI!)
  t.equal(uri.host, 'mongodb:27017')
  t.equal(uri.searchParams.get('replicaSet'), replSet)
  t.equal(uri.searchParams.get('w'), 'majority')
  t.match(loadConfig(env), { mongodbUri: env.MONGODB_URI, logDir: env.LOG_DIR }, 'the collector accepts this environment')
  t.equal(env.LOG_DIR, envOf('LOG_DIR'), "the image's LOG_DIR")
  t.same(collector!.ports, [`${SETTINGS.port.default}:${SETTINGS.port.default}`])
  t.same(collector!.volumes, [`collector-logs:${env.LOG_DIR}`])
  t.same(mongodb!.volumes, ['mongodb-data:/data/db'])
  t.same(Object.keys(compose.volumes).sort(), ['collector-logs', 'mongodb-data'])
  t.ok(Number.parseInt(collector!.stop_grace_period!) > Number(SETTINGS.shutdownTimeoutSeconds.default), 'stop grace above SHUTDOWN_TIMEOUT')

  const section = readme.slice(readme.indexOf('## Deployment'), readme.indexOf('## Releasing'))
  for (const said of ['docker build -t maap-event-logger .', 'docker run -p 8181:8181 --env-file .env', 'docker compose up -d',
    '`mongodb`', '`collector`', '`mongodb-data`', '`collector-logs`', env.MONGODB_URI!, '--replSet rs0', 'mongo:8.0']) {
    t.ok(section.includes(said), `the README's Deployment section says ${said}`)
  }
  t.ok(section.includes(mongodb!.image!), 'and names the MongoDB image')
})

t.test('the systemd unit: LOG_DIR under /var/lib, SIGTERM, a stop timeout above SHUTDOWN_TIMEOUT, restarts', async t => {
  const unit = read('examples/deploy/maap-collector.service')
  const value = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]
  t.equal(value('Environment'), `LOG_DIR=/var/lib/${value('StateDirectory')}`)
  t.equal(value('KillSignal'), 'SIGTERM')
  t.ok(Number(value('TimeoutStopSec')) > Number(SETTINGS.shutdownTimeoutSeconds.default))
  t.equal(value('Restart'), 'on-failure')
  t.equal(value('RestartPreventExitStatus'), '2', 'a configuration error (exit 2) is not restarted')
  t.notOk(value('User') === 'root' || value('User') === undefined, 'not root')
})

t.test('.env.example holds only variables the collector reads', async t => {
  const names = read('.env.example').split('\n').filter(l => /^[A-Z]/.test(l)).map(l => l.split('=')[0])
  const known = Object.values(SETTINGS).map(s => s.variable)
  t.same(names.filter(n => !known.includes(n!)), [])
  t.same(loadConfig(Object.fromEntries(names.map(n => [n, '']))).mongodbUri, undefined, 'blank values are unset')
})
