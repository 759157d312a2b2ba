// maap-logs export's parts, in process, on real files: the received_at key found in place, a journal's
// lines read a chunk at a time (a line longer than the chunk, a segment that grows or shrinks while read),
// the journals under a LOG_DIR, and stdout that cannot be written.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { appendFileSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { ByteSink } from '../src/cli/byte-sink'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { HEADER_BYTES } from '../src/journal/compacted/format'
import { damagedSegments } from '../src/journal/segment-file'
import { exportLogs, exportQuery } from '../src/cli/export'
import { findJournals, type Journal } from '../src/cli/export-journals'
import { CHUNK_BYTES, JournalLines } from '../src/cli/journal-lines'
import { compareKeys, receivedAt, type Key } from '../src/cli/received-at'
import { binPath, runCli } from './maap-logs-run'

const SEGMENT = 'maap-20260301T000000Z-000001.ndjson'

function noFilterFlags (): Parameters<typeof exportQuery>[0] {
  return { query: undefined, appName: undefined, level: undefined, text: undefined, fields: [], from: undefined, to: undefined }
}
const noFilter = exportQuery(noFilterFlags())

function line (n: number, extra = ''): string {
  return `{"timestamp":"2026-03-01T00:00:0${n % 10}.000Z","level":"INFO","app_name":"api","message":"m${n}"${extra},"_id":"${String(n).padStart(24, '0')}","received_at":"2026-03-01T00:00:0${n % 10}.500Z"}`
}

function keyOf (text: string): string {
  const buf = Buffer.from('xx' + text + '\n')
  const key: Key = { buf, start: 0, end: 0 }
  receivedAt(buf, 2, buf.length - 1, key)
  return key.buf.toString('utf8', key.start, key.end)
}

t.test('received_at: at the end, in the middle once, else parsed; none is the smallest key', async t => {
  t.equal(keyOf(line(1)), '2026-03-01T00:00:01.500Z', 'the common line: its end')
  t.equal(keyOf('{"timestamp":"x","_id":"1","received_at":"2026-03-01T00:00:02.000Z","app_name":"a","message":"m"}'), '2026-03-01T00:00:02.000Z',
    'a serialised event (renamed fields): the key once, in the middle')
  t.equal(keyOf('{"ctx":{"received_at":"1999"},"received_at":"2026-03-01T00:00:03.000Z","x":1}'), '2026-03-01T00:00:03.000Z', 'twice (one nested): parsed')
  t.equal(keyOf('{"received_at":"2026-03-01T00:00:04.000Z\\u0041","x":1}'), '2026-03-01T00:00:04.000ZA', 'an escape in it: parsed')
  t.equal(keyOf('{"message":"no key"}'), '', 'none')
  t.equal(keyOf('not json'), '', 'not JSON: none')
  const a: Key = { buf: Buffer.from('2026-01-01'), start: 0, end: 10 }
  const b: Key = { buf: Buffer.from('..2026-01-02'), start: 2, end: 12 }
  t.ok(compareKeys(a, b) < 0 && compareKeys(b, a) > 0 && compareKeys(a, a) === 0)
  t.ok(compareKeys({ buf: Buffer.alloc(0), start: 0, end: 0 }, a) < 0)
})

async function collect (lines: JournalLines): Promise<string[]> {
  const out: string[] = []
  while (await lines.fill()) {
    for (let i = lines.at; i < lines.starts.length; i++) out.push(lines.buf.toString('utf8', lines.starts[i], lines.ends[i]))
  }
  return out
}

t.test('a journal read in chunks smaller than a line: every line whole, once', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  const all = Array.from({ length: 50 }, (_, i) => line(i, i % 7 === 0 ? `,"big":"${'y'.repeat(500)}"` : ''))
  writeFileSync(join(dir, SEGMENT), all.map(l => l + '\n').join(''))
  writeFileSync(join(dir, 'maap-20260301T000000Z-000002.ndjson'), '\n\n' + line(99) + '\n')
  const warnings: string[] = []
  const journal: Journal = { dir, segments: [SEGMENT, 'maap-20260301T000000Z-000002.ndjson', 'maap-20260301T000000Z-000003.ndjson'], setAside: [], movesTo: [] }
  t.same(await collect(new JournalLines(journal, noFilter, w => warnings.push(w), 64)), [...all, line(99)], 'a segment listed and gone since is skipped quietly')
  t.same(warnings, [])
  const filtered = new JournalLines(journal, exportQuery({ ...noFilterFlags(), text: 'm4' }), w => warnings.push(w), 100)
  t.same(await collect(filtered), [all[4], ...all.slice(40, 50)])
  await filtered.close()
})

