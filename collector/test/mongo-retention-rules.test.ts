// RETENTION_RULES in MongoDB, against the wire server the test run provisioned (FerretDB or mongod): the
// sweeper deletes per rule (first match wins) in bounded chunks, the caps never delete what a rule keeps,
// and a running collector puts the TTL index at the longest rule's age, creates the rules' index, and
// applies changed rules to what is stored already.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient, ObjectId, type Collection, type CommandStartedEvent, type Document } from 'mongodb'
import { build, loadConfig } from '@maap-event-logger/collector'
import { collectorBin, connectTestClient, poll, runNode, startCollector, testMongoUri, uniqueDbName } from '../../test/support'
import { RetentionPolicy } from '../src/retention/policy'
import { RULE_INDEX } from '../src/retention/rule-index'
import { parseRetentionRules } from '../src/retention/rules'
import { sweepCollection } from '../src/retention/sweeper'

const DAY = 86_400_000
const NOW = new Date('2026-11-27T08:00:00.000Z')
const RULES = 'level=DEBUG|TRACE:3d, app=audit:400d, app=payments level=ERROR|CRITICAL:90d'
const policy = (raw: string, defaultDays: number): RetentionPolicy => new RetentionPolicy(parseRetentionRules(raw, 'RETENTION_RULES')!, defaultDays)

type Test = { teardown: (fn: () => unknown) => void }

/** A client that records every deleteMany it sends, on a database of the test's own. */
async function monitored (t: Test): Promise<{ coll: Collection<Document>, deletes: CommandStartedEvent[] }> {
  const client = new MongoClient(testMongoUri(), { serverSelectionTimeoutMS: 10_000, monitorCommands: true })
  await client.connect()
  const dbName = uniqueDbName('rules')
  t.teardown(async () => {
    await client.db(dbName).dropDatabase()
    await client.close()
  })
  const deletes: CommandStartedEvent[] = []
  client.on('commandStarted', e => { if (e.commandName === 'delete') deletes.push(e) })
  return { coll: client.db(dbName).collection('logs'), deletes }
}

function doc (name: string, level: string, app: string, days: number, seq = 0): Document {
  return { _id: new ObjectId(), timestamp: new Date(NOW.getTime() - days * DAY), received_at: NOW, level, app_name: app, message: name, seq }
}

async function names (coll: Collection<Document>): Promise<string[]> {
  return [...new Set((await coll.find({}, { projection: { message: 1 } }).toArray()).map(d => d.message as string))].sort()
}

t.test('the sweeper deletes per rule, first match wins, in chunks', async t => {
  const { coll, deletes } = await monitored(t)
  const many = Array.from({ length: 25 }, (_, i) => doc('debug-old', 'DEBUG', 'web', 5 + i / 100, i))
  await coll.insertMany([
    ...many,
    doc('debug-new', 'DEBUG', 'web', 1),
    doc('debug-audit', 'DEBUG', 'audit', 5), // the DEBUG rule comes first
    doc('audit-old', 'INFO', 'audit', 100),
    doc('audit-older', 'INFO', 'audit', 401),
    doc('payments-kept', 'ERROR', 'payments', 60),
    doc('payments-gone', 'CRITICAL', 'payments', 100),
    doc('payments-info', 'INFO', 'payments', 40),
    doc('web-old', 'INFO', 'web', 40),
    doc('web-new', 'INFO', 'web', 10)
  ])
  const res = await sweepCollection(coll, { retentionDays: 30, maxDocuments: 0, maxCollectionSize: 0, chunkSize: 4, policy: policy(RULES, 30) }, NOW)
  t.same(await names(coll), ['audit-old', 'debug-new', 'payments-kept', 'web-new'])
  t.same(res.removedByRule, [26, 1, 1, 2], 'by rule: DEBUG|TRACE, audit, payments errors, the default')
  t.equal(res.expired, 30)
  const sizes = deletes.map(e => (e.command.deletes as Array<{ q: { _id: { $in: unknown[] } } }>)[0]!.q._id.$in.length)
  t.ok(sizes.length >= 8 && sizes.every(n => n <= 4), `every delete names at most 4 documents (${sizes.join(' ')})`)

  // A second pass finds nothing more.
  const again = await sweepCollection(coll, { retentionDays: 30, maxDocuments: 0, maxCollectionSize: 0, policy: policy(RULES, 30) }, NOW)
  t.same(again.removedByRule, [0, 0, 0, 0])
  // Forever: nothing of that rule goes, however old.
  await coll.insertOne(doc('ancient-audit', 'INFO', 'audit', 5000))
  const forever = await sweepCollection(coll, { retentionDays: 0, maxDocuments: 0, maxCollectionSize: 0, policy: policy('app=audit:forever', 0) }, NOW)
  t.same(forever.removedByRule, [0, 0])
  t.ok((await names(coll)).includes('ancient-audit'))
})

