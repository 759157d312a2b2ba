// `maap-collector doctor`, run as users run it (the committed launcher in a child process, from a temp
// working directory so no .env is read): against the server the test run provisioned, where it reports
// what that server lacks as fallbacks and exits 0; against a port nobody listens on and with credentials
// the server refuses, where it fails, exits 1 and never prints the password; in embedded mode; with a
// LOG_DIR that cannot be written and a variable that does not parse; and with bad usage (exit 2).
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MongoClient } from 'mongodb'
import { connectTestClient, testMongoUri, uniqueDbName, type NodeRun } from '../../test/support'
import { loadConfig, SETTINGS } from '../src/config'
import type { CheckResult } from '../src/doctor/check'
import { doctorContext } from '../src/doctor/mongo'
import { checkLease } from '../src/doctor/writes'
import { MongoSink } from '../src/sink/mongo-sink'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../test/mongo/server.mjs')

const bin = join(__dirname, '..', 'bin', 'maap-collector.js')
const cwd = mkdtempSync(join(tmpdir(), 'maap-doctor-'))
t.teardown(() => rmSync(cwd, { recursive: true, force: true }))

const MONGO_CHECKS = ['connection', 'replica_set', 'write_concern', 'insert', 'replay', 'create_index', 'ttl', 'histogram', 'delete', 'lease', 'read_indexes']

/** Runs the bin with `args` from the temp working directory; its environment is ours without any collector
 * variable, then `env`. */
