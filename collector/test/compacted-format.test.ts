// The compacted segment format and its file-level parts: a round trip gives back every original byte at
// its original offset (whatever range is asked), the footer summarises each block, a changed byte or a
// torn end is detected, an unknown version is refused by name, start-up repairs interrupted compactions,
// and listing, sizes, retention and expiry see a compacted segment under its logical name.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { compactSegment, summarise } from '../src/journal/compacted/compact-segment'
import { JournalCompactor } from '../src/journal/compacted/compactor'
import { FORMAT_VERSION, FormatError } from '../src/journal/compacted/format'
import { recoverCompactions } from '../src/journal/compacted/recover'
import { cachedFooters, catSegment, damagedSegments, openSegment, openSegmentIfExists, readFooter, segmentSize } from '../src/journal/segment-file'
import { open } from 'node:fs/promises'
import { PassThrough } from 'node:stream'
import { listSegments } from '../src/journal/writer'
import { cleanupSegments } from '../src/retention/file-cleanup'
import { segmentExpiry } from '../src/retention/segment-expiry'
import { RetentionPolicy } from '../src/retention/policy'
import { BlockIndex } from '../src/read/block-index'
import { poll } from '../../test/support'

const NAME = 'maap-20260101T000000Z-000001.ndjson'
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']
const WORKER = resolve(__dirname, '..', 'dist', 'journal', 'compacted', 'compact-worker.js')

/** Journal lines as the collector writes them (the head first), one of them longer than a block. */
function journalBytes (n: number): Buffer {
  const lines: string[] = []
  for (let i = 0; i < n; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
    const pad = i === 7 ? 'x'.repeat(9000) : String(i * 7919 % 1000)
    lines.push(`{"timestamp":"${ts}","level":"${LEVELS[i % 6]!}","app_name":"app-${i % 3}","message":"event ${i} ${pad}","_id":"${i}"}\n`)
  }
  lines.push('{"timestamp":"2025-12-31T23:59:59.000Z","level":"INFO","app_name":"old","message":"from an older collector, no head order"}\n'.replace('"level":"INFO",', '"message0":1,"level":"INFO",'))
  return Buffer.from(lines.join(''))
}

function journalDir (bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'maap-compact-'))
  writeFileSync(join(dir, NAME), bytes)
  return dir
}

t.test('round trip: every byte at its offset, blocks summarised, the NDJSON replaced', async t => {
  const original = journalBytes(400)
  const dir = journalDir(original)
  const plain = await openSegment(dir, NAME)
  t.equal(await plain.summaries(), undefined, 'NDJSON has no footer to summarise it')
  await plain.close()
  const r = await compactSegment(dir, NAME, 4096)
  t.equal(r.bytesIn, original.length)
  t.ok(r.bytesOut < original.length / 2, `smaller: ${r.bytesOut} of ${r.bytesIn}`)
  t.same(readdirSync(dir), [NAME + '.z'], 'only the compacted form is left')
  t.same(await listSegments(dir), [NAME], 'listed under its logical name')
  t.equal(await segmentSize(dir, NAME), original.length, 'its size is the original one')

  const f = await openSegment(dir, NAME)
  t.teardown(() => f.close())
  const blocks = (await f.summaries())!
  t.ok(blocks.length > 5, 'several blocks')
  const stored = f.blocks()!
  t.same(stored.map(b => [b.start, b.end, b.cols?.at]), blocks.map(b => [b.start, b.end, b.cols?.at]), 'the blocks a reader reads are the summarised ones')
  t.notOk(stored.some(b => ['minTs', 'maxTs', 'levels', 'apps', 'appLevels'].some(k => k in b)), 'the cached footer keeps no summaries')
  t.ok(blocks.some(b => b.end - b.start > 9000), 'a line longer than a block is a block of its own')
  for (const b of blocks) t.equal(original[b.end - 1], 10, 'blocks end with whole lines')
  t.same(blocks.reduce((n, b) => n + b.levels.reduce((a, c) => a + c, 0), 0), 401, 'every event counted by level')
  t.equal(blocks[0]!.minTs, '2026-01-01T00:00:00.000Z')
  t.same(blocks[0]!.apps.sort(), ['app-0', 'app-1', 'app-2'])
  t.equal(blocks.at(-1)!.minTs, '2025-12-31T23:59:59.000Z', 'a line without the head is parsed for its time')

  const all = Buffer.alloc(original.length)
  t.equal(await f.read(all, 0, all.length, 0), original.length)
  t.ok(all.equals(original), 'the whole segment')
  for (const [pos, len] of [[0, 1], [100, 5000], [4000, 200], [original.length - 10, 100], [12345, 30000]] as const) {
    const part = Buffer.alloc(len)
    const got = await f.read(part, 0, len, pos)
    t.equal(got, Math.min(len, original.length - pos))
    t.ok(part.subarray(0, got).equals(original.subarray(pos, pos + got)), `bytes [${pos}, ${pos + got})`)
  }
  t.equal(await f.read(Buffer.alloc(10), 0, 10, original.length), 0, 'nothing past the end')

  const out = new PassThrough({ highWaterMark: 1024 })
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  await catSegment(dir, NAME, out)
  t.ok(Buffer.concat(chunks).equals(original), 'catSegment prints the original NDJSON (what the README shows)')

  const index = new BlockIndex(dir)
  const indexed = await index.blocks(NAME, original.length)
  t.same(indexed.map(b => [b.start, b.end]), blocks.map(b => [b.start, b.end]), 'the block index is the footer, taken at once')
})