t.test('segments compacted or deleted by a running collector while the export reads: each line once, none lost', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  const names = [1, 2, 3].map(n => `maap-20260301T000000Z-00000${n}.ndjson`)
  const content = names.map((_, s) => Array.from({ length: 300 }, (_, i) => line(s * 1000 + i)))
  names.forEach((name, s) => writeFileSync(join(dir, name), content[s]!.map(l => l + '\n').join('')))
  const lines = new JournalLines({ dir, segments: names, setAside: [], movesTo: [] }, noFilter, w => t.fail(w), 4096)
  t.ok(await lines.fill(), 'reading the first segment, as NDJSON')
  const got = lines.starts.map((s, i) => lines.buf.toString('utf8', s, lines.ends[i]))
  await compactSegment(dir, names[0]!) // under the reader: its open file still reads
  await compactSegment(dir, names[1]!) // before it is reached: read compacted
  unlinkSync(join(dir, names[2]!)) // deleted by retention: skipped
  t.ok(existsSync(join(dir, `${names[0]}.z`)) && !existsSync(join(dir, names[0]!)))
  got.push(...await collect(lines))
  t.same(got, [...content[0]!, ...content[1]!])
})

t.test('a compacted segment\'s blocks that cannot hold a match (time window, levels) are not read', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  const at = (n: number): string => new Date(Date.UTC(2026, 2, 1) + n * 1000).toISOString()
  const all = Array.from({ length: 200 }, (_, n) =>
    `{"timestamp":"${at(n)}","level":"${n >= 150 ? 'ERROR' : 'INFO'}","app_name":"api","message":"m${n}","_id":"${String(n).padStart(24, '0')}","received_at":"${at(n)}"}`)
  writeFileSync(join(dir, SEGMENT), all.map(l => l + '\n').join(''))
  await compactSegment(dir, SEGMENT, 2048)
  // The first block's compressed bytes changed: a read of it fails its check.
  const packed = join(dir, `${SEGMENT}.z`)
  const bytes = readFileSync(packed)
  bytes[HEADER_BYTES + 10] = bytes[HEADER_BYTES + 10]! ^ 0xff
  writeFileSync(packed, bytes)
  const read = async (filters: Partial<ReturnType<typeof noFilterFlags>>, chunk = CHUNK_BYTES): Promise<string[]> =>
    await collect(new JournalLines({ dir, segments: [SEGMENT], setAside: [], movesTo: [] }, exportQuery({ ...noFilterFlags(), ...filters }), w => t.fail(w), chunk))
  const before = damagedSegments().count
  t.same(await read({ from: at(100) }), all.slice(100), '--from: the blocks before it not read')
  t.same(await read({ from: at(100), to: at(120) }), all.slice(100, 120), '--from and --to')
  t.same(await read({ level: 'error' }), all.slice(150), '--level: the blocks without an ERROR not read')
  t.same(await read({ level: 'error', query: 'm170 or m199' }, 100), [all[170], all[199]], 'in chunks smaller than a block too')
  t.equal(damagedSegments().count, before, 'the damaged block was never read')
  const damaged = await collect(new JournalLines({ dir, segments: [SEGMENT], setAside: [], movesTo: [] }, exportQuery({ ...noFilterFlags(), to: at(100) }), () => {}))
  t.ok(damaged.length < 100, 'the damaged block is read when the window holds it (and skipped as blank lines)')
  t.equal(damagedSegments().count, before + 1)
})

t.test('a journal\'s last segment is read to its last newline, quietly; a closed one cut mid-line is warned of', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  const path = join(dir, SEGMENT)
  const half = line(2).slice(0, 40)
  writeFileSync(path, line(1) + '\n' + half)
  const warnings: string[] = []
  const lines = new JournalLines({ dir, segments: [SEGMENT], setAside: [], movesTo: [] }, noFilter, w => warnings.push(w))
  t.ok(await lines.fill())
  t.equal(lines.buf.toString('utf8', lines.starts[0], lines.ends[0]), line(1))
  appendFileSync(path, line(2).slice(40) + '\n' + line(3) + '\n')
  t.same(await collect(lines), [], 'the line being written is not waited for, nor what came after it')
  t.same(warnings, [], 'and not warned of: it was not acknowledged')

  // A closed segment (a later one listed) cut mid-line, and one cut off under the reader (a collector starting
  // meanwhile sets a torn tail aside).
  const next = 'maap-20260301T000000Z-000002.ndjson'
  writeFileSync(join(dir, next), line(4) + '\n')
  writeFileSync(path, line(1) + '\n' + half)
  t.same(await collect(new JournalLines({ dir, segments: [SEGMENT, next], setAside: [], movesTo: [] }, noFilter, w => warnings.push(w))), [line(1), line(4)])
  t.match(warnings, [new RegExp(`^${path}: its last line is unfinished \\(40 bytes at offset ${line(1).length + 1}: cut short by a crash\\); skipped$`)])
  warnings.length = 0
  writeFileSync(path, line(1) + '\n' + line(2) + '\n' + half)
  const cut = new JournalLines({ dir, segments: [SEGMENT, next], setAside: [], movesTo: [] }, noFilter, w => warnings.push(w), 200)
  t.ok(await cut.fill())
  truncateSync(path, line(1).length + 1)
  t.same(await collect(cut), [line(4)], 'what is no longer there is not read')
  t.match(warnings, [new RegExp(`^${path}: its last line is unfinished \\(\\d+ bytes at offset ${line(1).length + 1}: cut short by a crash\\); skipped$`)])
})

