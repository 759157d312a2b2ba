// The one way every reader opens a journal segment by its logical name (what listSegments returns and
// positions hold), whichever form it is in:
//
//   openSegment(dir, name) ─┬─► <name>     NDJSON: reads pass through to the file
//                           └─► <name>.z   compacted: footer (cached) ─► covering block(s) ─► decode, async ─► original bytes
//                                                                      └► a block's columns (columns()) ─► decode, async ─► read/columns.ts
//                                          version 2 (`cut` blocks): lines + columns, both decoded async ─► spliceLines ─► original bytes
//                                          version 3: lines + columns + vars (the messages rebuilt from templates) ─► spliceLines
//                                          version 4: lines in pieces (compacted/pieces.ts), each decoded ─► line order ─► spliceLines
//
// Either way a read returns ORIGINAL bytes at ORIGINAL offsets. A compaction renames `<name>.z.tmp` to
// `<name>.z` before it unlinks `<name>`, so one of the two always exists: NDJSON is tried first, then the
// compacted form, then NDJSON once more (listed, then both gone: retention deleted it; ENOENT). A segment
// this process has read compacted is tried compacted first (COMPACTED).
// Decoding (compacted/codecs.ts, the codec each block names) uses zlib's async API (the thread pool) for
// streams over 64 KiB: a reader never blocks the event loop for longer than inflating 64 KiB (~0.1 ms).
//
// A compacted file found damaged while reading (start-up renames the ones it finds to `.z.damaged`) never
// fails the read that met it: a footer that does not check out reads as an empty segment, a block that
// does not match its crc as blank lines of its original length (offsets keep their meaning, every reader
// skips blank lines). Each such file is reported once (onDamagedSegment) and counted (damagedSegments).
// Columns that do not match their crc are reported the same way and read as absent: the reader then takes
// the block's lines, so a damaged column loses nothing that the lines still hold. In a `cut` block (version
// 2) the columns hold the lines' timestamps and messages, so damaged columns damage its lines too: the
// block reads as blank lines, as any damaged block does. So do damaged vars (version 3): the messages are
// rebuilt from them. A count of a text without digits reads the columns alone and does not see such vars,
// as a count never saw damaged lines behind good columns: the lines then read blank, reported once.
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ColumnsError, decodeColumns, spliceLines } from '../read/columns'
import {
  FormatError, COMPACTED_SUFFIX, HEADER_BYTES, TRAILER_BYTES, checkBlock, checkColumns, checkHeader, checkStored, footerLength, parseFooter,
  storedFooter, type Footer, type FooterBlock, type StoredBlock, type StoredFooter
} from './compacted/format'
import { decode } from './compacted/codecs'
import { packFooter, unpackFooter, type PackedFooter } from './compacted/packed-footer'
import { inLineOrder, pieceTable, placeLines, storedOrder, type PieceTable } from './compacted/pieces'

const NL = 10

export interface SegmentFile {
  /** Original bytes (for NDJSON: the file's size when opened). */
  readonly size: number
  /** Reads ORIGINAL bytes at `position` into buf[offset, offset + length); how many (0 at the end). */
  read: (buf: Buffer, offset: number, length: number, position: number) => Promise<number>
  /** The compacted form's blocks, as reading them needs (no summaries), or undefined for NDJSON. */
  blocks: () => readonly StoredBlock[] | undefined
  /**
   * The compacted form's blocks with their summaries (time bounds, counts by level and app), read from
   * the footer again (the cache keeps none of them): what an index takes once. Undefined for NDJSON; none
   * when the footer does not check out (reported).
   */
  summaries: () => Promise<readonly FooterBlock[] | undefined>
  /**
   * The decoded columns of the compacted block that is exactly [start, end), or undefined: NDJSON, no such
   * block, a footer without columns, or columns found damaged (reported; the lines are still there).
   */
  columns: (start: number, end: number) => Promise<Buffer | undefined>
  /**
   * The decoded vars (version 3: the digit runs of the messages, read/templates.ts) of the block that is
   * exactly [start, end), or undefined: no such block or stream, or found damaged (reported).
   */
  vars: (start: number, end: number) => Promise<Buffer | undefined>
  close: () => Promise<void>
}