t.test('summaries: no time, no block bounds; many apps, none listed', async t => {
  const noTime = Buffer.from('{"message":"no time"}\nnot json\n')
  t.same(summarise(noTime, noTime.length), { minTs: null, maxTs: null, levels: [0, 0, 0, 0, 0, 0], apps: [], appLevels: [] })
  const many = Buffer.from(Array.from({ length: 70 }, (_, i) => `{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a${i}"}\n`).join(''))
  t.same(summarise(many, many.length).apps, [], 'more apps than a summary holds: none, so nothing is skipped by app')
  const dir = journalDir(noTime)
  await compactSegment(dir, NAME)
  t.same(await new BlockIndex(dir).blocks(NAME, noTime.length), [], 'a block without times is not a search candidate')
})

t.test('a changed byte fails its block checksum; a torn or foreign file is refused by name', async t => {
  const original = journalBytes(200)
  const dir = journalDir(original)
  await compactSegment(dir, NAME, 4096)
  const z = join(dir, NAME + '.z')
  const good = readFileSync(z)

  const flipped = Buffer.from(good)
  flipped[20]! ^= 0xff // inside block 0's compressed bytes
  writeFileSync(z, flipped)
  const before = damagedSegments().count
  const f = await openSegment(dir, NAME)
  const into = Buffer.alloc(100)
  t.equal(await f.read(into, 0, 100, 0), 100)
  t.same(into, Buffer.alloc(100, 10), 'never misread: the damaged block reads as blank lines')
  await f.close()
  t.equal(damagedSegments().count, before + 1, 'reported')
  t.match(damagedSegments().last, /checksum|not a readable|Decompression|invalid|corrupt/i)

  for (const [what, bytes, reason] of [
    ['torn', good.subarray(0, good.length - 5), /magic at its end/],
    ['footer changed', Buffer.concat([good.subarray(0, good.length - 30), Buffer.from('x'), good.subarray(good.length - 29)]), /footer checksum/],
    ['too short', good.subarray(0, 6), /magic at its start/],
    ['not ours', Buffer.from('hello world, this is not a compacted segment at all'), /magic at its start/]
  ] as const) {
    writeFileSync(z, bytes)
    const fh = await open(z, 'r')
    await t.rejects(readFooter(fh, z), reason, what)
    await fh.close()
    const seg = await openSegment(dir, NAME)
    t.equal(seg.size, 0, `${what}: reads as an empty segment`)
    t.equal(await seg.read(Buffer.alloc(10), 0, 10, 0), 0)
    t.same(seg.blocks(), [])
    t.same(await seg.summaries(), [])
    await seg.close()
  }

  // Whole when opened, torn before its summaries are asked for: none, and reported.
  writeFileSync(z, good)
  const opened = await openSegment(dir, NAME, { cacheFooter: false })
  t.ok(opened.blocks()!.length > 0, 'opened whole')
  writeFileSync(z, good.subarray(0, good.length - 5))
  t.same(await opened.summaries(), [], 'a footer torn since: no summaries')
  await opened.close()

  const newer = Buffer.from(good)
  newer[7] = FORMAT_VERSION + 1
  newer[newer.length - 1] = FORMAT_VERSION + 1
  writeFileSync(z, newer)
  const newerFh = await open(z, 'r')
  const err = await readFooter(newerFh, z).catch((e: Error) => e)
  await newerFh.close()
  t.type(err, FormatError)
  t.match((err as Error).message, `format version ${FORMAT_VERSION + 1} at its start; this collector reads versions 1 to ${FORMAT_VERSION} (upgrade it)`, 'an unknown version is refused, never guessed at')
})

