// Format 3's message templates (read/templates.ts, read/columns.ts): what the templates and vars hold; the
// three ways a text is tested — templates alone, messages rebuilt from templates + vars, the format 2
// message column — held to each other and to the parse on the generated segments (digit runs everywhere,
// texts with and without digits); a block of more templates than 16 bits index; vars that do not fit, or
// are damaged on disk (the block's lines read blank, reported once, as damaged columns); footers that
// claim vars where they cannot be; a scan thread's picks and counts the same over format 2 and 3.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { FORMAT_VERSION, FORMAT_VERSION_2, footerBytes, parseFooter, type Footer, type FooterBlock } from '../src/journal/compacted/format'
import { catSegment, damagedSegments, openSegment, readBlockBytes, readVarsBytes } from '../src/journal/segment-file'
import { histogram, histogramRange } from '../src/read/aggregate'
import { COL_HEAD, COL_MESSAGE, ColumnQuery, ColumnsError, decodeColumns, encodeBlock, encodeColumns, spliceLines, toHostOrder, withVars, type Columns } from '../src/read/columns'
import { parseReadQuery } from '../src/read/query'
import { candidates } from '../src/read/journal-search'
import { pick, run, type PickedLines, type ScanItem } from '../src/read/scan-worker'
import { MARKER, TemplateWriter, VAR_LENGTHS } from '../src/read/templates'
import { DAY, NOW, answers, firstDiff, journalOf, writeSegments } from './columns-data'
import { damagedBlockReads, footerOf } from './compacted-helpers'

const TEXTS = ['timeout', 'TIME', 'out', 'x', ' ', 'caf', 'ms', 'req', '30', 'timeout 30', '0', '00', '7 t', 'out9', '2026-12', '1234567890123', 't1', 'e9', 'p4', 'x t']

/** A word of letters alone, a different one for each i (a template of its own). */
const word = (i: number): string => i.toString(26).replace(/[0-9a-p]/g, d => String.fromCharCode(0x61 + parseInt(d, 26)))

/** Whether `fn` throws a ColumnsError. */
function throwsColumns (t: { type: (v: unknown, c: unknown, m: string) => void }, fn: () => unknown, what: string): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  t.type(err, ColumnsError, what)
}

/** The lines a scan of [0, n) calls a match and the ones it leaves undecided. */
function scanned (cq: ColumnQuery, c: Columns): { match: number[], undecided: number[] } {
  const match: number[] = []
  const undecided: number[] = []
  cq.scan(c, 0, c.n, 0, i => match.push(i), i => undecided.push(i))
  return { match: match.sort((a, b) => a - b), undecided: undecided.sort((a, b) => a - b) }
}

t.test('a template is the message with each digit run one marker; the runs go to the vars in order', async t => {
  const w = new TemplateWriter()
  const add = (m: string): number => {
    const b = Buffer.from(m)
    return w.add(b, 0, b.length)
  }
  t.equal(add('007 a12b 3'), 0)
  t.equal(add('9 a0b 42'), 0, 'another message of the same template')
  t.equal(add(''), 1, 'the empty message')
  t.equal(add('123'), 2, 'digits alone')
  t.equal(add('é9é'), 3, 'non-ASCII beside digits')
  t.equal(add('ctrl \u0001 7'), -1, 'a control byte: not templated')
  t.equal(add('a12b'), 4)
  const m = String.fromCharCode(MARKER)
  t.equal(w.templates().toString('latin1'), Buffer.from(`${m} a${m}b ${m}\n\n${m}\né${m}é\na${m}b\n`).toString('latin1'))
  t.equal(w.variables().toString(), '007,12,3,9,0,42,123,9,12,', 'the refused message left nothing')
  t.equal(w.count, 5)
  // Templates whose hashes are the same (FNV-1a, found by a search): told apart by their bytes.
  t.same(['hckdow', 'kmkfnm', 'whamhww', 'nrsas', 'hckdow', 'nrsas'].map(add), [5, 6, 7, 8, 5, 8], 'equal hashes, other templates')
  // Many templates: the hash table grows and still finds each one again.
  const ids = Array.from({ length: 5000 }, (_, i) => add(`w${word(i)} 1`))
  t.same(Array.from({ length: 5000 }, (_, i) => add(`w${word(i)} 2`)), ids, 'found again')
  t.equal(new Set(ids).size, 5000)
})