/**
 * Footers of compacted files never change once written: read once, keyed by path, size and mtime, and kept
 * without their blocks' summaries, which only the block index reads, once per segment (`summaries`), and
 * packed (packed-footer.ts: half the heap of its objects; the cache grows with what is stored).
 */
const FOOTERS = new Map<string, PackedFooter>()
const MAX_FOOTERS = 1024

/** How many compacted files' footers are kept (tests: a reader that asked not to cache leaves none). */
export function cachedFooters (): number {
  return FOOTERS.size
}

/** Compacted files met damaged by a read, by path, with why: each reported once. */
const DAMAGED = new Map<string, string>()
let damagedListener: ((file: string, reason: string) => void) | undefined

/** Who hears of a compacted file a read found damaged (once per file): the service logs it. */
export function onDamagedSegment (listener: ((file: string, reason: string) => void) | undefined): void {
  damagedListener = listener
}

/** How many compacted files reads found damaged since start, and the last one's reason. */
export function damagedSegments (): { count: number, last: string | undefined } {
  let last: string | undefined
  for (const reason of DAMAGED.values()) last = reason
  return { count: DAMAGED.size, last }
}

/**
 * Columns of segment `name` in `dir` that passed their checksum but did not decode: the writer wrote them
 * wrong. The block is read from its lines (nothing lost), but a writer bug must be seen: reported as a
 * damaged file, once.
 */
export function undecodableColumns (dir: string, name: string, err: Error): void {
  const file = join(dir, name) + COMPACTED_SUFFIX
  damaged(file, new Error(`${file}: columns pass their checksum but do not decode (a writer bug): ${err.message}`))
}

function damaged (file: string, err: Error): void {
  if (DAMAGED.has(file)) return
  DAMAGED.set(file, err.message)
  damagedListener?.(file, err.message)
}

/** A damaged file's contents as far as reads go: a footer that failed its check, an empty segment. */
function unreadable (fh: FileHandle): SegmentFile {
  return { size: 0, read: async () => 0, blocks: () => [], summaries: async () => [], columns: async () => undefined, vars: async () => undefined, close: async () => await fh.close() }
}

function isEnoent (err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

async function tryOpen (path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r')
  } catch (err) {
    if (isEnoent(err)) return undefined
    throw err
  }
}

async function readFully (fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got)
    if (bytesRead === 0) throw Object.assign(new Error('compacted segment ends early'), { code: 'EMAAPSEG' })
    got += bytesRead
  }
}

/** Reads and checks the whole footer of an open compacted file (FormatError when it is torn, corrupt or newer); never cached. */
export async function readFooter (fh: FileHandle, path: string): Promise<Footer> {
  const { size } = await fh.stat()
  return await parseFooterOf(fh, path, size)
}

/**
 * The footer of an open compacted file as reading its blocks needs it (StoredFooter), checked as readFooter
 * does; kept in FOOTERS unless `cache` is false (a reader that opens each file once, like `maap-logs export`).
 */
async function readStoredFooter (fh: FileHandle, path: string, cache: boolean): Promise<StoredFooter> {
  const st = await fh.stat()
  const key = `${path}|${st.size}|${st.mtimeMs}`
  const known = FOOTERS.get(key)
  if (known !== undefined) return unpackFooter(known)
  const footer = await parseFooterOf(fh, path, st.size)
  if (!cache) return footer
  const stored = storedFooter(footer)
  if (FOOTERS.size >= MAX_FOOTERS) FOOTERS.delete(FOOTERS.keys().next().value!)
  FOOTERS.set(key, packFooter(stored))
  return stored
}

async function parseFooterOf (fh: FileHandle, path: string, size: number): Promise<Footer> {
  const head = Buffer.alloc(Math.min(HEADER_BYTES, size))
  await readFully(fh, head, 0)
  const version = checkHeader(path, head)
  const trailer = Buffer.alloc(TRAILER_BYTES)
  if (size >= HEADER_BYTES + TRAILER_BYTES) await readFully(fh, trailer, size - TRAILER_BYTES)
  const { length, crc, version: endVersion } = footerLength(path, trailer, size)
  if (endVersion !== version) throw new FormatError(path, `format version ${version} at its start, ${endVersion} at its end`)
  const json = Buffer.alloc(length)
  await readFully(fh, json, size - TRAILER_BYTES - length)
  return parseFooter(path, json, crc, size, version)
}

