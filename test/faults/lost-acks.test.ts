// Lost acknowledgements: the collector journaled a batch, its answer never reached the shipper, the
// shipper sent it again. With pino, winston and maap-ship, through a proxy that cuts the connection after
// the collector answered: every event is in the journal and in MongoDB exactly once — also when the
// collector is SIGKILLed before its answer got out, and when the retry reaches another collector.
import t from 'tap'
import type { Collection } from 'mongodb'
import {
  flushCollector, journaled, maapShip, pinoApp, runNode, setupMongoCollector, startAckCutter, startApp, startCollector,
  winstonApp, type AckCutter, type RunningCollector
} from '../support'

t.setTimeout(240_000)

const N = 600
const options = (url: string, appName: string): string =>
  JSON.stringify({ url, appName, batchSize: 50, retryBaseMs: 20, retryMaxMs: 100 })
const firstAttempt = (_key: string | undefined, attempt: number): boolean => attempt === 0

/** Every record 0..N-1 once in the journal(s) given and once in MongoDB. */
async function assertOnce (t: Tap.Test, coll: Collection, cutter: AckCutter, ...journals: RunningCollector[]): Promise<void> {
  const keys = [...cutter.attempts.keys()]
  t.ok(keys.length >= N / 50 && keys.every(k => k !== ''), `every request carried a key (${keys.length} batches)`)
  t.equal(cutter.lost, keys.length, 'the first answer to every batch was lost')
  for (const c of journals) {
    const seen = journaled(c.logDir).map(e => Number(e.i)).sort((a, b) => a - b)
    t.same(seen, Array.from({ length: N }, (_, i) => i), `journal ${c.port}: each record once`)
  }
  t.equal(await coll.countDocuments({}), N, 'MongoDB: N documents')
  t.equal((await coll.distinct('i')).length, N, 'MongoDB: each record once')
}

t.test('pino: every first answer lost, each record stored once', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'lostpino')
  const cutter = await startAckCutter(t, { target: () => collector.url, lose: firstAttempt })
  const app = startApp(pinoApp, { MAAP_TRANSPORT_OPTIONS: options(cutter.url, 'lost-pino') })
  t.equal(await app.command(`log ${N}`), `logged ${N}`)
  t.equal(await app.command('flush'), 'flushed')
  app.child.stdin.write('exit\n')
  t.equal(await app.exited, 0, app.stderr())
  await flushCollector(collector)
  await assertOnce(t, coll, cutter, collector)
})

t.test('winston: every first answer lost, each record stored once', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'lostwinston')
  const cutter = await startAckCutter(t, { target: () => collector.url, lose: firstAttempt })
  const app = startApp(winstonApp, { MAAP_TRANSPORT_OPTIONS: options(cutter.url, 'lost-winston') })
  t.equal(await app.command(`log ${N}`), `logged ${N}`)
  t.equal(await app.command('end'), 'finish')
  t.equal(await app.exited, 0, app.stderr())
  await flushCollector(collector)
  await assertOnce(t, coll, cutter, collector)
})

const records = Array.from({ length: N }, (_, i) => JSON.stringify({ level: 'info', msg: `record ${i}`, i })).join('\n') + '\n'
const ship = (url: string): ReturnType<typeof runNode> =>
  runNode([maapShip, '--url', url, '--app-name', 'lost-ship', '--batch-size', '50', '--retry-base-ms', '20', '--retry-max-ms', '100'], {}, records)

t.test('maap-ship: every first answer lost, each record stored once', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'lostship')
  const cutter = await startAckCutter(t, { target: () => collector.url, lose: firstAttempt })
  const run = await ship(cutter.url)
  t.equal(run.code, 0, run.stderr)
  await flushCollector(collector)
  await assertOnce(t, coll, cutter, collector)
})

t.test('the collector SIGKILLed after journaling a batch, before its answer got out; restarted: stored once', async t => {
  const { collector, coll, env } = await setupMongoCollector(t, 'lostkill')
  let current = collector
  let killedKey: string | undefined
  const cutter: AckCutter = await startAckCutter(t, {
    target: () => current.url,
    // The first answer to the fifth batch to arrive: the collector has journaled it, then dies.
    lose: (key, attempt) => killedKey === undefined && attempt === 0 && key === [...cutter.attempts.keys()][4],
    onLost: async key => {
      killedKey = key
      t.equal(await current.stop('SIGKILL'), 'SIGKILL')
      current = await startCollector(t, { env, port: collector.port, logDir: collector.logDir })
    }
  })
  const app = startApp(pinoApp, { MAAP_TRANSPORT_OPTIONS: options(cutter.url, 'lost-kill') })
  t.equal(await app.command(`log ${N}`), `logged ${N}`)
  t.equal(await app.command('flush'), 'flushed')
  app.child.stdin.write('exit\n')
  t.equal(await app.exited, 0, app.stderr())
  t.equal(cutter.lost, 1, 'one answer lost, with the collector that gave it')
  t.ok((cutter.attempts.get(killedKey!) ?? 0) >= 2, 'that batch was sent again, to the restarted collector')
  const status = await (await fetch(`${current.url}/status`)).json() as { idempotency: { replayed: number } }
  // Others in flight when it died may have been journaled and answered again too.
  t.ok(status.idempotency.replayed >= 1, 'answered from the key it logged before it died')
  await flushCollector(current)
  const seen = journaled(collector.logDir).map(e => Number(e.i)).sort((a, b) => a - b)
  t.same(seen, Array.from({ length: N }, (_, i) => i), 'the journal: each record once')
  t.equal(await coll.countDocuments({}), N)
  t.equal((await coll.distinct('i')).length, N, 'MongoDB: each record once')
})

t.test('two collectors on one MongoDB; every retry reaches the other one: MongoDB and reads hold each record once', async t => {
  const { collector: a, coll, env } = await setupMongoCollector(t, 'losttwo')
  const b = await startCollector(t, { env })
  const cutter = await startAckCutter(t, { target: (_key, attempt) => attempt === 0 ? a.url : b.url, lose: firstAttempt })
  const run = await ship(cutter.url)
  t.equal(run.code, 0, run.stderr)
  await flushCollector(a)
  await flushCollector(b)
  // Each collector journaled every batch once (A the lost first attempts, B the retries): two journals,
  // one MongoDB, where B's copies had A's ids and were counted as already stored.
  await assertOnce(t, coll, cutter, a, b)
  const duplicates = async (c: RunningCollector): Promise<number> => ((await (await fetch(`${c.url}/status`)).json()) as { duplicates_on_replay: number }).duplicates_on_replay
  t.equal(await duplicates(a) + await duplicates(b), N, 'each event the second collector drained was already in MongoDB, by its derived _id')
  const page = await (await fetch(`${b.url}/logs?app_name=lost-ship&limit=1000`)).json() as { events: Array<{ i: number }> }
  t.equal(page.events.length, N, 'a search through B answers each event once')
})