t.test('templates alone, rebuilt messages, the message column and the parse agree on every line and text', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let digits = 0
  for (const name of writeSegments(dir)) {
    const buf = readFileSync(join(dir, name))
    const v2 = decodeColumns(encodeColumns(buf, buf.length), buf.length)
    const { columns, vars } = encodeBlock(buf, buf.length, true)
    const only = decodeColumns(columns, buf.length)
    const full = decodeColumns(columns, buf.length, vars)
    t.equal(only.messages, undefined, 'without vars: no messages')
    t.ok(full.messages!.equals(v2.messages!), 'the rebuilt message column is format 2\'s byte for byte')
    t.same([...full.messageStarts!], [...v2.messageStarts!])
    t.same([...full.flags], [...v2.flags], 'the same lines decided')
    t.ok(only.templates!.starts.length - 1 < v2.n / 2, `${only.templates!.starts.length - 1} templates for ${v2.n} lines`)
    const lines = buf.toString('utf8').split('\n')
    for (const text of TEXTS) {
      const cq = ColumnQuery.of(parseReadQuery({ q: text }))!
      t.equal(cq.needsMessages(), /[0-9]/.test(text), `${text}: needs the messages`)
      const want = scanned(cq, v2)
      t.same(scanned(cq, full), want, `${text}: rebuilt messages as the column`)
      if (cq.needsMessages()) throwsColumns(t, () => scanned(cq, only), `${text}: templates alone cannot answer`)
      else t.same(scanned(cq, only), want, `${text}: templates alone as the column`)
      // And the column as the parse: a decided line matches exactly when its message holds the text.
      for (let i = 0; i < v2.n; i++) {
        if ((v2.flags[i]! & (COL_HEAD | COL_MESSAGE)) !== (COL_HEAD | COL_MESSAGE)) continue
        const message = JSON.parse(lines[i]!).message as string
        if (message.toLowerCase().includes(text.toLowerCase()) !== want.match.includes(i)) t.fail(`${text}: line ${i} ${message}`)
        if (/[0-9]/.test(message)) digits++
      }
    }
  }
  t.ok(digits > 1000, `${digits} decided messages with digits tested`)
})

t.test('any lines splice back through templates and vars (generated)', async t => {
  const piece = fc.oneof(fc.stringMatching(/^[0-9]{1,30}$/), fc.string({ maxLength: 6 }), fc.constantFrom('é', '🙂', '\\"', '\\n', ' ', 'x'))
  const message = fc.array(piece, { maxLength: 8 }).map(p => JSON.stringify(p.join('')).slice(1, -1))
  const line = fc.tuple(fc.integer({ min: 0, max: 4_000_000_000_000 }), message, fc.constantFrom('', ',"n":12')).map(([ms, m, rest]) =>
    `{"timestamp":"${new Date(ms).toISOString()}","level":"INFO","app_name":"a1","message":"${m}"${rest}}`)
  fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), fc.boolean(), (lines, lengths) => {
    const buf = Buffer.from(lines.join('\n') + '\n')
    const { columns, lines: cut, vars } = encodeBlock(buf, buf.length, true, lengths)
    const out = Buffer.alloc(buf.length)
    spliceLines(decodeColumns(columns, buf.length, vars), cut, out)
    return out.equals(buf)
  }), { numRuns: 300 })
  t.pass('300 generated blocks spliced back')
  const buf = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"m1"}\n')
  const { columns, lines: cut } = encodeBlock(buf, buf.length, true)
  throwsColumns(t, () => spliceLines(decodeColumns(columns, buf.length), cut, Buffer.alloc(buf.length)), 'no splice without the vars')
})