/**
 * Decodes one block (its crc checked) into a new buffer. A `cut` block needs its columns (and in version 3
 * its vars) too: `columns` / `vars` when the caller has them decoded already (a scan that read them
 * first), else read here beside the lines.
 */
export async function readBlockBytes (fh: FileHandle, path: string, block: StoredBlock, columns?: Buffer, vars?: Buffer): Promise<Buffer> {
  // A cut block's streams decompress at once, on the thread pool's threads: the wait for a block stays
  // about what one stream of the whole lines took (the splice after it is a fraction of that).
  const [cols, varBytes, lines] = await Promise.all([
    block.cut === undefined ? undefined : columns ?? readColumnBytes(fh, path, block),
    block.cut === undefined || block.vars === undefined ? undefined : vars ?? readVarsBytes(fh, path, block),
    readLines(fh, path, block)
  ])
  const bytes = cols !== undefined ? splice(path, block, cols, varBytes, lines) : lines.bytes
  // Stored lines that match their zcrc (and columns checked as they were read) need no crc of the whole.
  checkBlock(path, block, bytes, lines.checked)
  return bytes
}

/**
 * A block's stored lines, decompressed (a cut block's are `cut` bytes, the others' the whole block), and
 * whether their stored bytes were checked (zcrc).
 */
async function readLines (fh: FileHandle, path: string, block: StoredBlock): Promise<StoredLines> {
  const raw = Buffer.allocUnsafe(block.length)
  await readFully(fh, raw, block.at)
  const checked = checkStored(path, block, 'lines', raw)
  const size = block.cut ?? block.end - block.start
  try {
    if (block.pieces === undefined) return { bytes: await decode(block.codec, raw, size), checked }
    // Format 4: every piece, each decoded on its own (put back in line order by the splice, with the columns).
    const table = pieceTable(raw, block.pieces)
    const pieces = await Promise.all([...table.at].map(async (at, p) => await decode(block.codec, raw.subarray(at, at + table.length[p]!), table.size[p]!)))
    return { bytes: Buffer.alloc(0), pieces: { table, decoded: pieces }, checked }
  } catch (err) {
    throw new FormatError(path, `block at ${block.start} does not decompress: ${(err as Error).message}`)
  }
}

/** A block's stored lines decoded: one stream (`bytes`), or format 4's pieces (`pieces`; `bytes` empty). */
interface StoredLines {
  bytes: Buffer
  pieces?: { table: PieceTable, decoded: Buffer[] }
  checked: boolean
}

/** A `cut` block's original lines: its stored lines with what its columns (and vars) hold put back. */
function splice (path: string, block: StoredBlock, cols: Buffer, vars: Buffer | undefined, stored: StoredLines): Buffer {
  const out = Buffer.allocUnsafe(block.end - block.start)
  try {
    const c = decodeColumns(cols, out.length, vars)
    let cut = stored.bytes
    if (stored.pieces !== undefined) {
      const { table, decoded } = stored.pieces
      cut = inLineOrder(c, placeLines(c, table, storedOrder(c, table), decoded))
    }
    if (cut.length !== block.cut) throw new ColumnsError(`${cut.length} bytes of lines, the footer says ${block.cut!}`)
    spliceLines(c, cut, out)
  } catch (err) {
    if (!(err instanceof ColumnsError)) throw err
    throw new FormatError(path, `block at ${block.start} does not fit its columns: ${err.message}`)
  }
  return out
}

function ndjsonFile (fh: FileHandle, size: number): SegmentFile {
  return {
    size,
    read: async (buf, offset, length, position) => (await fh.read(buf, offset, length, position)).bytesRead,
    blocks: () => undefined,
    summaries: async () => undefined,
    columns: async () => undefined,
    vars: async () => undefined,
    close: async () => await fh.close()
  }
}

