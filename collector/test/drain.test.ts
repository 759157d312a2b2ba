// The drain in process, on a real journal and a real MongoDB: what it has recorded (dead letters,
// checkpoint, counts) when it stops part way, and that a later drain carries on from there without
// storing anything twice. A batch's dead letters and checkpoint are written while the next batch inserts,
// so these hold the order of that bookkeeping to the journal's.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ObjectId } from 'mongodb'
import { Checkpoint } from '../src/journal/checkpoint'
import { JournalReader } from '../src/journal/reader'
import { JournalWriter, type JournalPosition } from '../src/journal/writer'
import { DeadLetter } from '../src/sink/dead-letter'
import { Drainer } from '../src/sink/drainer'
import { MongoSink } from '../src/sink/mongo-sink'
import { connectTestClient, testMongoUri, uniqueDbName } from '../../test/support'

const BATCH = 100

/** `n` journal lines as the collector writes them; the line at `unreadable` (if any) is not JSON. */
function lines (n: number, seq0: number, unreadable?: number): string {
  let text = ''
  for (let i = 0; i < n; i++) {
    const at = new Date(1_700_000_000_000 + seq0 + i).toISOString()
    text += i === unreadable
      ? `{"torn": ${seq0 + i}\n`
      : JSON.stringify({ timestamp: at, level: 'INFO', message: `m${seq0 + i}`, app_name: 'drain', seq: seq0 + i, _id: new ObjectId().toHexString(), received_at: at }) + '\n'
  }
  return text
}

t.test('a drain stopped part way has recorded every batch MongoDB confirmed before that, and only those', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('drain')
  t.teardown(() => client.db(dbName).dropDatabase())
  const dir = mkdtempSync(join(tmpdir(), 'maap-drain-'))
  // Segments so small that every append (one batch here) rolls to a new one on the next.
  const writer = new JournalWriter({ dir, fsync: 'off', segmentMaxBytes: 1024 })
  await writer.open()
  t.teardown(() => writer.close())
  await writer.append(lines(BATCH, 0, 10), BATCH)
  await writer.append(lines(BATCH, BATCH, 99), BATCH)
  await writer.append(lines(BATCH, 2 * BATCH), BATCH)
  const [first, second, third] = writer.segments
  // The third batch cannot be read: the drain stops there, after inserting the first two.
  const thirdBytes = readFileSync(join(dir, third!))
  rmSync(join(dir, third!))

  const reader = new JournalReader(dir, () => writer.segments, () => writer.end)
  const checkpoint = new Checkpoint(dir)
  const deadLetter = new DeadLetter(dir)
  const drain = (from: JournalPosition, pending: number): Drainer => {
    const sink = new MongoSink(testMongoUri(), dbName, 'logs')
    t.teardown(() => sink.close())
    return new Drainer(sink, reader, checkpoint, deadLetter, { batchSize: BATCH, flushIntervalMs: 3_600_000 }, from, pending)
  }

  const d1 = drain({ segment: first!, offset: 0 }, 3 * BATCH)
  await t.rejects(d1.flushAll(), { code: 'ENOENT' })
  t.same(await checkpoint.load(), { segment: second, offset: statSync(join(dir, second!)).size }, 'the checkpoint is at the end of the second batch')
  t.same(d1.confirmed, await checkpoint.load())
  t.match(d1.stats, { flushed: 2 * BATCH - 2, deadLettered: 2, duplicates: 0, pending: BATCH })
  const dead = readFileSync(deadLetter.file, 'utf8').trim().split('\n').map(l => JSON.parse(l) as { code: string, event: string })
  t.same(dead.map(d => [d.code, d.event]), [['journal', `{"torn": 10`], ['journal', `{"torn": 199`]], 'both batches\' dead letters, in journal order')
  const coll = client.db(dbName).collection('logs')
  t.equal(await coll.countDocuments(), 2 * BATCH - 2)

  // Readable again: a new drain (as after a restart, from the checkpoint) stores the third batch alone.
  writeFileSync(join(dir, third!), thirdBytes)
  const d2 = drain((await checkpoint.load())!, BATCH)
  t.equal(await d2.flushAll(), BATCH)
  t.match(d2.stats, { flushed: BATCH, duplicates: 0, deadLettered: 0, pending: 0 })
  t.same(await checkpoint.load(), writer.end)
  t.equal(await coll.countDocuments(), 3 * BATCH - 2)
  t.equal(deadLetter.count, 2)
})