t.test('a partial rebuild (some lines only) gives those lines\' messages as the whole one, every place and length, with the vars\' lengths (format 5) or without (generated)', async t => {
  const piece = fc.oneof(fc.stringMatching(/^[0-9]{1,12}$/), fc.string({ maxLength: 5 }), fc.constantFrom('é', ' ', 'x'))
  const message = fc.array(piece, { maxLength: 6 }).map(p => JSON.stringify(p.join('')).slice(1, -1))
  const line = fc.oneof(message.map(m => `{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a1","message":"${m}"}`), fc.constant('{"n":1}'))
  fc.assert(fc.property(fc.array(fc.tuple(line, fc.boolean()), { minLength: 1, maxLength: 30 }), fc.boolean(), (picked, lengths) => {
    const buf = Buffer.from(picked.map(([l]) => l).join('\n') + '\n')
    const { columns, vars } = encodeBlock(buf, buf.length, true, lengths)
    // The whole rebuild of the stream without lengths: what the lengths' shortcut is held to.
    const whole = decodeColumns(columns, buf.length, encodeBlock(buf, buf.length, true).vars)
    const only = Uint8Array.from(picked.map(([, p]) => p ? 1 : 0))
    const some = withVars(decodeColumns(columns, buf.length), vars!, only)
    if (!Buffer.from(some.messageStarts!).equals(Buffer.from(whole.messageStarts!))) return false
    if (lengths && !decodeColumns(columns, buf.length, vars).messages!.equals(whole.messages!)) return false
    return picked.every(([, p], i) => !p || some.messages!.subarray(some.messageStarts![i], some.messageStarts![i + 1]).equals(whole.messages!.subarray(whole.messageStarts![i], whole.messageStarts![i + 1])))
  }), { numRuns: 400 })
  t.pass('400 generated blocks')
  const buf = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"m1 2"}\n{"n":1}\n')
  const { columns, vars } = encodeBlock(buf, buf.length, true, true)
  t.same([...vars!], [VAR_LENGTHS, 4, 0, ...Buffer.from('1,2,')], 'format 5: the tag, each line\'s vars bytes, the runs')
  const none = new Uint8Array(2)
  const all = Uint8Array.of(1, 1)
  throwsColumns(t, () => withVars(decodeColumns(columns, buf.length), Buffer.from('1,'), none), 'a skipped line whose runs are short')
  throwsColumns(t, () => withVars(decodeColumns(columns, buf.length), Buffer.from('1,,'), none), 'a skipped line with an empty run')
  throwsColumns(t, () => withVars(decodeColumns(columns, buf.length), Buffer.from('1,2,3,'), none), 'vars left over past the skipped line')
  const lengths = (...bytes: number[]): Buffer => Buffer.from([VAR_LENGTHS, ...bytes])
  const refused: Array<[Buffer, string]> = [
    [Buffer.concat([lengths(4), Buffer.from('1,2,')]), 'lengths for fewer lines than the block'],
    [Buffer.concat([lengths(0x84), Buffer.from('1,2,')]), 'a length whose varint does not end'],
    [Buffer.concat([lengths(3, 0), Buffer.from('1,2,')]), 'a length shorter than the runs'],
    [Buffer.concat([lengths(5, 0), Buffer.from('1,2,3')]), 'a length longer than the runs'],
    [Buffer.concat([lengths(2, 0), Buffer.from('1,')]), 'a length too short for the template\'s runs'],
    [Buffer.concat([lengths(4, 1), Buffer.from('1,2,')]), 'vars for a line without a template'],
    [Buffer.concat([lengths(4, 0), Buffer.from('1,2,3,')]), 'runs left over past the lengths']
  ]
  for (const [bad, what] of refused) {
    throwsColumns(t, () => withVars(decodeColumns(columns, buf.length), bad, none), `${what}, the line skipped`)
    throwsColumns(t, () => withVars(decodeColumns(columns, buf.length), bad, all), `${what}, the line rebuilt`)
  }
})

