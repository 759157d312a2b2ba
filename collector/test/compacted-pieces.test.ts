// Format 4 (journal/compacted/pieces.ts): a block's cut lines stored in pieces grouped by message template.
// On real compacted segments (columns-data.ts: every kind of line, 16 KiB blocks): each template's lines lie
// in one piece, so the lines of one template are read by decoding that piece alone, and rebuilt byte for
// byte from it; all pieces back in line order are the block's cut lines. A table, a piece or a footer that
// does not fit is refused by name; a reader of the file sees such a block as damaged (blank, reported).
import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { decodeSync } from '../src/journal/compacted/codecs'
import { FormatError, footerBytes, parseFooter, type Footer, type FooterBlock } from '../src/journal/compacted/format'
import { PIECES_PER_BLOCK, inLineOrder, pieceTable, piecesHolding, placeLines, storedOrder } from '../src/journal/compacted/pieces'
import { damagedSegments, openSegment, readFooter } from '../src/journal/segment-file'
import { COL_MESSAGE, cutLength, decodeColumns, encodeBlock, spliceLine, type Columns } from '../src/read/columns'
import { compactedCopies } from './columns-data'
import { damagedBlockReads } from './compacted-helpers'

interface Read { block: FooterBlock, cols: Columns, stream: Buffer, original: Buffer }

/** The pieces' size in compactedCopies' 16 KiB blocks (compact-segment.ts: a 32nd of a block). */
const PIECE_BYTES = 16 * 1024 / PIECES_PER_BLOCK

/** Every block of the compacted copies, with its columns (and messages), its lines stream and its original bytes. */
async function blocksOf (dir: string, ndjson: string, names: string[]): Promise<Read[]> {
  const out: Read[] = []
  for (const n of names) {
    const path = join(dir, `${n}.z`)
    const fh = await open(path, 'r')
    const footer = await readFooter(fh, path)
    await fh.close()
    const file = readFileSync(path)
    const original = readFileSync(join(ndjson, n))
    for (const b of footer.blocks) {
      const stream = (at: number, length: number, codec: number, size: number): Buffer => decodeSync(codec, file.subarray(at, at + length), size)
      const cols = decodeColumns(stream(b.cols!.at, b.cols!.length, b.cols!.codec, b.cols!.size), b.end - b.start,
        stream(b.vars!.at, b.vars!.length, b.vars!.codec, b.vars!.size))
      out.push({ block: b, cols, stream: file.subarray(b.at, b.at + b.length), original: original.subarray(b.start, b.end) })
    }
  }
  return out
}

const templateOf = (c: Columns, i: number): number => (c.flags[i]! & COL_MESSAGE) !== 0 ? c.templates!.index[i]! : -1

