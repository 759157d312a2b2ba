// Compacts one closed segment (runs in the compaction worker thread; tests call it directly):
//
//   <name> ─► ~BLOCK_BYTES of whole lines ─► summary (time bounds, levels, per-app levels) + crc ─────────────┐
//                                          ├► columns (read/columns.ts: time, level, app, message template per line) ─► deflate ─► <name>.z.tmp
//                                          ├► vars (read/templates.ts: each line's share, the messages' digit runs) ─► deflate ─┤
//                                          ├► template counts (read/template-counts.ts: lines per template, app, level) ─► brotli ─┤
//                                          └► the lines without the timestamps and messages the columns hold ─► pieces by template (pieces.ts) ─► deflate ─┘
//         ─► … one block in memory at a time, yielding between blocks …
//         ─► footer ─► fdatasync ─► rename to <name>.z ─► fsync the directory ─► unlink <name>
//
// Until the rename, the NDJSON file is the segment and the .tmp is rubbish (start-up deletes it); after it,
// both hold the same bytes and start-up keeps the .z once its footer checks out. So a crash at any point
// loses nothing and never leaves a segment readable twice.
//
// Codecs: codecs.ts. The lines are deflated since; what follows is how brotli's quality was chosen, for the
// columns and vars it still encodes, and for the lines before.
// Brotli quality 6. First measured on whole lines (bench/peers data, 1 MiB blocks, one core): q4 6.2× at
// 93 MB/s, q5 6.7× at 57 MB/s, q6 6.9× at 50 MB/s, q9 7.1× at 16 MB/s; gzip -6 6.3× at 75 MB/s, so q5 was
// taken as the knee. What decides now is reading: an export decompresses the lines of every block, and
// brotli was most of its CPU. On format 3's cut lines (100 blocks, 86 MB, CPU ms, best of 5) q6 is 2.3 %
// smaller than q5 (9.41 vs 9.63 MB) and decodes 8–20 % faster (98–112 vs 121 ms), for 4–11 % more
// compression CPU (1,316–1,354 vs 1,216–1,269 ms); q8 decodes faster still but compresses at half the
// speed, past what keeping up with ingest allows. It runs synchronously here: this is the worker's own
// thread, and the async API would take the thread pool that the main thread's file reads need. The columns
// are compressed the same way (generic mode: they are mostly binary); counting a word reads only them.
//
// Format 2 stores each timestamp and message once, in the columns (issue #24, bench/peers data through a
// collector, 116 MB NDJSON, 1 MiB blocks): lines + columns 19.1 MB in version 1, 16.2 MB with the messages
// cut from the lines, 14.9 MB with the timestamps cut too (7.8×), at less compaction CPU (brotli has less to
// read). The price is on reading a block's lines: 2.4 instead of 1.5 CPU ms per 1 MiB block (two streams
// to decompress, 0.7 ms of splice), in about the same wait (the two decompress at once); counts and
// histograms read the columns alone, as before. Measured and not taken: 2 MiB blocks (-1.6 %, twice the bytes a newest-100 query decodes), 4 MiB
// (-1.5 %), quality 6 then (-1.7 %, +15-40 % CPU; taken since, above), quality 7 (-3 %, +60 %), text vs generic mode (no difference
// at quality 5), a window past the block (nothing to reach).
//
// Format 3 stores each message as its template in the columns and its digit runs in `vars` (read/templates.ts),
// so a count of a word reads and decompresses far fewer bytes. Measured (bench/compact.mjs, 300,000 events,
// BENCH_FORMAT 2 vs 3): disk 15.0 → 13.9 MB, compaction 21.0 → 20.7 CPU s per GB, a block's lines 3.7 → 4.1
// CPU ms per MB (the messages rebuilt before the splice). bench/count.mjs, 2,000,000 events, 748 blocks: the
// columns a count decodes 106 → 21.4 MB (26.0 → 9.0 MB stored; the vars, 9.9 MB stored, are not read), all
// streams 98.0 → 90.8 MB; a count's brotli time per scan thread ~190 → ~60 ms. Encodings: the vars as text
// (each run ending in ','; brotli's text and generic modes give the same size), template indexes, line
// lengths and time deltas in 16 bits where a block's fit (read/columns.ts layout).
//
// Format 4 stores a block's lines in pieces grouped by template, so that a search of a word decodes the
// pieces of the templates holding it alone (pieces.ts, with what was measured). bench data, 2M events, 748
// blocks: disk 87.6 → 95.8 MB, compaction 28.1 → 26.6 CPU s per GB (one run each; each line's cut length
// comes from the encoder); picking the lines of an export of "timeout" in one thread 1.31–1.38 → 0.93–0.95
// CPU s, those of a rare word 0.89 → 0.44–0.46.
//
// Format 5 starts each block's vars with every line's share of them (read/templates.ts), and deflates the
// columns and vars (codecs.ts). Same data, each compacted afresh: the .z files 95.6 MB (4) → 96.5 (the
// lengths) → 97.8 MB (deflate too); picking the lines of an export of "timeout" in one thread (all 748
// blocks, CPU ms, runs 2–4 of 4, one session) 733–766 (4) → 684–721 → 623–631. bench/compact.mjs
// (BENCH_FORMAT 4 vs 5, 116 MB of NDJSON): 14.6 → 15.0 MB, compaction 25.1 → 25.0 CPU s per GB.
import { open, rename, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setImmediate as yieldNow } from 'node:timers/promises'
import { crc32 } from 'node:zlib'
import { hasHead, LEVEL_START, TS_LENGTH, TS_START } from '../line-head'
import { AppTally, headOf } from '../../read/block-index'
import { CANONICAL_LEVELS } from '../../normalise/levels'
import { decodeColumns, encodeBlock, encodeColumns, type Columns } from '../../read/columns'
import { encodeTemplateCounts } from '../../read/template-counts'
import { CODEC_BROTLI, CODEC_DEFLATE, CODEC_STORED, compress, encode } from './codecs'
import { COMPACTED_SUFFIX, FORMAT_VERSION, HEADER_BYTES, PARTIAL_SUFFIX, footerBytes, header, type FooterBlock } from './format'
import { PIECES_PER_BLOCK, writePieces } from './pieces'

