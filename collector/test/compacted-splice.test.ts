// Format 2: a block's timestamps and messages stored once, in its columns, and spliced back into its lines
// on read. Every form a compaction can write (lines only, version 1 with columns, versions 2 to 4) at several block
// sizes reads back byte for byte, whatever the lines hold (escapes, non-ASCII, İ, K, empty or missing
// messages, lines without the head, times that do not fit, messages at block edges); damaged columns
// damage their block's lines (blank lines, reported); a footer that claims cut lines where it cannot is
// refused; version 1 files are still read.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { crc32 } from 'node:zlib'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { FORMAT_VERSION, FORMAT_VERSION_2, FORMAT_VERSION_3, FORMAT_VERSION_4, FormatError, footerBytes, parseFooter, type Footer } from '../src/journal/compacted/format'
import { catSegment, damagedSegments, openSegment, readBlockBytes, readColumnBytes, readFooter } from '../src/journal/segment-file'
import { COL_HEAD, COL_MESSAGE, ColumnsError, decodeColumns, encodeBlock, spliceLines, toHostOrder } from '../src/read/columns'
import { damagedBlockReads } from './compacted-helpers'

const NAME = 'maap-20260101T000000Z-000001.ndjson'
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']
const MESSAGES = ['plain', '', 'say \\"hi\\"', 'new\\nline', 'Café ☕', 'İstanbul', 'ki\u212aled', 'emoji 🙂', 'back\\\\slash',
  'unicode \\u0041', 'x'.repeat(300), 'a,"message":"b']

/** Journal lines as the collector writes them, and the odd ones the splice must leave alone. */
function journalLines (n: number, seed: number): string[] {
  const lines: string[] = []
  let ms = Date.UTC(2026, 0, 1, 23, 59, 58)
  for (let i = 0; i < n; i++) {
    ms += (i * 7919 + seed) % 1500 // crosses seconds, minutes, hours and a day
    const ts = new Date(ms).toISOString()
    const level = LEVELS[(i + seed) % 6]!
    const message = MESSAGES[(i * 3 + seed) % MESSAGES.length]!
    switch ((i + seed) % 11) {
      case 0: lines.push(`{"timestamp":"${ts}","level":"${level}","message":"${message}","_id":"${i}"}`); break // no app_name
      case 1: lines.push(`{"timestamp":"${ts}","level":"${level}","app_name":"we\\"b","message":"${message}"}`); break // app with an escape
      case 2: lines.push(`{"timestamp":"${ts}","level":"VERBOSE","app_name":"a","message":"${message}"}`); break // unknown level
      case 3: lines.push(`{"timestamp":"2026-02-30T00:00:00.000Z","level":"${level}","app_name":"a","message":"${message}"}`); break // no such day
      case 4: lines.push(`{"level":"${level}","timestamp":"${ts}","message":"${message}"}`); break // an older collector's line
      case 5: lines.push(`{"timestamp":"${ts}","level":"${level}","app_name":"caf\u00e9","message":${i}}`); break // not a string
      case 6: lines.push(`{"timestamp":"${new Date(ms + 40 * 86_400_000).toISOString()}","level":"${level}","app_name":"a","message":"jump"}`); break // a delta that does not fit
      case 7: lines.push(''); break
      default: lines.push(`{"timestamp":"${ts}","level":"${level}","app_name":"app-${i % 3}","message":"${message}","n":${i}}`)
    }
  }
  return lines
}

function journalDir (bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'maap-splice-'))
  writeFileSync(join(dir, NAME), bytes)
  return dir
}

async function catOf (dir: string): Promise<Buffer> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  await catSegment(dir, NAME, out)
  return Buffer.concat(chunks)
}

async function footerOf (dir: string): Promise<Footer> {
  const path = join(dir, NAME + '.z')
  const fh = await open(path, 'r')
  try {
    return await readFooter(fh, path)
  } finally {
    await fh.close()
  }
}