t.test('each template\'s lines lie in one piece: decoding it alone rebuilds them byte for byte', async t => {
  const { base, ndjson, cols: dir, names } = await compactedCopies('maap-pieces-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const blocks = await blocksOf(dir, ndjson, names)
  t.ok(blocks.every(b => b.block.pieces! >= 1), 'every block in pieces')
  t.ok(blocks.filter(b => b.block.pieces! > 2).length > blocks.length / 2, `most blocks in three pieces or more (${blocks.map(b => b.block.pieces).join(' ')})`)
  let partial = 0
  let big = 0
  for (const { block: b, cols: c, stream, original } of blocks) {
    const table = pieceTable(stream)
    t.equal(table.lines.length, b.pieces, 'the table has the footer\'s pieces')
    const order = storedOrder(c, table)
    // Pieces hold whole templates: no template in two pieces. One of half a piece or more starts its piece.
    const pieceOf = new Map<number, number>()
    const bytesOf = new Map<number, number>()
    const firstOf: number[] = []
    for (let p = 0, k = 0; p < table.lines.length; p++) {
      for (const end = k + table.lines[p]!; k < end; k++) {
        const tpl = templateOf(c, order[k]!)
        if ((pieceOf.get(tpl) ?? p) !== p) t.fail(`block at ${b.start}: template ${tpl} in pieces ${pieceOf.get(tpl)!} and ${p}`)
        pieceOf.set(tpl, p)
        firstOf[p] ??= tpl
        bytesOf.set(tpl, (bytesOf.get(tpl) ?? 0) + cutLength(c, order[k]!))
      }
    }
    for (const [tpl, bytes] of bytesOf) {
      if (bytes < PIECE_BYTES / 2) continue
      big++
      if (firstOf[pieceOf.get(tpl)!] !== tpl) t.fail(`block at ${b.start}: template ${tpl} of ${bytes} bytes does not start its piece`)
    }
    const decode = (p: number): Buffer => decodeSync(b.codec, stream.subarray(table.at[p]!, table.at[p]! + table.length[p]!), table.size[p]!)
    // All of them, back in line order: the cut lines as format 3 stores them.
    const all = placeLines(c, table, order, [...table.lines].map((_, p) => decode(p)))
    t.ok(inLineOrder(c, all).equals(encodeBlock(original, original.length, true).lines), `block at ${b.start}: all pieces in line order are its cut lines`)
    // One template at a time: only its piece is decoded, and its lines come back whole.
    for (const tpl of new Set(pieceOf.keys())) {
      const wanted = new Uint8Array(c.n)
      for (let i = 0; i < c.n; i++) if (templateOf(c, i) === tpl) wanted[i] = 1
      const need = piecesHolding(table, order, wanted)
      if (need.reduce((a, x) => a + x, 0) !== 1 || need[pieceOf.get(tpl)!] !== 1) t.fail(`block at ${b.start}, template ${tpl}: pieces ${[...need].join('')}`)
      if (need.length > 1) partial++
      const placed = placeLines(c, table, order, [...need].map((x, p) => x === 1 ? decode(p) : undefined))
      for (let i = 0; i < c.n; i++) {
        if (wanted[i] !== 1) continue
        const length = c.starts[i + 1]! - c.starts[i]!
        const out = Buffer.alloc(length)
        spliceLine(c, placed.pieces[placed.piece[i]!]!, placed.offsets[i]!, i, out, 0)
        if (!out.equals(original.subarray(c.starts[i], c.starts[i + 1]))) t.fail(`block at ${b.start}, line ${i}: not its bytes`)
      }
    }
  }
  t.ok(partial > 10, `templates read from one piece of several: ${partial}`)
  t.ok(big > 10, `templates of half a piece or more, each starting its piece: ${big}`)
})

t.test('a table, a piece or a footer that does not fit is refused by name', async t => {
  const { base, ndjson, cols: dir, names } = await compactedCopies('maap-pieces-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const blocks = await blocksOf(dir, ndjson, names)
  const { block: b, cols: c, stream } = blocks.find(r => r.block.pieces! > 2)!
  const table = pieceTable(stream)
  const order = storedOrder(c, table)
  t.throws(() => pieceTable(stream.subarray(0, 3)), /without a whole piece table/, 'a stream shorter than its table\'s count')
  t.throws(() => pieceTable(stream.subarray(0, stream.length - 1)), /piece table covers/, 'pieces that do not reach the stream\'s end')
  const lying = Buffer.from(stream)
  lying.writeUInt32LE(table.lines[0]! + 1, 4)
  t.throws(() => storedOrder(c, pieceTable(lying)), /the pieces hold \d+ lines, the columns \d+/, 'a table with a line too many')
  const decoded = [...table.lines].map((_, p) => decodeSync(b.codec, stream.subarray(table.at[p]!, table.at[p]! + table.length[p]!), table.size[p]!))
  t.throws(() => placeLines(c, table, order, decoded.map((d, p) => p === 1 ? d.subarray(1) : d)), /piece 1 decodes to \d+ bytes/, 'a piece shorter than the table says')
  const sizes = { ...table, size: Uint32Array.from(table.size, (s, p) => p === 0 ? s + 1 : s) }
  t.throws(() => placeLines(c, sizes, order, decoded.map((d, p) => p === 0 ? Buffer.concat([d, Buffer.from('x')]) : d)), /the lines of piece 0 take \d+ bytes, not \d+/, 'lines that do not fill their piece')
  const templated = { ...c, templates: undefined }
  t.throws(() => storedOrder(templated), /templates/, 'columns without templates have no stored order')
  // Footers: pieces only in version 4, and only where every stream has its zcrc.
  const footer = (block: Partial<FooterBlock>, version: number): Footer => {
    const json = footerBytes({ size: b.end - b.start, blocks: [{ ...b, start: 0, end: b.end - b.start, ...block }] }, version).subarray(0, -16)
    return parseFooter('f', json, crc32(json), b.at + b.length + 1_000_000 + json.length + 16, version)
  }
  t.equal(footer({}, 4).blocks[0]!.pieces, b.pieces, 'a version 4 footer with pieces reads')
  t.throws(() => footer({}, 3), /malformed pieces/, 'pieces in a version 3 footer')
  t.throws(() => footer({ zcrc: undefined }, 4), /malformed pieces/, 'pieces without the lines\' zcrc')
  t.throws(() => footer({ pieces: 0 }, 4), /malformed pieces/, 'no pieces')
  t.throws(() => footer({ pieces: 1.5 }, 4), FormatError, 'a fraction of a piece')
})

t.test('a block whose pieces do not fit reads as damaged: blank, reported once, its neighbours whole', async t => {
  const { base, ndjson, cols: dir, names } = await compactedCopies('maap-pieces-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const name = names[0]!
  const path = join(dir, `${name}.z`)
  const fh = await open(path, 'r')
  const footer = await readFooter(fh, path)
  await fh.close()
  const victim = 1
  const b = footer.blocks[victim]!
  // The footer names one piece more than the table holds (the table itself stays as its zcrc vouches).
  const json = footerBytes({ ...footer, blocks: footer.blocks.map((x, k) => k === victim ? { ...x, pieces: x.pieces! + 1 } : x) })
  const file = readFileSync(path)
  const dataEnd = file.length - 16 - file.readUInt32LE(file.length - 16)
  writeFileSync(path, Buffer.concat([file.subarray(0, dataEnd), json]))
  const before = damagedSegments().count
  const f = await openSegment(dir, name)
  await damagedBlockReads(t, f, footer.blocks, victim, readFileSync(join(ndjson, name)))
  await f.close()
  t.equal(damagedSegments().count, before + 1, 'reported once')
  t.ok(b.pieces! > 1, `the damaged block had ${b.pieces!} pieces`)
})
