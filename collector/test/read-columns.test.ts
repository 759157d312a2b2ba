// The columns of compacted blocks (read/columns.ts) and the count / search fast paths over them, held to the
// slow paths: on generated segments (escapes, \u, non-ASCII, İ, K, lines without the head, messages absent or
// not strings, more apps than a block summary keeps, every level, lines past RETENTION_RULES), histograms,
// counts and searches answer the same over (a) NDJSON, (b) compacted without columns (an older footer),
// (c) compacted with columns, and (d) compacted with columns under a block index built while the segments
// were NDJSON (its blocks cut elsewhere than the footer's), each with and without RETENTION_RULES, and
// (e) compacted in format 2 (messages in the columns, not templates: a file an older collector wrote), and
// (f) in format 3 (the lines in one stream, not in pieces by template). The messages and texts hold digits in every
// position (format 3 keeps digit runs apart from its templates). The codec round-trips, and damaged columns
// are reported and read from the lines instead.
import t from 'tap'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { FormatError, parseFooter, footerBytes, type Footer } from '../src/journal/compacted/format'
import { damagedSegments, openSegment, readColumnBytes, readFooter } from '../src/journal/segment-file'
import { COL_APP, COL_HEAD, COL_MESSAGE, ColumnQuery, NO_APP, decodeColumns, encodeColumns, isoMs } from '../src/read/columns'
import { ExpiryFilter } from '../src/read/expiry'
import { parseReadQuery } from '../src/read/query'
import { RetentionPolicy } from '../src/retention/policy'
import { parseRetentionRules } from '../src/retention/rules'
import { CANONICAL_LEVELS } from '../src/normalise/levels'
import { blockBuffers } from '../src/read/block-buffers'
import { ColumnReader } from '../src/read/column-scan'
import { candidates } from '../src/read/journal-search'
import { poll } from '../../test/support/poll'
import { histogram, histogramRange } from '../src/read/aggregate'
import { DAY, MANY_APP, NOW, answers, firstDiff, journalOf, writeSegments } from './columns-data'