t.test('templates and vars that do not fit each other are refused', async t => {
  const buf = Buffer.from([
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"m1 2"}',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"n"}',
    '{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"m3 4"}'
  ].join('\n') + '\n')
  const { columns, vars } = encodeBlock(buf, buf.length, true)
  t.equal(vars!.toString(), '1,2,3,4,')
  const refuse = (cols: Buffer, v: Buffer | undefined, what: string): void => { throwsColumns(t, () => decodeColumns(cols, buf.length, v), what) }
  refuse(columns, Buffer.from('1,2,3,'), 'vars short of a run')
  refuse(columns, Buffer.from('1,2,3,4,5,'), 'vars with a run too many')
  refuse(columns, Buffer.from('1,2,,3,4,'), 'an empty run')
  refuse(columns, Buffer.from('1,2,3,4x'), 'a run that does not end')
  refuse(columns, Buffer.from(''), 'no vars at all')
  const n = 3
  const header = 24
  const templateAt = header + 8 * n
  const badIndex = Buffer.from(columns)
  badIndex.writeUInt16LE(7, templateAt)
  refuse(badIndex, vars, 'a template index past the dictionary')
  const moreCount = Buffer.from(columns)
  moreCount.writeUInt32LE(3, 16)
  refuse(moreCount, vars, 'a count the dictionary does not hold')
  const lessCount = Buffer.from(columns)
  lessCount.writeUInt32LE(1, 16)
  refuse(lessCount, vars, 'a dictionary longer than its count')
  const longer = Buffer.concat([columns, Buffer.from('x\n')])
  refuse(longer, vars, 'bytes past the dictionary')
  refuse(columns.subarray(0, 20), vars, 'a header cut short')
  // Markers side by side (no message makes them): more markers than bytes to rebuild.
  const one = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","message":"1 2"}\n')
  const single = encodeBlock(one, one.length, true)
  const crowded = Buffer.from(single.columns)
  crowded[crowded.length - 3] = MARKER
  t.throws(() => decodeColumns(crowded, one.length, Buffer.alloc(0)), /vars shorter than their templates/, 'markers side by side')
  refuse(columns.subarray(0, columns.length - 1), vars, 'a dictionary cut short')
})

t.test('a message with a raw control byte (no JSON writer makes one) is not templated: it stays in its line', async t => {
  const buf = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","level":"INFO","app_name":"a","message":"a\u0001 7"}\n')
  t.ok(buf.includes(1), 'the raw byte is there')
  const { columns, lines, vars } = encodeBlock(buf, buf.length, true)
  const c = decodeColumns(columns, buf.length, vars)
  t.equal(c.flags[0]! & COL_MESSAGE, 0, 'no message in the columns')
  t.equal(vars!.length, 0, 'nothing in the vars')
  const out = Buffer.alloc(buf.length)
  spliceLines(c, lines, out)
  t.ok(out.equals(buf), 'spliced back')
})

