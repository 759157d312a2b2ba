// The compacted form of a closed journal segment (`<logical name>.z`, format version 2): the segment's
// original NDJSON bytes, cut into blocks of whole lines and compressed one block at a time, with a footer
// that maps every original byte range to its compressed block. Readers get the exact original bytes at the
// exact original offsets, so positions (tail ids, checkpoints, cursors) keep their meaning.
//
// Version 2 stores each timestamp and message once: a block's lines are stored without the timestamp text
// and message text its columns hold exactly (the footer's `cut`), and reading the lines splices them back
// (read/columns.ts spliceLines; the crc is of the ORIGINAL bytes, checked after the splice). A version 1
// reader would misread such lines, hence the version; this one reads version 1 files as they are.
//
// Version 3 stores each message as its template (read/templates.ts: the message with each run of digits
// replaced by one marker byte) in the columns — the block's distinct templates once, and each line's index —
// and the digit runs in a third stream per block, `vars`. A count of a word without digits reads the
// columns alone and tests each template once; the lines of a block (and a text with digits) need the vars
// too. A version 2 reader refuses a version 3 file (its version check), as it should.
//
// Version 4 stores a block's cut lines in pieces grouped by message template (pieces.ts; the footer's
// `pieces`): a search of a word decodes only the pieces that hold its templates. The stream starts with a
// table of the pieces; a version 3 reader would take it for deflated lines, so it refuses the version.
//
// Version 5 starts each block's vars with every line's share of them (read/templates.ts VAR_LENGTHS): a
// search that picks some lines of a block finds their vars without walking the others'. A version 4
// reader would find the vars not fitting the templates, so it refuses the version.
//
//   ┌────────────────────┐
//   │ "MAAPSEG" version  │  header, 8 bytes
//   ├────────────────────┤
//   │ block 0 (codec'd)  │  the lines [start, end), ~BLOCK_BYTES of them (version 2: timestamps and messages cut out; 4: in pieces)
//   │ block 0's columns  │  (when written) per line: length, time, level, app, flags, message bytes (read/columns.ts)
//   │ block 0's vars     │  version 3: the digit runs of its messages (the columns then hold templates); 5: each line's share first
//   │ block 0's tcounts  │  version 3, since added: its lines per template, app and level (read/template-counts.ts)
//   │ block 1 …          │
//   ├────────────────────┤
//   │ footer (JSON)      │  { size, blocks: [{ start, end, at, length, codec, crc, minTs, maxTs, levels, apps, appLevels, cols, cut, vars, tcounts, pieces }] }
//   ├────────────────────┤
//   │ footer length u32  │  trailer, 16 bytes: a file torn anywhere fails the magic, the length or the crc
//   │ footer crc32  u32  │
//   │ "MAAPSEG" version  │
//   └────────────────────┘
//
// The footer is JSON: it is read once per file (and cached), holds a few hundred bytes per MiB block, and a
// later version can add fields that version 1 readers ignore (`appLevels` is one: a footer without it still
// reads, its blocks' per-app counts unknown, so nothing is skipped or counted by app there; `cols` is
// another: without it a block is read whole, as before). A format version a reader does not know is
// refused with FormatError, never guessed at.
import { crc32 } from 'node:zlib'
import { knownCodec } from './codecs'

export const MAGIC = Buffer.from('MAAPSEG', 'latin1')
/** The version this collector writes; it reads every version from 1 up to it. */
export const FORMAT_VERSION = 5
/** The version without the vars' lengths: what `compactSegment(…, 4)` writes, for tests of reading such files. */
export const FORMAT_VERSION_4 = 4
/** The version with the lines in one stream: what `compactSegment(…, 3)` writes, for tests of reading such files. */
export const FORMAT_VERSION_3 = 3
/** The version without templates: what `compactSegment(…, 2)` writes, for tests of reading such files. */
export const FORMAT_VERSION_2 = 2
/** The version without `cut` blocks: what `compactSegment(…, 1)` writes, for tests of reading old files. */
export const FORMAT_VERSION_1 = 1
export const HEADER_BYTES = MAGIC.length + 1
export const TRAILER_BYTES = 8 + MAGIC.length + 1
/** The physical suffix of a compacted segment, after its logical name. */
export const COMPACTED_SUFFIX = '.z'
/** A compaction being written: deleted at start, never read. */
export const PARTIAL_SUFFIX = '.z.tmp'