t.test('counts, histograms and searches answer the same over NDJSON, old compacted, and columns', async t => {
  const base = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const dirs = ['ndjson', 'old', 'cols', 'late', 'v2', 'v3'].map(d => join(base, d))
  const { mkdirSync } = await import('node:fs')
  for (const d of dirs) mkdirSync(d)
  const names = writeSegments(dirs[0]!)
  for (const d of dirs.slice(1)) for (const n of names) copyFileSync(join(dirs[0]!, n), join(d, n))
  for (const n of names) {
    await compactSegment(dirs[1]!, n, 16 * 1024, false)
    await compactSegment(dirs[2]!, n, 16 * 1024, true)
    await compactSegment(dirs[4]!, n, 16 * 1024, true, 2)
    await compactSegment(dirs[5]!, n, 16 * 1024, true, 3)
  }
  // The generated segments are small (SEGMENT_LINES): the cases they are there for, asserted present.
  const lines = names.flatMap(n => readFileSync(join(dirs[0]!, n), 'utf8').split('\n').slice(0, -1))
  const parsed = lines.flatMap(l => { try { return [JSON.parse(l) as Record<string, unknown>] } catch { return [] } })
  const kinds = {
    'not JSON': lines.length - parsed.length,
    'a bad time': parsed.filter(e => Number.isNaN(Date.parse(e.timestamp as string))).length,
    'no _id': parsed.filter(e => e._id === undefined).length,
    'no head': lines.filter(l => l.startsWith('{"_id"')).length,
    'a message not a string': parsed.filter(e => e.message !== undefined && typeof e.message !== 'string').length,
    'no message': parsed.filter(e => e.message === undefined).length,
    'an app not a string': parsed.filter(e => e.app_name !== undefined && typeof e.app_name !== 'string').length,
    'no app': parsed.filter(e => e.app_name === undefined).length
  }
  for (const [kind, n] of Object.entries(kinds)) t.ok(n > 0, `lines with ${kind}: ${n}`)
  t.same(new Set(parsed.map(e => String(e.level).toUpperCase())), new Set(CANONICAL_LEVELS), 'every level')
  const many = parsed.filter(e => e.app_name === MANY_APP).map(e => NOW - Date.parse(e.timestamp as string))
  t.ok(many.some(age => age > 8 * DAY) && many.some(age => age < 8 * DAY), `${MANY_APP} has lines on both sides of its 8-day rule`)
  for (const n of names) {
    const fh = await open(join(dirs[2]!, `${n}.z`), 'r')
    const footer = await readFooter(fh, n)
    await fh.close()
    t.ok(footer.blocks.length >= 4, `${n}: ${footer.blocks.length} blocks`)
    t.ok(footer.blocks.some(b => b.pieces! > 1), `${n}: blocks of several pieces (format 4), the most ${Math.max(...footer.blocks.map(b => b.pieces!))}`)
    if (n === names[0]) t.ok(footer.blocks.some(b => b.appLevels === null), 'a block with more apps than a summary keeps')
  }
  const rules = (): ExpiryFilter => new ExpiryFilter(new RetentionPolicy(parseRetentionRules(`app=api:3d, level=DEBUG|TRACE:5d, app=${MANY_APP}:8d`, 'RETENTION_RULES')!, 30), () => NOW)
  for (const expiry of [undefined, rules()]) {
    const label = expiry === undefined ? 'no rules' : 'RETENTION_RULES'
    const want = await answers(journalOf(dirs[0]!, names, expiry))
    t.equal(firstDiff(await answers(journalOf(dirs[1]!, names, expiry)), want), undefined, `${label}: compacted without columns`)
    t.equal(firstDiff(await answers(journalOf(dirs[2]!, names, expiry)), want), undefined, `${label}: compacted with columns`)
    // Formats 2 and 3 differ from 4 in how a block's messages and lines are stored, not in the time, level
    // and app columns the rules are decided on (and a block with lines past a rule is read from its lines,
    // as every search's hits are): they are held to the NDJSON without the rules.
    if (expiry === undefined) {
      t.equal(firstDiff(await answers(journalOf(dirs[4]!, names, expiry)), want), undefined, `${label}: compacted with columns, format 2 (no templates)`)
      t.equal(firstDiff(await answers(journalOf(dirs[5]!, names, expiry)), want), undefined, `${label}: compacted with columns, format 3 (the lines in one stream)`)
    }
    // (d): the index learns the segments as NDJSON, then they are compacted under it.
    const late = journalOf(dirs[3]!, names, expiry)
    if (expiry === undefined) {
      t.equal(firstDiff(await answers(late), want), undefined, `${label}: NDJSON, indexed`)
      for (const n of names) await compactSegment(dirs[3]!, n, 16 * 1024, true)
    }
    t.equal(firstDiff(await answers(late), want), undefined, `${label}: compacted under an index built from NDJSON`)
    t.ok((want as Array<{ count: number }>).some(a => a.count > 100), 'the queries do count things')
  }
  t.equal(damagedSegments().count, 0, 'nothing read as damaged')
})

t.test('the columns decide most lines, and what they decide is what the line holds', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const [name] = writeSegments(dir)
  const buf = readFileSync(join(dir, name!))
  const cols = decodeColumns(encodeColumns(buf, buf.length), buf.length)
  const lines = buf.toString('utf8').split('\n').slice(0, -1)
  t.equal(cols.n, lines.length, 'a row per line')
  let head = 0
  let app = 0
  let message = 0
  for (let i = 0; i < cols.n; i++) {
    if (buf.toString('utf8', cols.starts[i], cols.starts[i + 1]! - 1) !== lines[i]) t.fail(`line ${i}: its bytes`)
    const flags = cols.flags[i]!
    if ((flags & COL_HEAD) !== 0) {
      head++
      const e = JSON.parse(lines[i]!)
      if (cols.ms[i] !== Date.parse(e.timestamp) || CANONICAL_LEVELS[cols.level[i]!] !== e.level) t.fail(`line ${i}: time or level`)
      if ((flags & COL_APP) !== 0 && cols.app[i] !== NO_APP) {
        app++
        if (cols.apps[cols.app[i]!]!.toString('utf8') !== e.app_name) t.fail(`line ${i}: app`)
      }
      if ((flags & COL_MESSAGE) !== 0) {
        message++
        const text = cols.messages!.toString('utf8', cols.messageStarts![i], cols.messageStarts![i + 1]! - 1)
        if (text !== e.message) t.fail(`line ${i}: message`)
      }
    } else if ((flags & COL_MESSAGE) === 0 && cols.messageStarts![i + 1]! - cols.messageStarts![i]! !== 1) t.fail(`line ${i}: a message it may not hold`)
  }
  t.ok(head > cols.n * 0.9, `${head} of ${cols.n} with the head`)
  t.ok(app > cols.n * 0.4 && message > cols.n * 0.2, `${app} apps and ${message} messages in place`)
})