async function doctor (env: Record<string, string>, ...args: string[]): Promise<NodeRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env }
  for (const { variable } of Object.values(SETTINGS)) {
    delete childEnv[variable]
    delete childEnv[`${variable}_FILE`]
  }
  const child = spawn(process.execPath, [bin, 'doctor', ...args], { cwd, env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const [code] = await once(child, 'close')
  return { code: code as number | null, stdout, stderr }
}

interface Report { ok: boolean, checks: CheckResult[] }

function report (t: { equal: (found: unknown, wanted: unknown, message: string) => unknown }, run: NodeRun): Report {
  t.equal(run.stderr, '', 'nothing on stderr')
  return JSON.parse(run.stdout) as Report
}

function byName (r: Report): Record<string, CheckResult> {
  return Object.fromEntries(r.checks.map(c => [c.name, c]))
}

/** What the provisioned server does: FerretDB lacks TTL indexes and date arithmetic in $group; mongod has both. */
async function serverFacts (client: MongoClient): Promise<{ ferretdb: boolean, replicaSet: boolean }> {
  const info = await client.db('admin').command({ buildInfo: 1 })
  const hello = await client.db('admin').command({ hello: 1 })
  return { ferretdb: info.ferretdbVersion !== undefined, replicaSet: typeof hello.setName === 'string' }
}

async function collectionNames (client: MongoClient, db: string): Promise<string[]> {
  return (await client.db(db).listCollections({}, { nameOnly: true }).toArray()).map(c => c.name).sort()
}

t.test('--json against the provisioned server: every check, fallbacks where the server lacks a feature, exit 0, scratch dropped', async t => {
  const client = await connectTestClient(t)
  const db = uniqueDbName('doctor')
  t.teardown(() => client.db(db).dropDatabase())
  const facts = await serverFacts(client)
  const logDir = mkdtempSync(join(cwd, 'logs-'))
  const run = await doctor({ MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: db, LOG_DIR: logDir }, '--json')
  t.equal(run.code, 0, 'exit 0')
  const r = report(t, run)
  t.equal(r.ok, true)
  t.same(r.checks.map(c => c.name), [...MONGO_CHECKS, 'log_dir'], 'every check, in order')
  const c = byName(r)
  t.match(c.connection, { status: 'ok', detail: new RegExp(`^connected to 127\\.0\\.0\\.1:\\d+: ${facts.ferretdb ? 'FerretDB' : 'MongoDB'}`) })
  t.equal(c.replica_set!.status, facts.replicaSet ? 'ok' : 'fallback')
  if (!facts.replicaSet) t.match(c.replica_set, { detail: /standalone/, action: /journal keeps each event for 30 days/ })
  t.match(c.write_concern, { status: 'ok', detail: /w=majority was acknowledged.*the server's default write concern/ })
  t.match(c.insert, { status: 'ok', detail: new RegExp(`insertMany \\(unordered\\) of 3 events into the scratch collection ${db}\\.logs_doctor_[0-9a-f]{8}$`) })
  t.match(c.replay, { status: 'ok', detail: /3 duplicate keys \(11000\) on _id, none dead-lettered/ })
  t.match(c.create_index, { status: 'ok', detail: /maap_read_time, maap_read_app_time, maap_read_level_time/ })
  if (facts.ferretdb) {
    t.match(c.ttl, { status: 'fallback', detail: /^no TTL index: the server refused a TTL index \(code 238 NotImplemented/, action: /^every 300 s \(RETENTION_SWEEP_INTERVAL\) the retention sweeper deletes documents older than 60 days, using the plain index maap_timestamp$/ })
    t.notMatch(c.ttl!.detail, /sweeper/, 'the fallback is said once, in the action')
    t.match(c.histogram, { status: 'fallback', detail: /no date arithmetic in \$group.*238 NotImplemented/, action: /streams the matching documents' timestamp and level/ })
  } else {
    t.match(c.ttl, { status: 'ok', detail: /TTL index on timestamp was accepted/ })
    t.match(c.histogram, { status: 'ok', detail: /with the expected counts/ })
  }
  t.match(c.delete, { status: 'ok', detail: 'deleted 3 expired probe events' })
  t.match(c.lease, { status: 'ok', detail: /took and gave back a retention lease/ })
  t.match(c.read_indexes, { status: 'ok', detail: `${db}.logs does not exist yet` })
  t.match(c.log_dir, { status: 'ok', detail: new RegExp(`^${logDir} is writable; [0-9.]+ [KMGT]iB free$`) })
  t.same(await collectionNames(client, db), [], 'the scratch collection is dropped and the real one was never created')
  t.same(readdirSync(logDir), [], 'nothing left in LOG_DIR')
})

t.test('human output: one line per check with its marker, the real collection\'s indexes, a summary', async t => {
  const client = await connectTestClient(t)
  const db = uniqueDbName('doctor')
  t.teardown(() => client.db(db).dropDatabase())
  const real = client.db(db).collection('events')
  await real.insertOne({ app_name: 'user data', timestamp: new Date() })
  await real.createIndex({ level: 1, timestamp: -1, _id: -1 }, { name: 'maap_read_level_time' })
  await real.createIndex({ timestamp: -1, _id: -1 }, { name: 'newest_first' })
  const logDir = join(cwd, 'not-yet')
  const run = await doctor({ MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: db, MONGODB_COLLECTION: 'events', LOG_DIR: logDir, LOG_RETENTION_DAYS: '7' })
  t.equal(run.code, 0, 'exit 0')
  t.equal(run.stderr, '')
  const lines = run.stdout.trimEnd().split('\n')
  t.match(lines[0], /^maap-collector doctor: MongoDB 127\.0\.0\.1:\d+, collection doctor_\w+\.events; LOG_DIR .*not-yet$/)
  t.same(lines.slice(1, -1).map(l => l.split(/ +/)[1]), [...MONGO_CHECKS, 'log_dir'], 'a line per check, in order')
  for (const line of lines.slice(1, -1)) t.match(line, /^(ok {6}|fallback|FAIL {4}) {2}\w+ +\S/, 'marker, name, detail')
  t.match(run.stdout, /\nfallback {2}read_indexes +on doctor_\w+\.events: newest_first has maap_read_time's key \{timestamp:-1,_id:-1\} → the collector's createIndexes is refused and retried every minute/)
  t.match(run.stdout, /\n(ok|fallback) +ttl +.*7 days/, 'LOG_RETENTION_DAYS as configured')
  t.match(run.stdout, /\nok {8}log_dir +.*not-yet does not exist yet and can be created \(the collector creates it at start\); .* free\n/)
  t.match(lines.at(-1), /^ready: the collector can run \(\d+ ok, \d+ fallbacks?\)$/)
  t.notOk(existsSync(logDir), 'the LOG_DIR doctor created for its check is removed again')
  t.same(await collectionNames(client, db), ['events'], 'only the user\'s collection is left')
  t.equal(await real.countDocuments(), 1, 'the user\'s documents are untouched')
  t.same((await real.listIndexes().toArray()).map(i => i.name).sort(), ['_id_', 'maap_read_level_time', 'newest_first'], 'and its indexes too')
})

t.test('in process: a lease another collector holds is not granted, and that is a FAIL', async t => {
  const client = await connectTestClient(t)
  const db = uniqueDbName('doctor')
  t.teardown(() => client.db(db).dropDatabase())
  const config = loadConfig({ MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: db, LOG_DIR: cwd })
  const sink = new MongoSink(testMongoUri(), db, 'logs_doctor_held')
  t.teardown(() => sink.close())
  const ctx = doctorContext(config, sink, 'test')
  const lease = `doctor:${db}.logs_doctor_held`
  await sink.collection.insertOne({ _id: `${lease}#1` as never, lease, term: 1, owner: 'another-host:1', expiresAt: new Date(Date.now() + 3_600_000) })
  t.match(await checkLease(ctx), { name: 'lease', status: 'fail', detail: 'a lease nobody held was not granted (holder: another-host:1)', action: /would never run/ })
})

t.test('an unreachable server: a FAIL line naming the host, exit 1, no credentials printed', async t => {
  const port = await freePort() as number
  const uri = `mongodb://doctor-user:s3cret-Passw0rd@127.0.0.1:${port}/?authSource=admin`
  const logDir = mkdtempSync(join(cwd, 'logs-'))
  const [json, human] = await Promise.all([
    doctor({ MONGODB_URI: uri, LOG_DIR: logDir }, '--json'),
    doctor({ MONGODB_URI: uri, LOG_DIR: logDir })
  ])
  t.equal(json.code, 1)
  const r = report(t, json)
  t.equal(r.ok, false)
  t.same(r.checks.map(c => [c.name, c.status]), [['connection', 'fail'], ['log_dir', 'ok']], 'no MongoDB check after the connection failed')
  t.match(r.checks[0], { detail: new RegExp(`^MongoDB at 127\\.0\\.0\\.1:${port} did not answer within 5 s \\(.*ECONNREFUSED`), action: /keeps every event in its journal/ })
  t.equal(human.code, 1)
  t.match(human.stdout, new RegExp(`^maap-collector doctor: MongoDB 127\\.0\\.0\\.1:${port}, collection event_logs\\.logs; LOG_DIR `))
  t.match(human.stdout, new RegExp(`\\nFAIL {6}connection +MongoDB at 127\\.0\\.0\\.1:${port} did not answer within 5 s`))
  t.match(human.stdout, /\nNOT READY: the collector cannot run as configured \(failed: connection\)\n$/)
  for (const out of [json.stdout, json.stderr, human.stdout, human.stderr]) {
    t.notMatch(out, /s3cret|doctor-user/, 'neither the password nor the user is printed')
  }
})

t.test('credentials the server refuses: FAIL authentication, exit 1, the password masked', async t => {
  const uri = testMongoUri().replace('mongodb://', 'mongodb://doctor-user:s3cret-Passw0rd@')
  const run = await doctor({ MONGODB_URI: uri, MONGODB_DB_NAME: uniqueDbName('doctor'), LOG_DIR: mkdtempSync(join(cwd, 'logs-')) })
  t.equal(run.code, 1)
  t.match(run.stdout, /\nFAIL {6}connection +authentication to 127\.0\.0\.1:\d+ failed \(code 18 AuthenticationFailed.*\) → check the user, password and authSource in MONGODB_URI/)
  t.notMatch(run.stdout + run.stderr, /s3cret|doctor-user/)
})

t.test('embedded mode: no MongoDB to check, LOG_DIR checked, exit 0', async t => {
  const logDir = mkdtempSync(join(cwd, 'logs-'))
  const run = await doctor({ LOG_DIR: logDir }, '--json')
  t.equal(run.code, 0)
  const r = report(t, run)
  t.same(r.checks.map(c => [c.name, c.status]), [['connection', 'ok'], ['log_dir', 'ok']])
  t.match(r.checks[0]!.detail, /MONGODB_URI is not set: embedded mode/)
})

t.test('a LOG_DIR that cannot be created, and a variable that does not parse: FAIL, exit 1', async t => {
  const file = join(cwd, 'a-file')
  writeFileSync(file, 'not a directory\n')
  const dir = await doctor({ LOG_DIR: join(file, 'logs') })
  t.equal(dir.code, 1)
  t.match(dir.stdout, /\nFAIL {6}log_dir +.*a-file\/logs is not writable \(ENOTDIR: .*\) → the collector cannot open its journal there/)
  t.match(dir.stdout, /\nNOT READY: .*\(failed: log_dir\)\n$/)

  const config = await doctor({ LOG_DIR: mkdtempSync(join(cwd, 'logs-')), PORT: 'eighty' }, '--json')
  t.equal(config.code, 1)
  t.same(report(t, config), { ok: false, checks: [{ name: 'config', status: 'fail', detail: 'Invalid PORT: expected an integer >= 0, got "eighty"', action: 'the collector would not start (exit 2): fix the variable' }] })
})

t.test('bad usage exits 2; doctor --help prints the help', async t => {
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, LOG_DIR: join(cwd, 'unused') }, timeout: 30_000 })
  for (const args of [['doctor', '--jsn'], ['doctor', 'now'], ['--json'], ['doctor', '--json=yes']]) {
    const r = run(...args)
    t.equal(r.status, 2, args.join(' '))
    t.match(r.stderr, /^maap-collector: .* \(see maap-collector --help\)\n$/)
    t.equal(r.stdout, '')
  }
  const help = run('doctor', '--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /^Usage: maap-collector \[options\]\n {7}maap-collector doctor \[--json\]\n/)
  t.match(help.stdout, /doctor: 0 the collector can run \(fallbacks included\); 1 it cannot/)
  t.notOk(existsSync(join(cwd, 'unused')), 'nothing started')
})
