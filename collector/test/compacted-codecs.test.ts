// The codecs of a compacted file's streams (journal/compacted/codecs.ts): the lines, columns and vars
// deflated, the template counts brotli'd, each block naming its codec; files whose streams are brotli
// (written before deflate) read the same, on the main thread and in a scan thread; a stream that does not
// shrink is stored; small streams decode inline, larger ones on zlib's thread pool, the same bytes either
// way; a codec the reader does not know is refused by name. And a segment read compacted once is opened
// in that form first.
import t from 'tap'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { CODEC_BROTLI, CODEC_DEFLATE, CODEC_STORED, INLINE_DECODE_BYTES, decode, decodeSync, encode, knownCodec } from '../src/journal/compacted/codecs'
import { FORMAT_VERSION, FormatError, footerBytes, parseFooter, type Footer, type FooterBlock } from '../src/journal/compacted/format'
import { openSegment } from '../src/journal/segment-file'
import { ColumnQuery } from '../src/read/columns'
import { candidates } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import { pick, type PickedLines } from '../src/read/scan-worker'
import { NOW, answers, firstDiff, journalOf, writeSegments } from './columns-data'
import { footerOf } from './compacted-helpers'


/** Every original byte of segment `name` in `dir`, read through openSegment (the main thread's async decode). */
async function bytesOf (dir: string, name: string): Promise<Buffer> {
  const f = await openSegment(dir, name)
  try {
    const out = Buffer.alloc(f.size)
    for (let at = 0; at < f.size;) {
      const n = await f.read(out, at, f.size - at, at)
      if (n === 0) break
      at += n
    }
    return out
  } finally {
    await f.close()
  }
}