t.test('every form at every block size reads back byte for byte; versions 2 to 5 cut every block', async t => {
  const original = Buffer.from(journalLines(600, 1).join('\n') + '\n')
  const sizes: Record<string, number> = {}
  for (const [form, columns, version] of [['lines', false, 2], ['v1', true, 1], ['v2', true, 2], ['v3', true, 3], ['v4', true, 4], ['v5', true, 5]] as const) {
    for (const blockBytes of [256, 4096, 64 * 1024]) {
      const dir = journalDir(original)
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      const r = await compactSegment(dir, NAME, blockBytes, columns, version)
      if (blockBytes === 4096) sizes[form] = r.bytesOut
      t.ok((await catOf(dir)).equals(original), `${form}, ${blockBytes}-byte blocks: the original bytes`)
      const head = readFileSync(join(dir, NAME + '.z')).subarray(0, 8)
      const cut = form === 'v2' || form === 'v3' || form === 'v4' || form === 'v5'
      const templated = form === 'v3' || form === 'v4' || form === 'v5'
      const pieced = form === 'v4' || form === 'v5'
      t.equal(head[7], form === 'v5' ? FORMAT_VERSION : form === 'v4' ? FORMAT_VERSION_4 : form === 'v3' ? FORMAT_VERSION_3 : cut ? FORMAT_VERSION_2 : 1, `${form}: version ${head[7]!}`)
      const footer = await footerOf(dir)
      t.equal(footer.blocks.every(b => b.cut !== undefined), cut, `${form}: cut blocks ${cut ? 'everywhere' : 'nowhere'}`)
      t.equal(footer.blocks.every(b => b.vars !== undefined), templated, `${form}: vars ${templated ? 'everywhere' : 'nowhere'}`)
      t.equal(footer.blocks.every(b => (b.pieces ?? 0) >= 1), pieced, `${form}: lines in pieces ${pieced ? 'everywhere' : 'nowhere'}`)
      t.equal(footer.blocks.every(b => b.cols !== undefined), columns, `${form}: columns ${columns ? 'everywhere' : 'nowhere'}`)
      // Reads that start and end mid-line, mid-message and across blocks.
      const f = await openSegment(dir, NAME)
      for (let at = 0; at < original.length; at += 997) {
        const into = Buffer.alloc(1500)
        const n = await f.read(into, 0, into.length, at)
        t.ok(into.subarray(0, n).equals(original.subarray(at, at + 1500)), `${form}: bytes at ${at}`)
      }
      await f.close()
    }
  }
  t.ok(sizes.v2! < sizes.v1!, `version 2 smaller than version 1 with columns: ${sizes.v2!} < ${sizes.v1!}`)
})

t.test('the splice puts back exactly what was cut, for any lines (generated)', async t => {
  const line = fc.oneof(
    fc.record({
      ms: fc.integer({ min: 0, max: 253_402_300_799_999 }),
      level: fc.constantFrom(...LEVELS, 'VERBOSE'),
      app: fc.option(fc.oneof(fc.constantFrom('a', 'billing', 'we\\"b'), fc.string({ maxLength: 6 })), { nil: undefined }),
      message: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }).map(s => JSON.stringify(s).slice(1, -1)), fc.constant('')),
      rest: fc.constantFrom('', ',"n":1', ',"message":"again"')
    }).map(l => `{"timestamp":"${new Date(l.ms).toISOString()}","level":"${l.level}",${l.app === undefined ? '' : `"app_name":"${l.app}",`}"message":"${l.message}"${l.rest}}`),
    fc.string({ maxLength: 60 }).filter(s => !s.includes('\n'))
  )
  fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 40 }), lines => {
    const buf = Buffer.from(lines.join('\n') + '\n')
    const { columns, lines: cut } = encodeBlock(buf, buf.length)
    const out = Buffer.alloc(buf.length)
    spliceLines(decodeColumns(columns, buf.length), cut, out)
    return out.equals(buf)
  }), { numRuns: 300 })
  t.pass('300 generated blocks spliced back')
})