export interface FooterBlock {
  /** Original byte range [start, end) in the segment. */
  start: number
  end: number
  /** Where the block's compressed bytes are in the file, and how many. */
  at: number
  length: number
  codec: number
  /** crc32 of the original bytes. */
  crc: number
  /**
   * crc32 of the bytes stored at `at` (as written, before decoding). Checked before decoding; when present,
   * the crc of the original bytes is not needed to trust them, so a reader can take some lines of a block
   * without rebuilding all of it. Absent in footers written before it was added (the `crc` is checked).
   */
  zcrc?: number
  /** Oldest and newest timestamp in the block (ISO); null when no line has one. */
  minTs: string | null
  maxTs: string | null
  /** Events per level, in CANONICAL_LEVELS order. */
  levels: number[]
  /** The app_name values in the block (none listed when more than MAX_BLOCK_APPS). */
  apps: string[]
  /**
   * Events per level of each app in `apps` (same order), or null when the block holds more apps than a
   * summary keeps; absent in footers written before it was added (read as unknown).
   */
  appLevels?: number[][] | null
  /**
   * The block's columns (read/columns.ts), a second stream beside its lines: what counts and searches of a
   * word read instead of the lines. Absent in footers written before they were added (the lines are read).
   */
  cols?: FooterColumns
  /**
   * Version 2: the block's lines are stored with what its columns hold cut out, `cut` bytes of them once
   * decoded; reading them needs the columns too. Absent: the stored bytes are the lines themselves.
   */
  cut?: number
  /**
   * Version 3: the digit runs of the block's messages (read/templates.ts), a third stream; its columns then
   * hold each message's template instead of the message. Absent in older versions.
   */
  vars?: FooterColumns
  /**
   * Version 3, since it was added: how many of the block's lines have each message template, app and level
   * (read/template-counts.ts), a fourth stream: what a count of a word reads from a block that lies whole
   * in its window and one bucket, instead of the columns. Absent in footers written before (the columns are read).
   */
  tcounts?: FooterColumns
  /**
   * Version 4: the block's cut lines are stored in this many pieces grouped by message template
   * (pieces.ts), after a table of them. Absent: the stored lines are one stream.
   */
  pieces?: number
}

/**
 * What reading a block's stored bytes needs: a footer block without the summaries (time bounds, counts by
 * level and app) that the main thread's block index keeps. The scan threads cache their footers so: a
 * parsed footer costs ~2 KB of heap a block, two thirds of it summaries (issue #24, reads under load).
 */
export type StoredBlock = Omit<FooterBlock, 'minTs' | 'maxTs' | 'levels' | 'apps' | 'appLevels'>

export interface StoredFooter {
  size: number
  blocks: StoredBlock[]
}

/** `footer` without its blocks' summaries (StoredBlock): new objects of one shape, for a cache. */
export function storedFooter (footer: Footer): StoredFooter {
  return {
    size: footer.size,
    blocks: footer.blocks.map(b => ({
      start: b.start, end: b.end, at: b.at, length: b.length, codec: b.codec, crc: b.crc, zcrc: b.zcrc, cut: b.cut, cols: b.cols, vars: b.vars, tcounts: b.tcounts, pieces: b.pieces
    }))
  }
}

/** The streams a block has beside its lines. */
export type StreamName = 'columns' | 'vars' | 'tcounts'

/** Where block `b`'s stream `what` is, if it has one. */
export function streamOf (b: StoredBlock, what: StreamName): FooterColumns | undefined {
  return what === 'columns' ? b.cols : what === 'vars' ? b.vars : b.tcounts
}