export const COMPACT_BLOCK_BYTES = 1024 * 1024
const NL = 10
const LEVEL_BY_FIRST_BYTE = new Map(CANONICAL_LEVELS.map((l, i) => [l.charCodeAt(0), i]))

export interface CompactResult {
  /** Retention deleted the segment while it was being compacted: nothing was compacted (and nothing is left). */
  gone?: true
  bytesIn: number
  bytesOut: number
  blocks: number
}

/** Time bounds, levels, apps and per-app levels of the whole lines in buf[0, length), as the block index counts them. */
export function summarise (buf: Buffer, length: number): Pick<FooterBlock, 'minTs' | 'maxTs' | 'levels' | 'apps' | 'appLevels'> {
  let minTs: string | null = null
  let maxTs: string | null = null
  const levels = [0, 0, 0, 0, 0, 0]
  const tally = new AppTally()
  for (let start = 0; start < length;) {
    let nl = buf.indexOf(NL, start)
    if (nl === -1 || nl >= length) nl = length
    let ts: string | undefined
    if (hasHead(buf, start, nl)) {
      ts = buf.toString('latin1', start + TS_START, start + TS_START + TS_LENGTH)
      const level = LEVEL_BY_FIRST_BYTE.get(buf[start + LEVEL_START]!) ?? 2
      levels[level]!++
      tally.addHeadLine(buf, start, nl, level)
    } else if (nl > start) {
      const head = headOf(buf, start, nl)
      if (head !== undefined) {
        ts = head.ts
        levels[head.level]!++
        if (head.app !== undefined) tally.addName(head.app, head.level)
      }
    }
    if (ts !== undefined) {
      if (minTs === null || ts < minTs) minTs = ts
      if (maxTs === null || ts > maxTs) maxTs = ts
    }
    start = nl + 1
  }
  const apps = tally.result()
  // More apps than a summary holds: none listed and no counts, so no reader skips or counts the block by app.
  if (apps === undefined) return { minTs, maxTs, levels, apps: [], appLevels: null }
  const entries = [...apps]
  return { minTs, maxTs, levels, apps: entries.map(([app]) => app), appLevels: entries.map(([, counts]) => counts) }
}

/** Format 4's lines stream (pieces.ts): the pieces in `codec`, or stored when that is not smaller. */
function inPieces (cols: Columns, cut: Buffer, cutLengths: Uint32Array, pieceBytes: number, codec: number): { codec: number, data: Buffer } {
  const packed = writePieces(cols, cut, cutLengths, pieceBytes, raw => compress(codec, 'lines', raw))
  return packed.length < cut.length ? { codec, data: packed } : { codec: CODEC_STORED, data: writePieces(cols, cut, cutLengths, pieceBytes, raw => raw) }
}