t.test('columns that do not fit their block are refused', async t => {
  const buf = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"m","_id":"1"}\n')
  const cols = encodeColumns(buf, buf.length)
  t.throws(() => decodeColumns(cols, buf.length + 1), /./, 'another block length')
  t.throws(() => decodeColumns(cols.subarray(0, 8), buf.length), /./, 'no header')
  t.throws(() => decodeColumns(cols.subarray(0, 20), buf.length), /./, 'cut short')
  const moreMessage = Buffer.concat([cols, Buffer.from('x\n')])
  t.throws(() => decodeColumns(moreMessage, buf.length), /./, 'a message column longer than its lines')
  const lessMessage = cols.subarray(0, cols.length - 1)
  t.throws(() => decodeColumns(lessMessage, buf.length), /./, 'a message column that ends early')
  const badLevel = Buffer.from(cols)
  badLevel[16 + 14] = 9
  t.throws(() => decodeColumns(badLevel, buf.length), /./, 'a level that is none')
  const badApp = Buffer.from(cols)
  badApp.writeUInt16LE(5, 16 + 12)
  t.throws(() => decodeColumns(badApp, buf.length), /./, 'an app not in the dictionary')
  const badLength = Buffer.from(cols)
  badLength.writeUInt32LE(0, 16 + 4)
  t.throws(() => decodeColumns(badLength, buf.length), /./, 'a message length that misses its newline')
  const badDict = Buffer.from(cols)
  badDict.writeUInt32LE(1, 4)
  t.throws(() => decodeColumns(badDict, buf.length), /./, 'a dictionary that overruns')
  // A buffer at an odd place in memory still decodes (copied to an aligned one).
  const odd = Buffer.alloc(cols.length + 1)
  cols.copy(odd, 1)
  t.equal(decodeColumns(odd.subarray(1), buf.length).n, 1)
  t.equal(ColumnQuery.of(parseReadQuery({ q: 'café' })), undefined, 'a non-ASCII text is left to the lines')
  t.equal(ColumnQuery.of({ ...parseReadQuery({}), from: '+012345-01-01T00:00:00.000Z' }), undefined, 'a bound the ms do not compare like text')
  t.equal(ColumnQuery.of({ ...parseReadQuery({}), text: 'a\nb' }), undefined, 'a text with a control character')
})

// Version 1 files: their lines are whole without the columns (in version 2 damaged columns damage the
// lines too, compacted-splice.test.ts).
t.test('damaged columns of a version 1 file: reported once, and the block is read from its lines', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const names = writeSegments(dir)
  const name = names[0]!
  const want = await answers(journalOf(dir, [name]))
  await compactSegment(dir, name, 16 * 1024, true, 1)
  const path = join(dir, `${name}.z`)
  const fh = await open(path, 'r')
  const footer = await readFooter(fh, path)
  await fh.close()
  const victim = footer.blocks[2]!
  const bytes = readFileSync(path)
  bytes[victim.cols!.at + 3] = bytes[victim.cols!.at + 3]! ^ 0xff
  writeFileSync(path, bytes)
  const before = damagedSegments().count
  const f = await openSegment(dir, name)
  t.equal(await f.columns(victim.start, victim.end), undefined, 'no columns for the damaged block')
  t.ok(await f.columns(footer.blocks[1]!.start, footer.blocks[1]!.end), 'the others still there')
  t.equal(await f.columns(victim.start, victim.end - 1), undefined, 'no block is exactly that range')
  await t.rejects(readColumnBytes(await open(path, 'r'), path, victim), FormatError)
  await f.close()
  t.equal(damagedSegments().count, before + 1, 'reported')
  t.equal(firstDiff(await answers(journalOf(dir, [name])), want), undefined, 'every answer as over the NDJSON')
})