/** Where a block's columns (or vars, or template counts) are, coded as a block is; `crc` and `size` are of the decoded bytes. */
export interface FooterColumns {
  at: number
  length: number
  codec: number
  size: number
  crc: number
  /** crc32 of the stored bytes, as FooterBlock's `zcrc` (absent in older footers). */
  zcrc?: number
}

export interface Footer {
  /** The original segment's size in bytes. */
  size: number
  blocks: FooterBlock[]
}

/** A file that is not (or no longer) a whole compacted segment this version can read. */
export class FormatError extends Error {
  constructor (readonly file: string, reason: string) {
    super(`${file}: not a readable compacted segment (${reason})`)
    this.name = 'FormatError'
  }
}

export function header (version = FORMAT_VERSION): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([version])])
}

/** The footer and trailer that end a compacted file. */
export function footerBytes (footer: Footer, version = FORMAT_VERSION): Buffer {
  const json = Buffer.from(JSON.stringify(footer))
  const trailer = Buffer.alloc(TRAILER_BYTES)
  trailer.writeUInt32LE(json.length, 0)
  trailer.writeUInt32LE(crc32(json), 4)
  MAGIC.copy(trailer, 8)
  trailer[8 + MAGIC.length] = version
  return Buffer.concat([json, trailer])
}

/** The version after the magic at buf[at]; throws FormatError when there is none or it is newer than ours. */
function checkMagic (file: string, buf: Buffer, at: number, where: string): number {
  if (buf.length < at + MAGIC.length + 1 || !buf.subarray(at, at + MAGIC.length).equals(MAGIC)) {
    throw new FormatError(file, `no ${MAGIC.toString('latin1')} magic at its ${where}: torn or not ours`)
  }
  const version = buf[at + MAGIC.length]!
  if (version < 1 || version > FORMAT_VERSION) {
    throw new FormatError(file, `format version ${version} at its ${where}; this collector reads versions 1 to ${FORMAT_VERSION} (upgrade it)`)
  }
  return version
}

/** Checks the header, returns its version; throws FormatError. */
export function checkHeader (file: string, head: Buffer): number {
  return checkMagic(file, head, 0, 'start')
}

/** The footer's length, from the file's last TRAILER_BYTES; throws FormatError. */
export function footerLength (file: string, trailer: Buffer, fileSize: number): { length: number, crc: number, version: number } {
  const version = checkMagic(file, trailer, 8, 'end')
  const length = trailer.readUInt32LE(0)
  if (length + TRAILER_BYTES + HEADER_BYTES > fileSize) throw new FormatError(file, 'footer longer than the file')
  return { length, crc: trailer.readUInt32LE(4), version }
}