t.test('more templates than 16 bits index: 32-bit indexes, and everything still reads', async t => {
  // Tiny lines, each its own template (letters only, so no two are the same).
  const lines = Array.from({ length: 70_000 }, (_, i) =>
    `{"timestamp":"2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z","level":"INFO","message":"${word(i)}${i % 7 === 0 ? ' 42' : ''}"}`)
  const buf = Buffer.from(lines.join('\n') + '\n')
  const { columns, lines: cut, vars } = encodeBlock(buf, buf.length, true)
  const c = decodeColumns(columns, buf.length, vars)
  t.type(c.templates!.index, Uint32Array, 'wide indexes')
  t.equal(c.templates!.starts.length - 1, 70_000)
  const out = Buffer.alloc(buf.length)
  spliceLines(c, cut, out)
  t.ok(out.equals(buf), 'spliced back')
  const cq = ColumnQuery.of(parseReadQuery({ q: word(69_999) }))!
  t.same(scanned(cq, decodeColumns(columns, buf.length)).match, [69_999], 'the one template that holds the text')
  const digits = ColumnQuery.of(parseReadQuery({ q: `${word(69_993)} 42` }))!
  t.same(scanned(digits, c).match, [69_993], 'and a text with digits, from the rebuilt messages')
  // Through a file: one block of them, read back whole.
  const dir = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const name = 'maap-20260101T000000Z-000001.ndjson'
  writeFileSync(join(dir, name), buf)
  await compactSegment(dir, name, 8 * 1024 * 1024)
  const chunks: Buffer[] = []
  const sink = { write: (b: Buffer) => { chunks.push(b); return true }, once: () => {} } as unknown as NodeJS.WritableStream
  await catSegment(dir, name, sink)
  t.ok(Buffer.concat(chunks).equals(buf), 'the file reads back byte for byte')
})

t.test('a big-endian host turns templated columns to its byte order, whatever the widths of their sections', async t => {
  const line = (i: number, step: number, message: string): string =>
    `{"timestamp":"${new Date(Date.UTC(2026, 0, 1) + i * step).toISOString()}","level":"INFO","app_name":"a${i % 3}","message":"${message} ${i}"}`
  // [what, lines, 32-bit words per line, 16-bit halves per line]: lengths, deltas and template indexes take
  // 16 bits when all of the block's fit, and the 32-bit sections come first.
  const cases: Array<[string, string[], number, number]> = [
    ['all narrow', Array.from({ length: 40 }, (_, i) => line(i, 997, word(i % 5))), 0, 4],
    ['wide template indexes', Array.from({ length: 66_000 }, (_, i) => line(i, 997, word(i))), 1, 3],
    ['wide lengths and deltas', Array.from({ length: 40 }, (_, i) => line(i, 100_000, i === 7 ? 'x'.repeat(70_000) : word(i % 5))), 2, 2]
  ]
  for (const [what, lines, w32, w16] of cases) {
    const buf = Buffer.from(lines.join('\n') + '\n')
    const { columns, lines: cut, vars } = encodeBlock(buf, buf.length, true)
    const n = lines.length
    const H = 24
    const le32 = Array.from({ length: w32 * n }, (_, i) => columns.readUInt32LE(H + 4 * i))
    const at16 = H + 4 * w32 * n
    const le16 = Array.from({ length: w16 * n }, (_, i) => columns.readUInt16LE(at16 + 2 * i))
    const host = Buffer.from(columns)
    toHostOrder(host, n)
    // (Compared field by field: a failing t.same of 200,000 numbers would take minutes to print.)
    t.ok(le32.every((v, i) => host.readUInt32BE(H + 4 * i) === v), `${what}: 32-bit fields`)
    t.ok(le16.every((v, i) => host.readUInt16BE(at16 + 2 * i) === v), `${what}: 16-bit fields`)
    t.ok(host.subarray(at16 + 2 * w16 * n).equals(columns.subarray(at16 + 2 * w16 * n)), `${what}: levels, flags and dictionaries untouched`)
    const out = Buffer.alloc(buf.length)
    spliceLines(decodeColumns(columns, buf.length, vars), cut, out)
    t.ok(out.equals(buf), `${what}: spliced back`)
  }
})