t.test('the caps never delete what a rule keeps', async t => {
  const { coll } = await monitored(t)
  await coll.insertMany([
    ...Array.from({ length: 10 }, (_, i) => doc('audit', 'INFO', 'audit', 50 - i, i)),
    ...Array.from({ length: 10 }, (_, i) => doc('web', 'INFO', 'web', 20 - i, i))
  ])
  const p = policy('app=audit:400d', 30)
  const some = await sweepCollection(coll, { retentionDays: 30, maxDocuments: 15, maxCollectionSize: 0, policy: p }, NOW)
  t.equal(some.trimmedByCount, 5, 'the 5 oldest of what no rule matches')
  t.notOk(some.cappedByRules)
  t.same((await coll.find({ app_name: 'web' }).toArray()).map(d => d.seq).sort(), [5, 6, 7, 8, 9])
  const over = await sweepCollection(coll, { retentionDays: 30, maxDocuments: 5, maxCollectionSize: 0, policy: p }, NOW)
  t.equal(over.trimmedByCount, 5, 'every event no rule matches goes, and no more')
  t.ok(over.cappedByRules, 'the result says the cap could not be met')
  t.equal(await coll.countDocuments({ app_name: 'audit' }), 10, 'every event the rule keeps is still there')
  const bySize = await sweepCollection(coll, { retentionDays: 30, maxDocuments: 0, maxCollectionSize: 1, policy: p }, NOW)
  t.equal(bySize.trimmedBySize, 0)
  t.ok(bySize.cappedByRules)
  t.equal(await coll.countDocuments(), 10)
})

/** Whether the server under test has TTL indexes: mongod does, FerretDB does not. */
async function serverHasTtl (client: MongoClient): Promise<boolean> {
  const kind = process.env.TEST_MONGO_KIND
  if (kind === 'ferretdb') return false
  if (kind === 'mongod') return true
  return (await client.db('admin').command({ buildInfo: 1 })).ferretdbVersion === undefined
}