t.test('what is cut: the timestamp of a HEAD line, the message of a MESSAGE line, nothing of the others', async t => {
  const lines = [
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"hello","n":1}',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"say \\"hi\\"","n":2}',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"VERBOSE","message":"","n":3}',
    'not json'
  ]
  const buf = Buffer.from(lines.join('\n') + '\n')
  const { columns, lines: cut } = encodeBlock(buf, buf.length)
  const c = decodeColumns(columns, buf.length)
  t.same([...c.flags].map(f => [(f & COL_HEAD) !== 0, (f & COL_MESSAGE) !== 0]), [[true, true], [true, false], [false, true], [false, false]])
  t.equal(cut.toString(), [
    '{"timestamp":"","level":"INFO","app_name":"a","message":"","n":1}',
    '{"timestamp":"","level":"INFO","app_name":"a","message":"say \\"hi\\"","n":2}',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"VERBOSE","message":"","n":3}',
    'not json'
  ].join('\n') + '\n')
})

t.test('cut lines that do not fit their columns are refused, never misread', async t => {
  const buf = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"hello"}\nplain\n')
  const { columns, lines: cut } = encodeBlock(buf, buf.length)
  const c = decodeColumns(columns, buf.length)
  const refused = (lines: Buffer, size: number, what: string): void => {
    try {
      spliceLines(c, lines, Buffer.alloc(size))
      t.fail(`${what}: spliced`)
    } catch (err) {
      t.type(err, ColumnsError, what)
    }
  }
  refused(cut, buf.length - 1, 'a block of another size')
  refused(Buffer.concat([cut, Buffer.from('x')]), buf.length, 'more lines than the columns')
  refused(cut.subarray(0, cut.length - 3), buf.length, 'fewer lines than the columns')
  refused(Buffer.alloc(cut.length, 0x20), buf.length, 'no message where the flags say')
  // Lines that fit but are not the ones cut: spliced into other bytes, which the block's crc then refuses.
  for (const [from, to] of [['"message":"', '"massage":"'], ['"app_name":"a"', '"app_name":"aa']]) {
    const out = Buffer.alloc(buf.length)
    try {
      spliceLines(c, Buffer.from(cut.toString().replace(from!, to!)), out)
      t.not(out.toString(), buf.toString(), `${to!}: other bytes than the original`)
    } catch (err) {
      t.type(err, ColumnsError, `${to!}: refused`)
    }
  }
})

t.test('damaged columns in version 2: the block reads as blank lines, reported; the others read', async t => {
  const original = Buffer.from(journalLines(300, 2).join('\n') + '\n')
  const dir = journalDir(original)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await compactSegment(dir, NAME, 4096)
  const path = join(dir, NAME + '.z')
  const footer = await footerOf(dir)
  const victim = footer.blocks[2]!
  const bytes = readFileSync(path)
  bytes[victim.cols!.at + 3] = bytes[victim.cols!.at + 3]! ^ 0xff
  writeFileSync(path, bytes)
  const before = damagedSegments().count
  const f = await openSegment(dir, NAME)
  t.equal(await f.columns(victim.start, victim.end), undefined, 'no columns for the damaged block')
  await damagedBlockReads(t, f, footer.blocks, 2, original)
  await f.close()
  t.equal(damagedSegments().count, before + 1, 'reported once')
  const fh = await open(path, 'r')
  await t.rejects(readBlockBytes(fh, path, victim), FormatError, 'the block itself is refused')
  await fh.close()
})

t.test('stored lines that do not fit their columns: the block is damaged', async t => {
  const original = Buffer.from(journalLines(200, 3).join('\n') + '\n')
  const dir = journalDir(original)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await compactSegment(dir, NAME, 4096)
  const path = join(dir, NAME + '.z')
  const footer = structuredClone(await footerOf(dir))
  const fh = await open(path, 'r')
  const block = footer.blocks[1]!
  await t.rejects(readBlockBytes(fh, path, { ...block, cut: block.cut! + 1 }), /does not fit its columns/, 'a cut size the lines do not have')
  // Columns a reader had decoded already (a scan) are used, not read again: the right ones splice, another block's do not.
  const first = footer.blocks[0]!
  const cols = await readColumnBytes(fh, path, first)
  t.ok((await readBlockBytes(fh, path, first, cols)).equals(original.subarray(0, first.end)), 'with its own columns')
  await t.rejects(readBlockBytes(fh, path, block, cols), FormatError, 'with another block\'s columns')
  await fh.close()
})