t.test('a footer with malformed cols is refused', async t => {
  const footer: Footer = {
    size: 10,
    blocks: [{ start: 0, end: 10, at: 8, length: 10, codec: 0, crc: 0, minTs: null, maxTs: null, levels: [0, 0, 0, 0, 0, 0], apps: [], cols: { at: 8, length: 10_000, codec: 0, size: 1, crc: 0 } }]
  }
  const foot = footerBytes(footer)
  const json = foot.subarray(0, foot.length - 16)
  const { crc32 } = await import('node:zlib')
  t.throws(() => parseFooter('f', json, crc32(json), 8 + 10 + foot.length), /malformed cols/)
  footer.blocks[0]!.cols = { at: 8, length: 1, codec: 7, size: 1, crc: 0 }
  const again = footerBytes(footer).subarray(0, -16)
  t.throws(() => parseFooter('f', again, crc32(again), 8 + 10 + foot.length), /malformed cols/)
})

t.test('a compacted segment lists its columns', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const [name] = writeSegments(dir)
  await compactSegment(dir, name!, 64 * 1024)
  const files = readdirSync(dir)
  t.ok(files.includes(`${name!}.z`))
  const path = join(dir, `${name!}.z`)
  const fh = await open(path, 'r')
  const footer = await readFooter(fh, path)
  await fh.close()
  t.ok(footer.blocks.every(b => b.cols !== undefined && b.cols.size > 0), 'every block has columns')
})


t.test('times the columns take only as the text compares', async t => {
  const ms = (iso: string): number => isoMs(Buffer.from(iso, 'latin1'), 0)
  t.equal(ms('2024-02-29T23:59:59.999Z'), Date.parse('2024-02-29T23:59:59.999Z'), 'a leap day')
  t.equal(ms('2000-02-29T00:00:00.000Z'), Date.parse('2000-02-29T00:00:00.000Z'), 'a leap day in a year divisible by 400')
  for (const bad of ['2023-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-04-31T00:00:00.000Z',
    '2026-01-01T24:00:00.000Z', '2026-01-01T00:60:00.000Z', '2026-01-01T00:00:60.000Z', '1969-12-31T23:59:59.999Z',
    '2026-01-01 00:00:00.000Z', '2026-01-01T00:00:00,000Z', '2026-0a-01T00:00:00.000Z', '2026-01-00T00:00:00.000Z', '2026-01-01T00:00:00.000+']) {
    t.ok(Number.isNaN(ms(bad)), `${bad} is left to the line`)
  }
  // Two lines 30 days apart in one block: the second's delta does not fit, so its time is left undecided.
  const lines = ['2026-01-01T00:00:00.000Z', '2026-01-31T00:00:00.000Z', '2026-01-31T00:00:01.000Z']
    .map((ts, i) => `{"timestamp":"${ts}","level":"INFO","app_name":"a","message":"m${i}","_id":"${i}"}`)
  const buf = Buffer.from(lines.join('\n') + '\n')
  const cols = decodeColumns(encodeColumns(buf, buf.length), buf.length)
  t.same([...cols.flags].map(f => (f & COL_HEAD) !== 0), [true, false, false], 'no time once a jump does not fit (the base stays the last time that did)')
  t.equal(cols.ms[0], Date.parse(lines[0]!.slice(14, 38)))
  // A last line without its newline (never in a closed segment) still gets its row.
  const cut = buf.subarray(0, buf.length - 1)
  t.equal(decodeColumns(encodeColumns(cut, cut.length), cut.length).n, 3)
})

t.test('lines the columns leave undecided: an unknown level, a string that does not end', async t => {
  const lines = [
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"VERBOSE","app_name":"a","message":"m","_id":"1"}',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"no end'
  ]
  const buf = Buffer.from(lines.join('\n') + '\n')
  const cols = decodeColumns(encodeColumns(buf, buf.length), buf.length)
  t.same([...cols.flags], [COL_APP | COL_MESSAGE, COL_HEAD, COL_HEAD | COL_APP], 'no head for an unknown level; no app or message that does not end')
})