t.test('a collector: TTL at the longest rule, the rules\' index, and a rule change applied to what is stored', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('rules_app')
  t.teardown(() => client.db(dbName).dropDatabase())
  const coll = client.db(dbName).collection('logs')
  const ttlServer = await serverHasTtl(client)
  const start = async (rules: string): Promise<Awaited<ReturnType<typeof build>>> => {
    const app = await build(loadConfig({
      LOG_DIR: mkdtempSync(join(tmpdir(), 'maap-rules-mongo-')), MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName,
      RETENTION_RULES: rules, LOG_RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL: '0.05', FLUSH_INTERVAL: '3600'
    }))
    return app
  }
  const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString()

  const first = await start('app=audit:400d, level=DEBUG:3d')
  const events = [
    { message: 'audit-100', app_name: 'audit', level: 'info', timestamp: ago(100) },
    { message: 'web-40', app_name: 'web', level: 'info', timestamp: ago(40) },
    { message: 'web-5', app_name: 'web', level: 'info', timestamp: ago(5) }
  ]
  await first.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: events.map(e => JSON.stringify(e)).join('\n') })
  await first.inject({ method: 'POST', url: '/force-flush' })
  await poll(async () => (await names(coll)).join() === 'audit-100,web-5')
  const ttl = (await coll.listIndexes().toArray()).find(ix => Object.keys(ix.key).join() === 'timestamp')
  t.equal(ttl?.expireAfterSeconds, ttlServer ? 400 * 86400 : undefined, ttlServer ? 'the TTL index is at the longest rule' : 'no TTL on this server: the sweeper')
  t.ok((await coll.listIndexes().toArray()).some(ix => ix.name === RULE_INDEX.name), 'the rules\' index is there')
  const status = await poll(async () => {
    const s = (await first.inject({ method: 'GET', url: '/status' })).json()
    return s.retention?.rules?.[2]?.removed === 1 && s
  })
  t.match(status.retention.rules, [{ rule: 'app=audit:400d', removed: 0 }, { rule: 'level=DEBUG:3d', removed: 0 }, { rule: 'default', days: 30, removed: 1 }])
  t.match((await first.inject({ method: 'GET', url: '/metrics' })).body, 'maap_retention_removed_total{rule="default"} 1')
  await first.close()

  // The rules change: what is stored already follows the new ones.
  const second = await start('app=audit:90d')
  t.teardown(() => second.close())
  await poll(async () => (await names(coll)).join() === 'web-5')
  const ttl2 = (await coll.listIndexes().toArray()).find(ix => Object.keys(ix.key).join() === 'timestamp')
  t.equal(ttl2?.expireAfterSeconds, ttlServer ? 90 * 86400 : undefined)
  await poll(async () => (await second.inject({ method: 'GET', url: '/status' })).json().retention?.rules?.[0]?.removed === 1)
  t.match((await second.inject({ method: 'GET', url: '/metrics' })).body, 'maap_retention_removed_total{rule="app=audit:90d"} 1')
})

t.test('the real collector: a warning at start for a rule the caps cannot hold; a bad rule stops it', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('rules_warn')
  t.teardown(() => client.db(dbName).dropDatabase())
  const c = await startCollector(t, {
    env: { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, RETENTION_RULES: 'app=audit:400d, app=audit level=DEBUG:1d', RETENTION_SWEEP_INTERVAL: '0.05' }
  })
  const cap = await c.waitForLog({ level: 40, setting: 'RETENTION_RULES', msg: /rule "app=audit:400d" keeps events 400 days.*MAX_DOCUMENTS=100000 \(the default\)/ })
  t.ok(cap.entry, 'the cap warning')
  t.ok(c.logs({ level: 40, msg: /rule "app=audit level=DEBUG:1d" never applies/ }).length === 1, 'the shadowed rule')
  t.equal(await c.stop(), 0, 'stopped: its lease goes with it')
  // Over the cap with nothing but what the rule keeps: the pass says so, and deletes none of it.
  const c2 = await startCollector(t, {
    env: { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, RETENTION_RULES: 'app=audit:400d', MAX_DOCUMENTS: '1', RETENTION_SWEEP_INTERVAL: '0.05' }
  })
  const body = [1, 2].map(i => JSON.stringify({ message: `audit ${i}`, app_name: 'audit' })).join('\n')
  t.equal((await fetch(`${c2.url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })).status, 200)
  t.equal((await fetch(`${c2.url}/force-flush`, { method: 'POST' })).status, 200)
  await c2.waitForLog({ level: 40, msg: /over a cap and the rest is what RETENTION_RULES keep/ })
  t.equal(await client.db(dbName).collection('logs').countDocuments({ app_name: 'audit' }), 2, 'the cap deleted nothing a rule keeps')
  t.equal(await c2.stop(), 0)

  const bad = await runNode([collectorBin], { LOG_DIR: c.logDir, PORT: '0', HOST: '127.0.0.1', MONGODB_URI: undefined, RETENTION_RULES: 'level=LOUD:3d' })
  t.not(bad.code, 0, 'start-up stops')
  t.match(bad.stdout + bad.stderr, /Invalid RETENTION_RULES: rule "level=LOUD:3d" has an unknown level "LOUD"/)
})