t.test('a footer that claims cut lines where it cannot is refused', async t => {
  const block = { start: 0, end: 10, at: 8, length: 10, codec: 0, crc: 0, minTs: null, maxTs: null, levels: [0, 0, 0, 0, 0, 0], apps: [] }
  const cols = { at: 8, length: 1, codec: 0, size: 1, crc: 0 }
  const refuse = (b: Footer['blocks'][number], version: number, what: string): void => {
    const json = footerBytes({ size: 10, blocks: [b] }, version).subarray(0, -16)
    t.throws(() => parseFooter('f', json, crc32(json), 8 + 10 + json.length + 16, version), /malformed cut/, what)
  }
  refuse({ ...block, cols, cut: 5 }, 1, 'cut in a version 1 file')
  refuse({ ...block, cut: 5 }, 2, 'cut without columns')
  refuse({ ...block, cols, cut: 11 }, 2, 'cut longer than the block')
  refuse({ ...block, cols, cut: -1 }, 2, 'a negative cut')
  refuse({ ...block, cols, cut: 1.5 }, 2, 'a cut that is not whole')
  const json = footerBytes({ size: 10, blocks: [{ ...block, cols, cut: 5 }] }).subarray(0, -16)
  t.equal(parseFooter('f', json, crc32(json), 8 + 10 + json.length + 16).blocks[0]!.cut, 5, 'version 2 with columns: taken')
})

t.test('a file whose start and end name different versions is refused', async t => {
  const original = Buffer.from(journalLines(50, 4).join('\n') + '\n')
  const dir = journalDir(original)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await compactSegment(dir, NAME, 4096)
  const path = join(dir, NAME + '.z')
  const bytes = readFileSync(path)
  bytes[7] = 1
  writeFileSync(path, bytes)
  const fh = await open(path, 'r')
  await t.rejects(readFooter(fh, path), new RegExp(`format version 1 at its start, ${FORMAT_VERSION} at its end`))
  await fh.close()
})

t.test('a big-endian host turns the columns to its byte order: every fixed field reads back as written', async t => {
  // This machine is little-endian; what a big-endian host's typed arrays read is the big-endian value of
  // the same bytes. After toHostOrder, each 32-bit and 16-bit field read big-endian must be what the
  // little-endian writer stored.
  const lines = Array.from({ length: 50 }, (_, i) =>
    `{"timestamp":"${new Date(Date.UTC(2026, 0, 1) + i * 997).toISOString()}","level":"${LEVELS[i % 6]!}","app_name":"app-${i % 7}","message":"event ${i} ${'x'.repeat(i)}"}`)
  const buf = Buffer.from(lines.join('\n') + '\n')
  const { columns } = encodeBlock(buf, buf.length)
  const n = columns.readUInt32LE(0)
  const HEADER = 16
  const le32 = Array.from({ length: 3 * n }, (_, i) => columns.readUInt32LE(HEADER + 4 * i))
  const le16 = Array.from({ length: n }, (_, i) => columns.readUInt16LE(HEADER + 12 * n + 2 * i))
  const host = Buffer.from(columns)
  toHostOrder(host, n)
  t.same(Array.from({ length: 3 * n }, (_, i) => host.readUInt32BE(HEADER + 4 * i)), le32, 'lengths, message lengths, time deltas')
  t.same(Array.from({ length: n }, (_, i) => host.readUInt16BE(HEADER + 12 * n + 2 * i)), le16, 'app indexes')
  t.ok(host.subarray(HEADER + 14 * n).equals(columns.subarray(HEADER + 14 * n)), 'levels, flags, dictionary and messages untouched')
  t.ok(host.subarray(0, HEADER).equals(columns.subarray(0, HEADER)), 'the header is read with explicit byte order, untouched')
})