/** Parses and checks the footer's bytes (of a file of `version`); throws FormatError. */
export function parseFooter (file: string, json: Buffer, crc: number, fileSize: number, version = FORMAT_VERSION): Footer {
  if (crc32(json) !== crc) throw new FormatError(file, 'footer checksum mismatch')
  let footer: Footer
  try {
    footer = JSON.parse(json.toString('utf8')) as Footer
  } catch {
    throw new FormatError(file, 'footer is not JSON')
  }
  const dataEnd = fileSize - TRAILER_BYTES - json.length
  let next = 0
  for (const b of footer.blocks) {
    // Contiguous original ranges inside the data area: a reader can trust every offset it is given.
    if (b.start !== next || b.end <= b.start || b.at < HEADER_BYTES || b.at + b.length > dataEnd) {
      throw new FormatError(file, `block at ${b.start} is out of place`)
    }
    if (!knownCodec(b.codec)) throw new FormatError(file, `block at ${b.start} has unknown codec ${b.codec}`)
    if (!crcFits(b.zcrc)) throw new FormatError(file, `block at ${b.start} has malformed zcrc`)
    // Counts answer histograms without reading the block: they must be whole before anyone trusts them.
    if (b.appLevels !== undefined && b.appLevels !== null && !appLevelsFit(b)) throw new FormatError(file, `block at ${b.start} has malformed appLevels`)
    if (b.cols !== undefined && !columnsFit(b.cols, dataEnd)) throw new FormatError(file, `block at ${b.start} has malformed cols`)
    // Cut lines are only whole with their columns, and only a version 2 reader knows to splice them.
    if (b.cut !== undefined && (version < 2 || b.cols === undefined || !Number.isSafeInteger(b.cut) || b.cut < 0 || b.cut > b.end - b.start)) {
      throw new FormatError(file, `block at ${b.start} has malformed cut`)
    }
    // Vars only make sense beside templated columns, which only a version 3 reader knows.
    if (b.vars !== undefined && (version < 3 || b.cut === undefined || !columnsFit(b.vars, dataEnd))) throw new FormatError(file, `block at ${b.start} has malformed vars`)
    if (b.tcounts !== undefined && (b.vars === undefined || !columnsFit(b.tcounts, dataEnd))) throw new FormatError(file, `block at ${b.start} has malformed tcounts`)
    // Pieces follow from templated columns (their order) and are read piece by piece only when every
    // stream they need is vouched for by its stored bytes' crc.
    if (b.pieces !== undefined && (version < 4 || b.vars?.zcrc === undefined || b.cols?.zcrc === undefined || b.zcrc === undefined ||
      !Number.isSafeInteger(b.pieces) || b.pieces < 1)) throw new FormatError(file, `block at ${b.start} has malformed pieces`)
    next = b.end
  }
  if (next !== footer.size) throw new FormatError(file, 'blocks do not cover the original size')
  return footer
}

function columnsFit (c: FooterColumns, dataEnd: number): boolean {
  const whole = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0
  return typeof c === 'object' && c !== null && whole(c.at) && whole(c.length) && whole(c.size) && whole(c.crc) &&
    c.at >= HEADER_BYTES && c.at + c.length <= dataEnd && knownCodec(c.codec) && crcFits(c.zcrc)
}

/** An optional crc32: absent, or an unsigned 32-bit integer. */
function crcFits (crc: unknown): boolean {
  return crc === undefined || (Number.isSafeInteger(crc) && (crc as number) >= 0 && (crc as number) <= 0xffffffff)
}

/**
 * Checks the stored bytes of a block's lines or columns against their `zcrc` (when the footer has one);
 * throws FormatError. Answers whether it was checked: then the decoded bytes need only their length checked.
 */
export function checkStored (file: string, block: StoredBlock, what: 'lines' | StreamName, raw: Buffer): boolean {
  const zcrc = what === 'lines' ? block.zcrc : streamOf(block, what)?.zcrc
  if (zcrc === undefined) return false
  if (crc32(raw) !== zcrc) throw new FormatError(file, `${what} of the block at ${block.start} do not match the checksum of their stored bytes`)
  return true
}

function appLevelsFit (b: FooterBlock): boolean {
  const counts = b.appLevels!
  return Array.isArray(counts) && Array.isArray(b.apps) && counts.length === b.apps.length && b.apps.every(a => typeof a === 'string') &&
    counts.every(l => Array.isArray(l) && l.length === 6 && l.every(n => Number.isSafeInteger(n) && n >= 0))
}

/**
 * Checks a block's decoded columns (or `vars`) against their size and crc (the crc only when their stored
 * bytes were not checked: `storedChecked`); throws FormatError.
 */
export function checkColumns (file: string, block: StoredBlock, bytes: Buffer, storedChecked = false, what: StreamName = 'columns'): void {
  const stream = streamOf(block, what)!
  if (bytes.length !== stream.size || (!storedChecked && crc32(bytes) !== stream.crc)) {
    throw new FormatError(file, `${what} of the block at ${block.start} do not match their checksum`)
  }
}

/** Checks a block's decoded bytes against its length and crc (the crc unless `storedChecked`); throws FormatError. */
export function checkBlock (file: string, block: StoredBlock, bytes: Buffer, storedChecked = false): void {
  if (bytes.length !== block.end - block.start || (!storedChecked && crc32(bytes) !== block.crc)) {
    throw new FormatError(file, `block at ${block.start} does not match its checksum`)
  }
}