t.test('start-up: a .tmp is deleted; both forms keep the whole .z; a damaged .z goes when the NDJSON is there', async t => {
  const original = journalBytes(100)
  const dir = journalDir(original)
  await compactSegment(dir, NAME, 4096)
  const z = join(dir, NAME + '.z')
  const good = readFileSync(z)

  // The crash after the rename, before the unlink: both forms.
  writeFileSync(join(dir, NAME), original)
  const second = 'maap-20260101T000001Z-000002.ndjson'
  writeFileSync(join(dir, second + '.z.tmp'), good.subarray(0, 50))
  writeFileSync(join(dir, 'notes.z.tmp'), 'not ours')
  let r = await recoverCompactions(dir)
  t.same({ partial: r.partial, finished: r.finished, corrupt: r.corrupt, compacted: r.compacted }, { partial: 1, finished: 1, corrupt: [], compacted: [NAME] })
  t.same(readdirSync(dir).sort(), [NAME + '.z', 'notes.z.tmp'], 'the NDJSON went, the .tmp went, other files stay')

  // A torn .z beside its NDJSON: the .z goes, the NDJSON is the segment.
  writeFileSync(join(dir, NAME), original)
  writeFileSync(z, good.subarray(0, good.length - 3))
  r = await recoverCompactions(dir)
  t.equal(r.corrupt.length, 1)
  t.equal(r.corrupt[0]!.kept, false)
  t.ok(existsSync(join(dir, NAME)) && !existsSync(z), 'the NDJSON kept')

  // A .z whose NDJSON is a different size: not the same segment, the .z goes.
  writeFileSync(z, good)
  writeFileSync(join(dir, NAME), original.subarray(0, 100))
  r = await recoverCompactions(dir)
  t.match(r.corrupt[0]!.reason, /holds \d+ bytes, the NDJSON 100/)

  // A damaged .z alone: the only copy, kept and reported.
  writeFileSync(z, good.subarray(0, good.length - 3))
  truncateSync(join(dir, NAME), 0)
  const { unlinkSync } = await import('node:fs')
  unlinkSync(join(dir, NAME))
  r = await recoverCompactions(dir)
  t.same(r.corrupt.map(c => c.kept), [true])
  t.ok(existsSync(z + '.damaged') && !existsSync(z), 'renamed .z.damaged: kept, never listed')
  t.same(await listSegments(dir), [])
  t.same(await recoverCompactions(join(dir, 'missing')), { partial: 0, finished: 0, corrupt: [], compacted: [] })
})

t.test('retention and expiry see a compacted segment by its logical name; openSegment without either form', async t => {
  const original = journalBytes(50)
  const dir = journalDir(original)
  const mtime = statSync(join(dir, NAME)).mtime
  await compactSegment(dir, NAME)
  t.equal(statSync(join(dir, NAME + '.z')).mtime.getTime(), mtime.getTime(), 'the age is the segment\'s, not the compaction\'s')
  const policy = new RetentionPolicy([], 30)
  const e = await segmentExpiry(join(dir, NAME), policy)
  t.equal(e.events.reduce((a, b) => a + b, 0), 51, 'expiry reads every event of the compacted form')

  const old = new Date(Date.now() - 10 * 86_400_000)
  utimesSync(join(dir, NAME + '.z'), old, old)
  const deleted = await cleanupSegments({ dir, olderThanDays: 1, mongoConfigured: false, current: 'maap-20990101T000000Z-000001.ndjson', onError: () => t.fail('no error') })
  t.same(deleted, [NAME])
  t.same(readdirSync(dir), [], 'the compacted file is gone')
  t.equal(await openSegmentIfExists(dir, NAME), undefined)
  t.equal(await segmentSize(dir, NAME), 0)
  await t.rejects(openSegment(dir, NAME), { code: 'ENOENT' })
})