t.test('the journals under a LOG_DIR: its own, a move to worker 1 cut short, the workers by number', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  for (const sub of ['worker-10', 'worker-2', 'worker-1.adopting', 'worker-3', 'idempotency-keys']) mkdirSync(join(dir, sub))
  for (const sub of ['.', 'worker-10', 'worker-2', 'idempotency-keys']) writeFileSync(join(dir, sub, SEGMENT), '')
  writeFileSync(join(dir, 'worker-1.adopting', 'maap-20260101T000000Z-000001.ndjson'), '') // older: moved first
  // Worker directories are picked by name, through symbolic links as the collector does (one to a file is not one).
  mkdirSync(join(dir, 'elsewhere'))
  writeFileSync(join(dir, 'elsewhere', SEGMENT), '')
  symlinkSync(join(dir, 'elsewhere'), join(dir, 'worker-4'))
  symlinkSync(join(dir, 'maap-torn-tails.ndjson'), join(dir, 'worker-5'))
  symlinkSync(join(dir, 'nowhere'), join(dir, 'worker-6'))
  writeFileSync(join(dir, 'worker-2', 'maap-20260301T000000Z-000002.ndjson.z'), '')
  writeFileSync(join(dir, 'worker-2', 'maap-20260301T000000Z-000003.ndjson.z.damaged'), '')
  writeFileSync(join(dir, 'worker-2', 'not-a-segment.z.damaged'), '')
  writeFileSync(join(dir, 'maap-torn-tails.ndjson'), '')
  const found = await findJournals(dir)
  t.same(found.map(j => j.dir), [dir, 'worker-1.adopting', 'worker-2', 'worker-4', 'worker-10'].map((d, i) => i === 0 ? d : join(dir, d)),
    'worker-3 holds nothing; worker-4 is a link to a directory')
  t.same(found[2], {
    dir: join(dir, 'worker-2'),
    segments: [SEGMENT, 'maap-20260301T000000Z-000002.ndjson'],
    setAside: [join(dir, 'worker-2', 'maap-20260301T000000Z-000003.ndjson.z.damaged')],
    movesTo: []
  })
  t.same(found.slice(0, 2).map(j => j.movesTo), [[join(dir, 'worker-1.adopting'), join(dir, 'worker-1')], [join(dir, 'worker-1')]],
    'where a move to worker 1 takes LOG_DIR\'s segments (staging first), and the staging directory\'s')
  t.same(found[3]!.segments, [SEGMENT])
})

/** LOG_DIR as a collector starting with WORKER_COUNT > 1 leaves it while it moves the journal to worker 1 (journal/worker-dirs.ts). */
function adopt (dir: string, names: readonly string[], finish: boolean): void {
  mkdirSync(join(dir, 'worker-1.adopting'), { recursive: true })
  for (const name of names) renameSync(join(dir, name), join(dir, 'worker-1.adopting', name))
  if (finish) renameSync(join(dir, 'worker-1.adopting'), join(dir, 'worker-1'))
}