t.test('a compacted file of format 3 holds vars beside its columns; format 2 still written on request', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const [a, b] = writeSegments(dir)
  await compactSegment(dir, a!, 16 * 1024)
  await compactSegment(dir, b!, 16 * 1024, true, FORMAT_VERSION_2)
  t.equal(readFileSync(join(dir, `${a!}.z`))[7], FORMAT_VERSION)
  t.equal(readFileSync(join(dir, `${b!}.z`))[7], FORMAT_VERSION_2)
  t.ok((await footerOf(join(dir, `${a!}.z`))).blocks.every(k => k.vars !== undefined && k.cut !== undefined), 'format 3: vars in every block')
  t.ok((await footerOf(join(dir, `${b!}.z`))).blocks.every(k => k.vars === undefined && k.cut !== undefined), 'format 2: none')
  const f = await openSegment(dir, b!)
  const first = f.blocks()![0]!
  t.equal(await f.vars(first.start, first.end), undefined, 'a format 2 block has no vars')
  await f.close()
})

t.test('damaged vars: the block\'s lines read blank, reported once; texts without digits still count from the templates', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const names = writeSegments(dir)
  const name = names[0]!
  const original = readFileSync(join(dir, name))
  await compactSegment(dir, name, 16 * 1024)
  const path = join(dir, `${name}.z`)
  const footer = await footerOf(path)
  const victim = footer.blocks[2]!
  t.ok(victim.vars!.length > 4, 'the victim has vars')
  const bytes = readFileSync(path)
  bytes[victim.vars!.at + 2] = bytes[victim.vars!.at + 2]! ^ 0xff
  writeFileSync(path, bytes)
  const before = damagedSegments().count
  const f = await openSegment(dir, name)
  t.equal(await f.vars(victim.start, victim.end), undefined, 'no vars for the damaged block')
  t.ok(await f.vars(footer.blocks[1]!.start, footer.blocks[1]!.end), 'the others still there')
  t.equal(await f.vars(victim.start, victim.end + 1), undefined, 'no block is exactly that range')
  t.ok(await f.columns(victim.start, victim.end), 'its columns are whole')
  await damagedBlockReads(t, f, footer.blocks, 2, original)
  await f.close()
  const fh = await open(path, 'r')
  await t.rejects(readVarsBytes(fh, path, victim), /vars of the block .* do not match the checksum of their stored bytes/)
  await t.rejects(readBlockBytes(fh, path, victim), /vars/, 'the block itself is refused')
  // Vars of another block: the crc of their stored bytes passes, the templates do not fit them.
  const other = await readVarsBytes(fh, path, footer.blocks[1]!)
  await t.rejects(readBlockBytes(fh, path, footer.blocks[3]!, undefined, other), /does not fit its columns/, 'another block\'s vars')
  await fh.close()
  t.equal(damagedSegments().count, before + 1, 'reported once')
  // A count of a text with digits reads the vars, meets the damage, and reads the (blank) lines: the
  // victim's lines are not counted. One without digits counts its decided lines from the templates, as a
  // count never saw damaged lines behind whole columns.
  const all = (q: string): ReturnType<typeof parseReadQuery> => parseReadQuery({ q, from: new Date(NOW - 12 * DAY).toISOString() }, { now: NOW })
  const count = async (q: string): Promise<number> => (await histogram(journalOf(dir, [name]), undefined, all(q), histogramRange(all(q), 1, NOW))).total
  const lines = original.subarray(victim.start, victim.end).toString().split('\n')
  const inVictim = (text: string): number => lines.filter(l => { try { return String(JSON.parse(l).message).toLowerCase().includes(text) } catch { return false } }).length
  const ndjson = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(ndjson, { recursive: true, force: true }))
  writeFileSync(join(ndjson, name), original)
  const want = async (q: string): Promise<number> => (await histogram(journalOf(ndjson, [name]), undefined, all(q), histogramRange(all(q), 1, NOW))).total
  t.ok(inVictim('30') > 0, 'the victim holds lines with the digits')
  t.equal(await count('30'), await want('30') - inVictim('30'), 'a text with digits: the damaged block counts nothing')
  // (Lines the columns leave undecided are read, blank, and not counted.)
  const timeout = await count('timeout')
  t.ok(timeout > await want('timeout') - inVictim('timeout') && timeout <= await want('timeout'), 'a text without digits: the victim\'s decided lines counted from the templates')
})