t.test('lines, columns and vars are deflated; brotli ones (older files) read the same everywhere', async t => {
  const base = mkdtempSync(join(tmpdir(), 'maap-codecs-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const names = writeSegments(base)
  const want = await answers(journalOf(base, names))
  const dirs = { deflate: join(base, 'deflate'), brotli: join(base, 'brotli') }
  for (const [codec, dir] of Object.entries(dirs)) {
    mkdirSync(dir)
    for (const n of names) {
      copyFileSync(join(base, n), join(dir, n))
      await compactSegment(dir, n, 16 * 1024, true, FORMAT_VERSION, codec === 'deflate' ? CODEC_DEFLATE : CODEC_BROTLI)
    }
  }
  for (const [codec, dir] of Object.entries(dirs)) {
    const blocks = (await Promise.all(names.map(async n => (await footerOf(join(dir, `${n}.z`))).blocks))).flat()
    t.ok(blocks.length > 10, `${codec}: ${blocks.length} blocks`)
    t.ok(blocks.every(b => b.codec === (codec === 'deflate' ? CODEC_DEFLATE : CODEC_BROTLI)), `${codec}: every block's lines so`)
    // (A small block's columns or vars may not shrink: then stored.)
    const streams = blocks.flatMap(b => [b.cols!.codec, b.vars!.codec])
    const written = codec === 'deflate' ? CODEC_DEFLATE : CODEC_BROTLI
    t.ok(streams.every(c => c === written || c === CODEC_STORED), `${codec}: columns and vars ${codec} or stored`)
    t.ok(streams.filter(c => c === written).length > streams.length / 2, `${codec}: most ${codec}`)
    t.ok(blocks.every(b => b.tcounts!.codec === CODEC_BROTLI || b.tcounts!.codec === CODEC_STORED), `${codec}: template counts brotli or stored`)
    for (const n of names) t.ok((await bytesOf(dir, n)).equals(readFileSync(join(base, n))), `${codec}: ${n} reads back byte for byte`)
    // (Deflate lines, the default, are held to the NDJSON by every other compacted test's answers.)
    if (codec === 'brotli') t.equal(firstDiff(await answers(journalOf(dir, names)), want), undefined, 'brotli: every search, count and histogram as over the NDJSON')
  }
  // A scan thread's picks (its synchronous decode) are the same from either file.
  const lines = (p: PickedLines | undefined): string[] | undefined =>
    p === undefined ? undefined : [...p.ends].map((end, k) => p.lines.toString('utf8', k === 0 ? 0 : p.ends[k - 1], end))
  let picked = 0
  for (const text of ['timeout', '30']) {
    const q = parseReadQuery({ q: text }, { now: NOW })
    const cq = ColumnQuery.of(q)!
    const picks: Array<Array<string[] | undefined>> = []
    for (const dir of Object.values(dirs)) {
      const items = (await candidates(await journalOf(dir, names).sources(), q, false))
        .map(c => ({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset }))
      picks.push(items.map(it => lines(pick(cq, it))))
    }
    t.ok(picks[0]!.every(p => p !== undefined), `${text}: every candidate picked in the thread`)
    t.same(picks[0], picks[1], `${text}: the same lines picked from deflate and brotli lines`)
    picked += picks[0]!.reduce((n, p) => n + (p?.length ?? 0), 0)
  }
  t.ok(picked > 100, `${picked} lines picked`)
})

t.test('each codec round-trips, sync and async; bytes that do not shrink are stored', async t => {
  const text = Buffer.from('{"level":"info","app_name":"api","message":"timeout after 30s"}\n'.repeat(200))
  for (const kind of ['lines', 'columns', 'vars', 'tcounts'] as const) {
    const { codec, data } = encode(kind, text)
    t.equal(codec, kind === 'tcounts' ? CODEC_BROTLI : CODEC_DEFLATE, `${kind}: its codec`)
    t.ok(data.length < text.length / 10, `${kind}: ${text.length} → ${data.length} bytes`)
    t.ok(decodeSync(codec, data, text.length).equals(text), `${kind}: decoded in a thread`)
    t.ok((await decode(codec, data, text.length)).equals(text), `${kind}: decoded on the thread pool`)
  }
  const noise = randomBytes(4096)
  for (const kind of ['lines', 'columns'] as const) {
    const { codec, data } = encode(kind, noise)
    t.equal(codec, CODEC_STORED, `${kind}: random bytes stored`)
    t.ok(decodeSync(codec, data, noise.length).equals(noise) && (await decode(codec, data, noise.length)).equals(noise), `${kind}: stored bytes read as they are`)
  }
  t.ok([CODEC_STORED, CODEC_BROTLI, CODEC_DEFLATE].every(knownCodec) && !knownCodec(3) && !knownCodec('1'), 'known codecs: 0, 1, 2 and no others')
})

t.test('a stream up to INLINE_DECODE_BYTES decodes inline, a larger one on the thread pool: the same bytes', async t => {
  const text = (n: number): Buffer => Buffer.from(Array.from({ length: Math.ceil(n / 40) }, (_, i) => `line ${i * 7919 % 100003} timeout\n`).join('').slice(0, n))
  for (const size of [200, INLINE_DECODE_BYTES - 1, INLINE_DECODE_BYTES, INLINE_DECODE_BYTES + 1, 4 * INLINE_DECODE_BYTES]) {
    const bytes = text(size)
    for (const kind of ['lines', 'tcounts'] as const) {
      const { codec, data } = encode(kind, bytes)
      t.not(codec, CODEC_STORED, `${size} bytes of ${kind}: compressed`)
      // A pool's answer comes back as a callback of the event loop, never within the microtasks of one turn.
      let settled = false
      const decoding = decode(codec, data, size).then(out => { settled = true; return out })
      for (let i = 0; i < 5; i++) await Promise.resolve()
      t.equal(settled, size <= INLINE_DECODE_BYTES, `${size} bytes of ${kind}: ${size <= INLINE_DECODE_BYTES ? 'inline' : 'on the pool'}`)
      const out = await decoding
      t.ok(out.equals(bytes) && out.equals(decodeSync(codec, data, size)), `${size} bytes of ${kind}: the bytes`)
    }
  }
})

t.test('a segment read compacted once is opened compacted first; gone, its NDJSON name is tried again', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-codecs-'))
  const [name] = writeSegments(dir)
  const original = readFileSync(join(dir, name!))
  await compactSegment(dir, name!, 16 * 1024)
  t.ok((await bytesOf(dir, name!)).equals(original), 'read from the compacted form')
  // Both forms never differ in the journal; here they do, to show which one is opened.
  writeFileSync(join(dir, name!), 'x\n')
  t.ok((await bytesOf(dir, name!)).equals(original), 'the compacted form, first')
  rmSync(join(dir, `${name!}.z`))
  t.equal((await bytesOf(dir, name!)).toString(), 'x\n', 'its compacted form gone: the NDJSON one')
  rmSync(join(dir, name!))
  await t.rejects(openSegment(dir, name!), { code: 'ENOENT' }, 'neither: ENOENT')
})

t.test('a footer naming a codec this reader does not know is refused by name', async t => {
  const block = { start: 0, end: 10, at: 8, length: 10, codec: 3, crc: 0, minTs: null, maxTs: null, levels: [0, 0, 0, 0, 0, 0], apps: [] }
  const check = (b: object): Footer => {
    const json = footerBytes({ size: 10, blocks: [b as FooterBlock] }, FORMAT_VERSION).subarray(0, -16)
    return parseFooter('f', json, crc32(json), 8 + 10 + json.length + 16, FORMAT_VERSION)
  }
  t.throws(() => check(block), FormatError)
  t.throws(() => check(block), /f: not a readable compacted segment \(block at 0 has unknown codec 3\)/)
  t.throws(() => check({ ...block, codec: CODEC_DEFLATE, cols: { at: 8, length: 1, codec: 3, size: 1, crc: 0 } }), /malformed cols/, 'columns with an unknown codec')
  t.equal(check({ ...block, codec: CODEC_DEFLATE }).blocks[0]!.codec, CODEC_DEFLATE, 'deflate lines: taken')
  const stream = { at: 8, length: 1, codec: CODEC_BROTLI, size: 1, crc: 0 }
  t.throws(() => check({ ...block, codec: CODEC_DEFLATE, cols: stream, tcounts: stream }), /malformed tcounts/, 'template counts without vars')
  t.equal(check({ ...block, codec: CODEC_DEFLATE, cols: stream, cut: 5, vars: stream, tcounts: stream }).blocks[0]!.tcounts!.size, 1, 'beside vars: taken')
})