/** A block's bytes; blank lines of its length when it is damaged (reported once). */
async function blockOrBlank (fh: FileHandle, path: string, block: StoredBlock, columns?: Buffer, vars?: Buffer): Promise<Buffer> {
  try {
    return await readBlockBytes(fh, path, block, columns, vars)
  } catch (err) {
    if (!(err instanceof FormatError) && (err as NodeJS.ErrnoException).code !== 'EMAAPSEG') throw err
    damaged(path, err as Error)
    return Buffer.alloc(block.end - block.start, NL)
  }
}

/** Decodes a block's columns (their crc checked) into a new buffer. */
export async function readColumnBytes (fh: FileHandle, path: string, block: StoredBlock): Promise<Buffer> {
  return await readStream(fh, path, block, 'columns')
}

/** Decodes a version 3 block's vars (their crc checked) into a new buffer. */
export async function readVarsBytes (fh: FileHandle, path: string, block: StoredBlock): Promise<Buffer> {
  return await readStream(fh, path, block, 'vars')
}

async function readStream (fh: FileHandle, path: string, block: StoredBlock, what: 'columns' | 'vars'): Promise<Buffer> {
  const stream = what === 'columns' ? block.cols! : block.vars!
  const raw = Buffer.allocUnsafe(stream.length)
  await readFully(fh, raw, stream.at)
  const checked = checkStored(path, block, what, raw)
  let bytes: Buffer
  try {
    bytes = await decode(stream.codec, raw, stream.size)
  } catch (err) {
    throw new FormatError(path, `${what} of the block at ${block.start} do not decompress: ${(err as Error).message}`)
  }
  checkColumns(path, block, bytes, checked, what)
  return bytes
}

/** A block's columns or vars; none when they are damaged (reported once: the reader takes the lines instead). */
async function streamOrNone (fh: FileHandle, path: string, block: StoredBlock, what: 'columns' | 'vars'): Promise<Buffer | undefined> {
  try {
    return await readStream(fh, path, block, what)
  } catch (err) {
    if (!(err instanceof FormatError) && (err as NodeJS.ErrnoException).code !== 'EMAAPSEG') throw err
    damaged(path, err as Error)
    return undefined
  }
}

function compactedFile (fh: FileHandle, path: string, footer: StoredFooter): SegmentFile {
  // The last block decoded: sequential readers (tails, the drain, exports) read a block in several pieces.
  let last: { block: StoredBlock, bytes: Buffer } | undefined
  // The last columns (and vars) decoded: a scan reads a block's columns, then the lines they leave
  // undecided, which in a `cut` block need the same columns (and vars) again.
  let lastColumns: { block: StoredBlock, bytes: Buffer } | undefined
  let lastVars: { block: StoredBlock, bytes: Buffer } | undefined
  const blockAt = (position: number): StoredBlock | undefined => {
    const blocks = footer.blocks
    let lo = 0
    let hi = blocks.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const b = blocks[mid]!
      if (position < b.start) hi = mid - 1
      else if (position >= b.end) lo = mid + 1
      else return b
    }
    return undefined
  }
  return {
    size: footer.size,
    read: async (buf, offset, length, position) => {
      let done = 0
      while (done < length) {
        const block = blockAt(position + done)
        if (block === undefined) break
        if (last?.block !== block) {
          last = {
            block,
            bytes: await blockOrBlank(fh, path, block, lastColumns?.block === block ? lastColumns.bytes : undefined, lastVars?.block === block ? lastVars.bytes : undefined)
          }
        }
        const from = position + done - block.start
        done += last.bytes.copy(buf, offset + done, from, Math.min(last.bytes.length, from + length - done))
      }
      return done
    },
    blocks: () => footer.blocks,
    summaries: async () => {
      try {
        return (await readFooter(fh, path)).blocks
      } catch (err) {
        if (!(err instanceof FormatError) && (err as NodeJS.ErrnoException).code !== 'EMAAPSEG') throw err
        damaged(path, err as Error)
        return []
      }
    },
    columns: async (start, end) => {
      const block = blockAt(start)
      if (block?.start !== start || block.end !== end || block.cols === undefined) return undefined
      const bytes = await streamOrNone(fh, path, block, 'columns')
      if (bytes !== undefined) lastColumns = { block, bytes }
      return bytes
    },
    vars: async (start, end) => {
      const block = blockAt(start)
      if (block?.start !== start || block.end !== end || block.vars === undefined) return undefined
      const bytes = await streamOrNone(fh, path, block, 'vars')
      if (bytes !== undefined) lastVars = { block, bytes }
      return bytes
    },
    close: async () => await fh.close()
  }
}