t.test('a footer that claims vars where they cannot be is refused', async t => {
  const block: FooterBlock = { start: 0, end: 10, at: 8, length: 10, codec: 0, crc: 0, minTs: null, maxTs: null, levels: [0, 0, 0, 0, 0, 0], apps: [] }
  const cols = { at: 8, length: 1, codec: 0, size: 1, crc: 0 }
  const check = (b: FooterBlock, version: number): Footer => {
    const json = footerBytes({ size: 10, blocks: [b] }, version).subarray(0, -16)
    return parseFooter('f', json, crc32(json), 8 + 10 + json.length + 16, version)
  }
  t.throws(() => check({ ...block, cols, cut: 5, vars: cols }, 2), /malformed vars/, 'vars in a format 2 file')
  t.throws(() => check({ ...block, cols, vars: cols }, 3), /malformed vars/, 'vars beside lines that are not cut')
  t.throws(() => check({ ...block, cols, cut: 5, vars: { ...cols, length: 10_000 } }, 3), /malformed vars/, 'vars past the data')
  t.equal(check({ ...block, cols, cut: 5, vars: cols }, 3).blocks[0]!.vars!.size, 1, 'format 3 with cut lines: taken')
})

t.test('the answers over format 3 are the NDJSON\'s, through a real search and count', async t => {
  const base = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const names = writeSegments(base)
  const want = await answers(journalOf(base, names))
  for (const n of names) await compactSegment(base, n, 64 * 1024)
  t.equal(firstDiff(await answers(journalOf(base, names)), want), undefined, 'every answer as over the NDJSON')
})

t.test('a scan thread picks and counts the same over format 2 and format 3, texts with and without digits', async t => {
  const base = mkdtempSync(join(tmpdir(), 'maap-templates-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const dirs = [join(base, 'v2'), join(base, 'v3')]
  const { copyFileSync, mkdirSync } = await import('node:fs')
  const names = writeSegments(base) // once: the _ids differ from one writing to the next
  for (const [k, dir] of dirs.entries()) {
    mkdirSync(dir)
    for (const n of names) {
      copyFileSync(join(base, n), join(dir, n))
      await compactSegment(dir, n, 16 * 1024, true, k === 0 ? FORMAT_VERSION_2 : FORMAT_VERSION)
    }
  }
  const lines = (p: PickedLines | undefined): Array<[string, number]> | undefined =>
    p === undefined ? undefined : [...p.ends].map((end, k) => [p.lines.toString('utf8', k === 0 ? 0 : p.ends[k - 1], end), p.undecided[k]!])
  const range = { fromMs: NOW - 12 * DAY, toMs: NOW, first: NOW - 12 * DAY, intervalMs: DAY, buckets: 12 }
  let picked = 0
  for (const text of ['timeout', 'TIME', '30', 'timeout 30', 'out9', '0']) {
    const q = parseReadQuery({ q: text }, { now: NOW })
    const cq = ColumnQuery.of(q)!
    const answers: Array<{ picks: unknown[], counts: number[] }> = []
    for (const dir of dirs) {
      const items: ScanItem[] = (await candidates(await journalOf(dir, names).sources(), q, false))
        .map(c => ({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset }))
      const picks = items.map(it => lines(pick(cq, it)))
      const done = await run(1, { text: q.text }, range, items)
      if (done.code !== 'done') throw new Error(`the count answered ${done.code}`)
      t.equal(done.fallback.length, 0, `${text}: every block read in the thread`)
      answers.push({ picks, counts: [...done.counts] })
      picked += picks.reduce((n, p) => n + (p?.length ?? 0), 0)
    }
    t.same(answers[1]!.picks, answers[0]!.picks, `${text}: the same lines picked`)
    t.same(answers[1]!.counts, answers[0]!.counts, `${text}: the same counts`)
  }
  t.ok(picked > 1000, `${picked} lines picked`)
})
