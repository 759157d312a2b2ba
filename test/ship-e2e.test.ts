// maap-ship (stdin CLI) → real collector → MongoDB.
import t from 'tap'
import { startCollector, connectTestClient, testMongoUri, uniqueDbName, flushCollector, maapShip, runNode } from './support'

async function setup (t: Tap.Test, name: string) {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName(name)
  t.teardown(() => client.db(dbName).dropDatabase())
  const collector = await startCollector(t, { env: { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, MONGODB_COLLECTION: 'logs', FLUSH_INTERVAL: '0.2', LOG_RETENTION_DAYS: '0' } })
  return { collector, coll: client.db(dbName).collection('logs') }
}

const ship = (args: string[], input: string): ReturnType<typeof runNode> => runNode([maapShip, ...args], {}, input)

t.test('pino, winston and plain-text lines all stored; exit 0', async t => {
  const { collector, coll } = await setup(t, 'shipmix')
  const input = [
    '{"level":50,"time":1700000000000,"msg":"pino error","err":{"type":"Error","message":"boom","stack":"Error: boom"},"n":1}',
    '{"level":"warn","message":"winston warning","timestamp":"2026-11-27T07:00:00.000Z","n":2}',
    'a plain line with no JSON',
    '{"level":"info","message":"has $dollar field","$weird":1,"n":4}'
  ].join('\n') + '\n'
  const run = await ship(['--url', collector.url, '--app-name', 'piped'], input)
  t.equal(run.code, 0, run.stderr)
  await flushCollector(collector)
  const docs = await coll.find({}).toArray()
  t.equal(docs.length, 4)
  const by = (m: string) => docs.find(d => d.message === m)
  t.match(by('pino error'), { level: /^error$/i, app_name: 'piped', err: { message: 'boom' } })
  t.equal(by('pino error')!.timestamp.getTime(), 1700000000000)
  t.match(by('winston warning'), { level: /^warn(ing)?$/i, app_name: 'piped' })
  t.match(by('a plain line with no JSON'), { level: /^info$/i, app_name: 'piped' })
  t.ok(by('has $dollar field'), 'a field name MongoDB dislikes still gets the record stored')
})

t.test('the collector refuses part of the input: the rest stored, rejects counted, exit 1', async t => {
  const { collector, coll } = await setup(t, 'shiprej')
  const tooLong = 'x'.repeat(300) // app_name over the collector's 256-character limit
  const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify({ level: 'info', message: `m${i}`, ...(i % 3 === 0 ? { app_name: tooLong } : {}) }))
  const run = await ship(['--url', collector.url, '--app-name', 'ok'], lines.join('\n') + '\n')
  t.equal(run.code, 1)
  t.match(run.stderr, /rejected 2 of 6 records \(#0: 'app_name' must be/)
  t.match(run.stderr, /maap-ship: end of input: not everything was delivered \(sent 4, rejected 2/)
  await flushCollector(collector)
  t.same((await coll.find({}).toArray()).map(d => d.message).sort(), ['m1', 'm2', 'm4', 'm5'])
})