t.test('the compactor: closed segments only, oldest first, in its worker; with MongoDB only confirmed ones', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-compactor-'))
  const names = [1, 2, 3].map(i => `maap-20260101T00000${i}Z-00000${i}.ndjson`)
  for (const n of names) writeFileSync(join(dir, n), journalBytes(30))
  let confirmed: string | undefined
  const errors: string[] = []
  const c = new JournalCompactor({
    dir, segments: () => names, current: () => names[2]!, confirmedBefore: () => confirmed, workerFile: WORKER, intervalMs: 20, onError: (s, e) => errors.push(`${s}: ${e.message}`)
  })
  t.teardown(() => c.stop())
  await c.recover()
  c.start()
  await poll(() => c.status().recovered.partial === 0) // started, nothing confirmed: nothing to do
  t.equal(c.status().segments, 0, 'nothing confirmed in MongoDB: nothing compacted')
  confirmed = names[1]
  await poll(() => c.status().segments === 1)
  t.same(readdirSync(dir).sort(), [names[0] + '.z', names[1], names[2]], 'only what the drain confirmed')
  confirmed = names[2]
  await poll(() => c.status().segments === 2)
  t.same(readdirSync(dir).sort(), [names[0] + '.z', names[1] + '.z', names[2]], 'never the segment being written')
  const s = c.status()
  t.ok(s.bytes_out > 0 && s.bytes_out < s.bytes_in, 'bytes in and out counted')
  t.same(errors, [])
})

t.test('the compactor counts a segment it could not compact and leaves it NDJSON', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-compactor-'))
  const names = ['maap-20260101T000001Z-000001.ndjson', 'maap-20260101T000002Z-000002.ndjson']
  mkdirSync(join(dir, names[0]!)) // names[0] is listed but cannot be read (a segment that is gone is no failure: see compacted-retention)
  writeFileSync(join(dir, names[1]!), 'x\n')
  const errors: string[] = []
  const c = new JournalCompactor({ dir, segments: () => names, current: () => names[1]!, confirmedBefore: undefined, workerFile: WORKER, onError: s => errors.push(s) })
  t.teardown(() => c.stop())
  c.start()
  await poll(() => c.status().errors === 1)
  t.same(errors, [names[0]])
  t.match(c.status().last_error, /EISDIR/)
  c.kick()
  t.equal(c.status().running, false, 'not tried again')
})

t.test('a compaction worker that dies does not take its replacement\'s request with it', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-compactor-'))
  const names = [1, 2, 3].map(i => `maap-20260101T00000${i}Z-00000${i}.ndjson`)
  for (const n of names) writeFileSync(join(dir, n), journalBytes(30))
  // The first worker throws on its first message ('error', then 'exit' a moment later); the next is the real one.
  const flaky = join(dir, 'flaky-worker.js')
  writeFileSync(flaky, `
    const { existsSync, writeFileSync } = require('node:fs')
    const { parentPort } = require('node:worker_threads')
    const marker = ${JSON.stringify(join(dir, 'thrown'))}
    if (existsSync(marker)) require(${JSON.stringify(WORKER)})
    else parentPort.on('message', () => { writeFileSync(marker, ''); throw new Error('boom') })
  `)
  const errors: string[] = []
  const c = new JournalCompactor({ dir, segments: () => names, current: () => names[2]!, confirmedBefore: undefined, workerFile: flaky, intervalMs: 20, onError: (s, e) => errors.push(`${s}: ${e.message}`) })
  t.teardown(() => c.stop())
  c.start()
  await poll(() => c.status().segments === 1 && !c.status().running)
  t.equal(errors.length, 1, 'only the dead worker\'s segment failed')
  t.match(errors[0], new RegExp(`^${names[0]!.replace(/\./g, '\\.')}: the compaction worker stopped: boom`))
  t.ok(existsSync(join(dir, names[1]! + '.z')), 'the replacement compacted the next segment')
})

t.test('a reader that opens each file once keeps no footer (maap-logs export over a large LOG_DIR)', async t => {
  const bytes = journalBytes(40)
  const dir = journalDir(bytes)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await compactSegment(dir, NAME, 4096)
  const before = cachedFooters()
  const once = await openSegment(dir, NAME, { cacheFooter: false })
  const back = Buffer.alloc(once.size)
  t.equal(await once.read(back, 0, back.length, 0), bytes.length, 'read whole')
  await once.close()
  t.equal(back.equals(bytes), true, 'the original bytes')
  t.equal(cachedFooters(), before, 'no footer kept')
  const kept = await openSegment(dir, NAME)
  await kept.close()
  t.equal(cachedFooters(), before + 1, 'the default keeps it for the next open')
})