t.test('a collector moving LOG_DIR\'s journal to worker 1 while the export reads: it stops, naming the move, rather than leave events out', async t => {
  const names = [1, 2, 3].map(n => `maap-20260301T000000Z-00000${n}.ndjson`)
  const logDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
    names.forEach((name, s) => writeFileSync(join(dir, name), Array.from({ length: 50 }, (_, i) => line(s * 100 + i) + '\n').join('')))
    return dir
  }
  const moving = /: a collector is moving LOG_DIR's journal into worker-1\/ \(it started while this export ran\), so what was printed is incomplete; run the export again$/
  for (const finish of [false, true]) {
    const dir = logDir()
    const [journal] = await findJournals(dir)
    const lines = new JournalLines(journal!, noFilter, w => t.fail(w), 4096)
    t.ok(await lines.fill(), 'the first segment open')
    adopt(dir, names, finish)
    await t.rejects(collect(lines), { message: moving, usage: false }, finish ? 'the move finished' : 'the files in the staging directory')
    await lines.close()
  }
  // The same in the staging directory's own journal (a move cut short by a crash, resumed by a start).
  const dir = logDir()
  adopt(dir, names, false)
  const [staged] = await findJournals(dir)
  t.equal(staged!.dir, join(dir, 'worker-1.adopting'))
  const lines = new JournalLines(staged!, noFilter, w => t.fail(w), 4096)
  t.ok(await lines.fill())
  renameSync(join(dir, 'worker-1.adopting'), join(dir, 'worker-1'))
  await t.rejects(collect(lines), { message: moving })
  await lines.close()

  // Retention deleting a listed segment is not a move: skipped quietly.
  const kept = logDir()
  const [own] = await findJournals(kept)
  unlinkSync(join(kept, names[1]!))
  t.equal((await collect(new JournalLines(own!, noFilter, w => t.fail(w)))).length, 100)

  // Seen while listing: a segment on both sides of the move (listed in LOG_DIR, then in worker-1), and the
  // directories changed. The CLI: exit 1, the message.
  const both = logDir()
  mkdirSync(join(both, 'worker-1'))
  cpSync(join(both, names[0]!), join(both, 'worker-1', names[0]!))
  await t.rejects(findJournals(both), { message: new RegExp(`^${both}: a collector is moving LOG_DIR's journal into worker-1/ \\(it started while this export ran\\); run the export again$`) })
  const run = await runCli(['export', '--dir', both])
  t.same([run.code, run.stdout], [1, ''])
  t.match(run.stderr, /^maap-logs: .*: a collector is moving LOG_DIR's journal into worker-1\/ .*; run the export again\n$/)
})

t.test('a line longer than the output buffer, and stdout that cannot be written', async t => {
  const chunks: Buffer[] = []
  const sink = new ByteSink(new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(c); cb() } }))
  const long = Buffer.from('z'.repeat(300 * 1024) + '\n')
  t.equal(sink.put(Buffer.from('a\n'), 0, 1), false)
  t.equal(sink.put(long, 0, long.length - 1), true, 'a buffer is full: flush due')
  await sink.flush()
  t.same(Buffer.concat(chunks), Buffer.concat([Buffer.from('a\n'), long]))

  const failing = new ByteSink(new Writable({ highWaterMark: 1, write: (_c, _e, cb) => setImmediate(() => cb(Object.assign(new Error('no space'), { code: 'ENOSPC' }))) }))
  failing.put(long, 0, long.length - 1)
  await failing.flush()
  t.equal(failing.failure?.code, 'ENOSPC')
  t.ok(failing.stopped)

  if (!existsSync('/dev/full')) return
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  writeFileSync(join(dir, SEGMENT), line(1) + '\n')
  const full = openSync('/dev/full', 'w')
  const run = spawnSync(process.execPath, [binPath, 'export', '--dir', dir], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' })
  closeSync(full)
  t.equal(run.status, 1)
  t.match(run.stderr, /^maap-logs: stdout could not be written \(ENOSPC\); what was printed is incomplete\n$/)
  t.equal((await runCli(['export', '--dir', dir])).stdout, line(1) + '\n', 'the same to a pipe')
})

t.test('several journals merged by received_at, in large writes; a reader that goes away stops it', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-parts-'))
  const at = (ms: number): string => new Date(Date.UTC(2026, 2, 1) + ms).toISOString()
  const event = (n: number): string => `{"timestamp":"${at(n)}","level":"INFO","app_name":"api","message":"m${n} ${'p'.repeat(150)}","_id":"${String(n).padStart(24, '0')}","received_at":"${at(n)}"}`
  for (const w of [1, 2, 3]) mkdirSync(join(dir, `worker-${w}`))
  // Worker 1 took the even ones, worker 2 the odd ones; worker 3 none yet.
  for (const w of [1, 2]) writeFileSync(join(dir, `worker-${w}`, SEGMENT), Array.from({ length: 2000 }, (_, i) => event(2 * i + w - 1) + '\n').join(''))
  writeFileSync(join(dir, 'worker-3', SEGMENT), '')
  const chunks: Buffer[] = []
  const said: string[] = []
  const result = await exportLogs({ dir, filters: noFilterFlags() }, new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(c); cb() } }), w => said.push(w))
  t.same(result, { warnings: 0, writeError: undefined, readerGone: false })
  t.same(said, [])
  t.ok(chunks.length > 1, `${chunks.length} writes`)
  t.equal(Buffer.concat(chunks).toString(), Array.from({ length: 4000 }, (_, n) => event(n) + '\n').join(''), 'in received_at order')

  let writes = 0
  const gone = new Writable({ write: (_c, _e, cb) => { writes++; cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) } })
  t.same(await exportLogs({ dir, filters: noFilterFlags() }, gone, w => said.push(w)), { warnings: 0, writeError: undefined, readerGone: true }, 'a closed pipe is no failure')
  t.equal(writes, 1, 'nothing written after it closed')
})