t.test('columns of a version 1 file that pass their checksum but do not decode: the block is read from its lines', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const [name] = writeSegments(dir)
  const want = await answers(journalOf(dir, [name!]))
  await compactSegment(dir, name!, 16 * 1024, true, 1)
  const path = join(dir, `${name!}.z`)
  const fh = await open(path, 'r')
  const footer = structuredClone(await readFooter(fh, path))
  const size = (await fh.stat()).size
  await fh.close()
  // Block 1's columns, stored, claiming one line more than the block has; a new footer that points at them.
  const bytes = readFileSync(path)
  const jsonLength = bytes.readUInt32LE(size - 16)
  const dataEnd = size - 16 - jsonLength
  const victim = footer.blocks[1]!
  const f = await openSegment(dir, name!)
  const cols = Buffer.from((await f.columns(victim.start, victim.end))!)
  await f.close()
  cols.writeUInt32LE(cols.readUInt32LE(0) + 1, 0)
  const { crc32 } = await import('node:zlib')
  victim.cols = { at: dataEnd, length: cols.length, codec: 0, size: cols.length, crc: crc32(cols) }
  writeFileSync(path, Buffer.concat([bytes.subarray(0, dataEnd), cols, footerBytes(footer, 1)]))
  const before = damagedSegments().count
  t.equal(firstDiff(await answers(journalOf(dir, [name!])), want), undefined, 'every answer as over the NDJSON')
  // A writer bug, not silence: reported once (as a damaged file), however many queries met it.
  t.equal(damagedSegments().count, before + 1, 'reported once')
  t.match(damagedSegments().last, /do not decode/, 'with why')
})

t.test('a count reads the lines its columns leave undecided into the pool\'s buffers, and gives them back', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const names = writeSegments(dir)
  for (const n of names) await compactSegment(dir, n, 16 * 1024, true)
  // (The answers are the NDJSON's: the first test.) Counted on the process's own pool: every take it lends is seen, none of it faked.
  const take = blockBuffers.take.bind(blockBuffers)
  let takes = 0
  blockBuffers.take = () => { takes++; return take() }
  t.teardown(() => { blockBuffers.take = take })
  const before = { lent: blockBuffers.lent, created: blockBuffers.created }
  // '"timeout"' and 'timeout' leave lines with quotes and escapes undecided, in block after block.
  for (const q of ['timeout', '"timeout"']) {
    const all = parseReadQuery({ q, from: new Date(NOW - 12 * DAY).toISOString() }, { now: NOW })
    takes = 0
    const count = await histogram(journalOf(dir, names), undefined, all, histogramRange(all, 1, NOW))
    t.ok(count.total > 0, `${q}: counted ${count.total}`)
    t.ok(takes > 3, `${q}: ${takes} scratch buffers taken from the pool`)
    t.equal(blockBuffers.lent, before.lent, `${q}: all given back`)
  }
  t.ok(blockBuffers.created <= before.created + 2, `${blockBuffers.created - before.created} buffers allocated for every block`)
})

t.test('a column reader that moves across segments keeps nothing of the files it closed', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-columns-'))
  const names = writeSegments(dir)
  for (const n of names) await compactSegment(dir, n, 16 * 1024, true)
  const q = parseReadQuery({ q: 'timeout' }, { now: NOW })
  const found = await candidates(await journalOf(dir, names).sources(), q, false)
  t.equal(new Set(found.map(c => c.block.segment)).size, names.length, 'candidates in every segment')
  const reader = new ColumnReader()
  let read = 0
  for (let i = 0; i < found.length; i++) if (await reader.read(found[i]!, found.slice(i + 1)) !== undefined) read++
  t.equal(read, found.length, 'every candidate read from its columns')
  // Settled closes are dropped as they settle: what is left is the file still held open, closed here.
  await poll(() => reader['closing'].size === 0)
  await reader.close()
  t.equal(reader['closing'].size, 0)
})