export interface OpenOptions {
  /**
   * Keep a compacted file's footer for later opens (default true). A reader that reads each file once
   * passes false: over a LOG_DIR of a thousand compacted segments the cache would hold ~100 MB it never
   * uses again.
   */
  cacheFooter?: boolean
}

/** Opens segment `name` of the journal in `dir`, in whichever form it is; ENOENT when neither exists. */
export async function openSegment (dir: string, name: string, opts: OpenOptions = {}): Promise<SegmentFile> {
  const path = join(dir, name)
  const zpath = path + COMPACTED_SUFFIX
  if (COMPACTED.has(zpath)) {
    const packed = await tryOpen(zpath)
    if (packed !== undefined) return await compactedOrUnreadable(packed, zpath, opts)
    COMPACTED.delete(zpath)
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const plain = await tryOpen(path)
    if (plain !== undefined) return ndjsonFile(plain, (await plain.stat()).size)
    const packed = await tryOpen(zpath)
    if (packed !== undefined) return await compactedOrUnreadable(packed, zpath, opts)
  }
  throw Object.assign(new Error(`ENOENT: no such journal segment, '${path}'`), { code: 'ENOENT', path })
}

/**
 * Compacted files whose footer checked out, by path: a segment once compacted is never NDJSON again (the
 * NDJSON file goes after the compacted one is in place), so openSegment tries these in their compacted
 * form first. Otherwise every open of one starts with an open that fails (ENOENT: ~50 µs of CPU, most of
 * it making the error), and a query opens each segment it reads a few times. One gone (retention, or set
 * aside as damaged at start) falls back to the usual order.
 */
const COMPACTED = new Set<string>()

async function compactedOrUnreadable (packed: FileHandle, zpath: string, opts: OpenOptions): Promise<SegmentFile> {
  try {
    const file = compactedFile(packed, zpath, await readStoredFooter(packed, zpath, opts.cacheFooter ?? true))
    if (opts.cacheFooter ?? true) {
      if (COMPACTED.size >= MAX_FOOTERS) COMPACTED.delete(COMPACTED.values().next().value!)
      COMPACTED.add(zpath)
    }
    return file
  } catch (err) {
    if (err instanceof FormatError || (err as NodeJS.ErrnoException).code === 'EMAAPSEG') {
      damaged(zpath, err as Error)
      return unreadable(packed)
    }
    await packed.close()
    throw err
  }
}

/** Opens `name`, or undefined when neither form exists (retention deleted it). */
export async function openSegmentIfExists (dir: string, name: string, opts: OpenOptions = {}): Promise<SegmentFile | undefined> {
  try {
    return await openSegment(dir, name, opts)
  } catch (err) {
    if (isEnoent(err)) return undefined
    throw err
  }
}

/** The original size of segment `name` (0 when it is gone). */
export async function segmentSize (dir: string, name: string): Promise<number> {
  const f = await openSegmentIfExists(dir, name)
  if (f === undefined) return 0
  try {
    return f.size
  } finally {
    await f.close()
  }
}

/** Writes segment `name`'s original NDJSON to `out`, a block at a time (a person reading a `.z` by hand). */
export async function catSegment (dir: string, name: string, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const f = await openSegment(dir, name)
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024)
    for (let at = 0; at < f.size;) {
      const n = await f.read(buf, 0, buf.length, at)
      if (n === 0) break
      const chunk = Buffer.from(buf.subarray(0, n))
      if (!out.write(chunk)) await new Promise(resolve => out.once('drain', resolve))
      at += n
    }
  } finally {
    await f.close()
  }
}
