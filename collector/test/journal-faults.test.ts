// The journal under faults: a full write queue, an unwritable LOG_DIR, a torn tail left by a crash.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JournalQueueFullError, JournalWriter } from '../src/journal/writer'
import { connectTestClient, testMongoUri, uniqueDbName } from '../../test/support'
import { buildTestApp } from './helpers'

t.test('appends past the queue bound are refused at once, not queued', async t => {
  const writer = new JournalWriter({ dir: mkdtempSync(join(tmpdir(), 'maap-q-')), fsync: 'off', segmentMaxBytes: 1 << 20, maxQueueBytes: 2048 })
  await writer.open()
  t.teardown(() => writer.close())
  const line = 'x'.repeat(1500) + '\n'
  const first = writer.append(line, 1) // taken by the write in flight
  const second = writer.append(line, 1) // waits for the next group
  const third = writer.append(line, 1) // would make the waiting group larger than the bound
  await t.rejects(third, JournalQueueFullError)
  await first
  await second
  t.equal(writer.end.offset, line.length * 2)
})

t.test('text and byte appends joined in one group are written in their order', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-q-'))
  const writer = new JournalWriter({ dir, fsync: 'off', segmentMaxBytes: 1 << 20 })
  await writer.open()
  t.teardown(() => writer.close())
  const appends = ['{"a":1}\n', Buffer.from('{"é":2}\n'), '{"c":3}\n', Buffer.from('{"d":4}\n{"e":5}\n'), '{"f":6}\n', '{"g":7}\n']
  // The first is written alone; the rest wait for it and go as one mixed group.
  await Promise.all(appends.map(a => writer.append(a, 1)))
  await Promise.all([writer.append(Buffer.from('{"h":8}\n'), 1)])
  const written = readFileSync(join(dir, writer.end.segment), 'utf8')
  t.equal(written, appends.map(String).join('') + '{"h":8}\n')
  t.equal(writer.end.offset, Buffer.byteLength(written))
})

t.test('LOG_DIR not writable → 503 and nothing acknowledged; writable again → recovers by itself', async t => {
  // Tiny segments make every write open a new file, so a LOG_DIR that is replaced by a plain file fails
  // the next write even for root (who ignores permission bits).
  const { app, logDir } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '1024' })
  const send = (message: string): ReturnType<typeof app.inject> =>
    app.inject({ method: 'POST', url: '/log', payload: { message: message + 'x'.repeat(1100), app_name: 'a' } })
  t.equal((await send('before')).statusCode, 201)
  renameSync(logDir, logDir + '.away')
  writeFileSync(logDir, 'not a directory')
  const failed = await send('during')
  t.equal(failed.statusCode, 503)
  t.equal(failed.headers['retry-after'], '1')
  t.match(failed.json(), { code: 'MAAP_JOURNAL_UNAVAILABLE', message: /nothing was stored/ })
  t.match((await app.inject({ method: 'GET', url: '/status' })).json(), { journal: { write_errors: 1, last_error: /could not be written/ } })
  rmSync(logDir)
  renameSync(logDir + '.away', logDir)
  t.equal((await send('after')).statusCode, 201, 'the next write succeeds without a restart')
  const text = (await import('node:fs')).readdirSync(logDir).filter(n => n.startsWith('maap-2')).map(n => readFileSync(join(logDir, n), 'utf8')).join('')
  t.match(text, /"message":"before/)
  t.match(text, /"message":"after/)
  t.notMatch(text, /"message":"during/, 'what was refused is not in the journal')
})

t.test('a torn tail is cut off and kept aside; the valid lines before it are replayed', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('torn')
  t.teardown(() => client.db(dbName).dropDatabase())
  const logDir = mkdtempSync(join(tmpdir(), 'maap-torn-'))
  const line = (n: number): string => JSON.stringify({ _id: `6500000000000000000000${String(n).padStart(2, '0')}`, timestamp: '2026-01-01T00:00:00.000Z', received_at: '2026-01-01T00:00:00.000Z', level: 'INFO', app_name: 'a', message: `m${n}` })
  const segment = 'maap-20260101T000000Z-000001.ndjson'
  writeFileSync(join(logDir, segment), line(1) + '\n' + line(2) + '\n' + line(3).slice(0, 40))
  const { app } = await buildTestApp(t, { LOG_DIR: logDir, MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName })
  t.same((await client.db(dbName).collection('logs').find().sort({ message: 1 }).toArray()).map(d => d.message), ['m1', 'm2'])
  t.equal(readFileSync(join(logDir, segment), 'utf8'), line(1) + '\n' + line(2) + '\n', 'the segment now ends at its last whole line')
  const kept = JSON.parse(readFileSync(join(logDir, 'maap-torn-tails.ndjson'), 'utf8'))
  t.match(kept, { segment, offset: (line(1) + line(2)).length + 2 })
  t.equal(Buffer.from(kept.bytes_base64, 'base64').toString(), line(3).slice(0, 40))
  t.equal((await app.inject({ method: 'POST', url: '/log', payload: { message: 'after', app_name: 'a' } })).statusCode, 201)
  t.ok(existsSync(join(logDir, 'maap-checkpoint.json')))
})