async function syncDir (dir: string): Promise<void> {
  const d = await open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

/**
 * Compacts `dir/name` (a closed NDJSON segment) into `dir/name.z` and removes the NDJSON; see the diagram.
 * Without `columns` or with `version` 1 it writes what version 1 wrote, with `version` 2 to 4 what those
 * versions wrote, with `linesCodec` CODEC_BROTLI lines (and columns and vars) as collectors before codecs.ts
 * wrote them, without `templateCounts` no template counts, as collectors before them wrote (tests read such
 * files back).
 */
export async function compactSegment (dir: string, name: string, blockBytes = COMPACT_BLOCK_BYTES, columns = true, version = FORMAT_VERSION,
  linesCodec = CODEC_DEFLATE, templateCounts = true): Promise<CompactResult> {
  const cut = columns && version >= 2
  if (!cut) version = 1
  // Columns and vars: deflate since format 5 (codecs.ts), brotli before.
  const streamCodec = version >= 5 ? linesCodec : CODEC_BROTLI
  const path = join(dir, name)
  const tmp = path + PARTIAL_SUFFIX
  const src = await open(path, 'r')
  const out = await open(tmp, 'w')
  let at = 0
  const blocks: FooterBlock[] = []
  let size = 0
  try {
    const head = header(version)
    await out.write(head, 0, head.length, 0)
    at = HEADER_BYTES
    let buf = Buffer.allocUnsafe(blockBytes)
    // Each block's cut lines are written here and consumed (compressed, or written) before the next block:
    // a buffer the size of a block per segment, not per block, for the thread's GC to track (bench
    // read-load: its array buffers swung by tens of MB between collections).
    const cutScratch = Buffer.allocUnsafe(blockBytes)
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, buf.length, size)
      if (bytesRead === 0) break
      let length = bytesRead
      if (bytesRead === buf.length) {
        const last = buf.lastIndexOf(NL, bytesRead - 1)
        if (last === -1) {
          // One line longer than a block: a bigger buffer for it (back to blockBytes after it).
          buf = Buffer.allocUnsafe(buf.length * 2)
          continue
        }
        length = last + 1
      }
      const bytes = buf.subarray(0, length)
      const encoded = cut ? encodeBlock(buf, length, version >= 3, version >= 5, cutScratch) : undefined
      // Templated columns, decoded as a reader decodes them: format 4's pieces are in their order, and the
      // template counts say what a scan of them would.
      const decoded = encoded?.vars !== undefined ? decodeColumns(encoded.columns, length) : undefined
      const { codec, data } = version >= 4 && decoded !== undefined
        ? inPieces(decoded, encoded!.lines, encoded!.cutLengths, Math.ceil(blockBytes / PIECES_PER_BLOCK), linesCodec)
        : encode('lines', encoded?.lines ?? bytes, linesCodec)
      await out.write(data, 0, data.length, at)
      const block: FooterBlock = { start: size, end: size + length, at, length: data.length, codec, crc: crc32(bytes), zcrc: crc32(data), ...summarise(buf, length) }
      if (encoded !== undefined) block.cut = encoded.lines.length
      if (version >= 4 && decoded !== undefined) block.pieces = data.readUInt32LE(0)
      at += data.length
      if (columns) {
        const cols = encoded?.columns ?? encodeColumns(buf, length)
        const packed = encode('columns', cols, streamCodec)
        await out.write(packed.data, 0, packed.data.length, at)
        block.cols = { at, length: packed.data.length, codec: packed.codec, size: cols.length, crc: crc32(cols), zcrc: crc32(packed.data) }
        at += packed.data.length
      }
      if (encoded?.vars !== undefined) {
        const vars = encoded.vars
        const packed = encode('vars', vars, streamCodec)
        await out.write(packed.data, 0, packed.data.length, at)
        block.vars = { at, length: packed.data.length, codec: packed.codec, size: vars.length, crc: crc32(vars), zcrc: crc32(packed.data) }
        at += packed.data.length
        if (templateCounts) {
          // From the columns as a reader decodes them: the counts say what a scan of them would.
          const tcounts = encodeTemplateCounts(decoded!)
          const packedCounts = encode('tcounts', tcounts)
          await out.write(packedCounts.data, 0, packedCounts.data.length, at)
          block.tcounts = { at, length: packedCounts.data.length, codec: packedCounts.codec, size: tcounts.length, crc: crc32(tcounts), zcrc: crc32(packedCounts.data) }
          at += packedCounts.data.length
        }
      }
      blocks.push(block)
      size += length
      if (buf.length > blockBytes) buf = Buffer.allocUnsafe(blockBytes)
      await yieldNow() // between blocks: the thread answers messages (stop) and the rate stays bounded
    }
    const foot = footerBytes({ size, blocks }, version)
    await out.write(foot, 0, foot.length, at)
    at += foot.length
    // The age retention measures is the last write of the segment, not of its compaction.
    const { atime, mtime } = await src.stat()
    await out.utimes(atime, mtime)
    await out.datasync()
  } catch (err) {
    await out.close().catch(() => {})
    await src.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    throw err
  }
  await out.close()
  await src.close()
  await rename(tmp, path + COMPACTED_SUFFIX)
  await syncDir(dirname(path))
  try {
    await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    // Retention deleted the segment meanwhile: its compacted form must not bring it back.
    await unlink(path + COMPACTED_SUFFIX).catch(() => {})
    return { bytesIn: size, bytesOut: 0, blocks: 0, gone: true }
  }
  return { bytesIn: size, bytesOut: at, blocks: blocks.length }
}
