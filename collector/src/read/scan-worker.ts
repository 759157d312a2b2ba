// A scan thread (scan-pool.ts starts SCAN_THREADS of them): the columns of compacted blocks, read, decoded
// and counted here — or, for a search, the lines they pick rebuilt here — so the main thread only adds up,
// or tests and answers, what comes back.
//
//   main ──{ count, id, query, range, items }──► per item: <segment>.z ─► footer (once per file) ─► the blocks
//        ◄──{ done, id, counts, undecided, fallback, blocks }──  it covers ─► columns (decoded sync: on this
//                                                                 thread, not in libuv's pool that the
//                                                                 journal's writes wait on) ─► ColumnQuery.scan
//   main ──{ cancel, id }──► stops between two blocks ──{ cancelled, id, blocks }──► main
//   main ──{ pick, id, query, item }──► columns ─► ColumnQuery.scan ─► picked lines? ─► stored lines (zcrc
//        ◄──{ picked, id, lines, ends, undecided }── checked; format 4: the pieces holding them) ─► spliceLine
//                                                                 for each picked line alone
//
// Format 3 blocks: the columns hold message templates, enough for a text without digits; the block's vars
// are read (and the messages rebuilt) only for a text with digits, or for a block whose lines are picked.
// A count of a text without digits reads a block's template counts instead of its columns when the block
// lies whole in its range and one bucket (template-counts.ts): a fraction of the bytes, no line walked.
// counts: per level, per bucket (level × buckets + bucket), as the main thread's Counter bins them.
// undecided: [item, start, end] of each line the columns leave to the exact parse (the main thread does it).
// fallback: the items whose columns are not there (NDJSON still, an older footer, damaged or gone): the
// main thread reads them its own way, so damage is reported once and by the usual path.
// The thread runs at a lower priority than the process's main thread (its own nice value, Linux): ingest
// and tails are served first whenever the two compete for a core.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { setPriority } from 'node:os'
import { join } from 'node:path'
import { parentPort, type MessagePort } from 'node:worker_threads'
import {
  COMPACTED_SUFFIX, FormatError, HEADER_BYTES, TRAILER_BYTES, checkBlock, checkColumns, checkHeader, checkStored, footerLength, parseFooter,
  storedFooter, streamOf as footerStream, type StoredBlock, type StoredFooter, type StreamName
} from '../journal/compacted/format'
import { decodeSync } from '../journal/compacted/codecs'
import { packFooter, unpackFooter, type PackedFooter } from '../journal/compacted/packed-footer'
import { inLineOrder, pieceTable, piecesHolding, placeLines, storedOrder } from '../journal/compacted/pieces'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { COL_HEAD, ColumnQuery, ColumnsError, covering, cutOffsets, decodeColumns, lineAt, spliceLine, spliceLines, withVars, type Columns } from './columns'
import type { ReadQuery } from './query'
import { decodeTemplateCounts, type TemplateCounts } from './template-counts'

/** One candidate block: lines [start, end) of a segment, those before minOffset not counted. */
export interface ScanItem {
  dir: string
  segment: string
  start: number
  end: number
  minOffset: number
}

/** The histogram's buckets, as Counter (aggregate.ts) bins them. */
export interface ScanRange {
  fromMs: number
  toMs: number
  first: number
  intervalMs: number
  buckets: number
}

/** The part of a ReadQuery the columns decide (text, window, levels, apps). */
export type ScanQuery = Pick<ReadQuery, 'text' | 'from' | 'to' | 'levels' | 'apps'>

export type ScanRequest =
  | { code: 'count', id: number, query: ScanQuery, range: ScanRange, items: ScanItem[] }
  | { code: 'pick', id: number, query: ScanQuery, item: ScanItem }
  | { code: 'cancel', id: number }
  | { code: 'release' }

/**
 * A search's candidate, picked: the lines its columns show to match the query's text, window, levels and
 * apps, and those they cannot decide, in order, as they are in the segment (`lines` holds them end to end;
 * line k is lines[ends[k - 1], ends[k]), with its newline when it has one; undecided[k] is 1 for one the
 * columns left to the exact test). The main thread tests only what the columns do not hold (snapshot, cursor, expiry).
 */
export interface PickedLines {
  lines: Buffer
  ends: Uint32Array
  undecided: Uint8Array
  /** Each line's time from its columns (epoch ms; NaN for a line without the head): what orders it. */
  ms: Float64Array
}

export type ScanReply =
  | { code: 'done', id: number, counts: Float64Array, undecided: number[], fallback: number[], blocks: number, fromTemplateCounts: number }
  | { code: 'picked', id: number, picked: PickedLines | undefined, blocks: number }
  | { code: 'cancelled', id: number, blocks: number }
  | { code: 'error', id: number, message: string }

const LEVELS = CANONICAL_LEVELS.length

/** The job running (the pool gives a thread one at a time), and whether it was cancelled. */
let current = -1
let cancelled = false

/**
 * The file last opened, with its footer (null: not a readable compacted segment): consecutive items mostly
 * share a segment. Compacted files never change once written, so one open, stat and footer per segment.
 */
let held: { key: string, fd: number | undefined, path: string, footer: StoredFooter | null } | undefined

function readFully (fd: number, path: string, buf: Buffer, length: number, position: number): void {
  for (let got = 0; got < length;) {
    const n = readSync(fd, buf, got, length - got, position + got)
    if (n === 0) throw new FormatError(path, 'compacted segment ends early')
    got += n
  }
}

/**
 * Footers this thread has read, by path, size and mtime: a compacted file never changes once written, and
 * a count opens every segment again (a 2M-event journal's 45 footers are ~5 % of a count's time). Kept
 * without the blocks' summaries this thread never reads, and packed (packed-footer.ts): the cache's heap
 * grows with what is stored.
 */
const FOOTERS = new Map<string, { key: string, footer: PackedFooter }>()
const MAX_FOOTERS = 256

/** The footer of the open file `fd`, or null when it does not check out (the main thread reports it). */
function footerOf (fd: number, path: string): StoredFooter | null {
  const st = fstatSync(fd)
  const key = `${st.size}|${st.mtimeMs}|${st.ino}`
  const known = FOOTERS.get(path)
  if (known?.key === key) return unpackFooter(known.footer)
  const footer = readFooterSync(fd, path, st.size)
  if (footer !== null) {
    if (FOOTERS.size >= MAX_FOOTERS) FOOTERS.delete(FOOTERS.keys().next().value!)
    FOOTERS.set(path, { key, footer: packFooter(footer) })
  }
  return footer
}

function readFooterSync (fd: number, path: string, size: number): StoredFooter | null {
  try {
    const head = Buffer.alloc(Math.min(HEADER_BYTES, size))
    readFully(fd, path, head, head.length, 0)
    const version = checkHeader(path, head)
    if (size < HEADER_BYTES + TRAILER_BYTES) throw new FormatError(path, 'shorter than a header and a trailer')
    const trailer = Buffer.alloc(TRAILER_BYTES)
    readFully(fd, path, trailer, TRAILER_BYTES, size - TRAILER_BYTES)
    const { length, crc, version: endVersion } = footerLength(path, trailer, size)
    if (endVersion !== version) throw new FormatError(path, `format version ${version} at its start, ${endVersion} at its end`)
    const json = Buffer.alloc(length)
    readFully(fd, path, json, length, size - TRAILER_BYTES - length)
    return storedFooter(parseFooter(path, json, crc, size, version))
  } catch (err) {
    if (err instanceof FormatError) return null
    throw err
  }
}

/** Segment `segment`'s compacted file, open, with its footer; undefined when it is not there or not readable. */
function segmentFile (dir: string, segment: string): { fd: number, path: string, footer: StoredFooter } | undefined {
  const key = `${dir}\n${segment}`
  if (held?.key !== key) {
    release()
    const path = join(dir, segment) + COMPACTED_SUFFIX
    let fd: number | undefined
    try {
      fd = openSync(path, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    held = { key, fd, path, footer: null }
    if (fd !== undefined) held.footer = footerOf(fd, path)
  }
  return held.fd === undefined || held.footer === null ? undefined : { fd: held.fd, path: held.path, footer: held.footer }
}

/** Where stored streams are read into (decompression copies out of it): one buffer per thread, grown as needed. */
let raw = Buffer.allocUnsafe(256 * 1024)

/** The stored bytes of [at, at + length), checked against the zcrc of `what` when the footer has one. */
function stored (fd: number, path: string, b: StoredBlock, what: 'lines' | StreamName, at: number, length: number): { bytes: Buffer, checked: boolean } {
  if (raw.length < length) raw = Buffer.allocUnsafe(Math.max(length, raw.length * 2))
  readFully(fd, path, raw, length, at)
  const bytes = raw.subarray(0, length)
  return { bytes, checked: checkStored(path, b, what, bytes) }
}

/**
 * A block's columns, decoded; with their messages (format 3: the block's vars read and the messages rebuilt
 * from the templates) only when `messages` — a text with digits. A count of one without reads no vars.
 */
function columnsOf (fd: number, path: string, b: StoredBlock, messages: boolean): Columns {
  const cols = decodeColumns(streamOf(fd, path, b, 'columns'), b.end - b.start)
  return messages ? withMessages(fd, path, b, cols) : cols
}

/** `cols` with their messages (what a splice needs): format 3 columns decoded without them get them from the vars. */
function withMessages (fd: number, path: string, b: StoredBlock, cols: Columns, only?: Uint8Array): Columns {
  return cols.messages !== undefined || b.vars === undefined ? cols : withVars(cols, streamOf(fd, path, b, 'vars'), only)
}

/** A block's columns, vars or template counts, decoded and checked. */
function streamOf (fd: number, path: string, b: StoredBlock, what: StreamName): Buffer {
  const stream = footerStream(b, what)!
  const { bytes: packed, checked } = stored(fd, path, b, what, stream.at, stream.length)
  // Stored streams are decoded from a copy: `raw` is reused by the next read.
  const bytes = decodeSync(stream.codec, packed, stream.size)
  checkColumns(path, b, bytes, checked, what)
  return bytes
}

/** Whether `err` is a block that cannot be read here (damaged, torn, gone): the main thread reads it its own way. */
function unreadableHere (err: unknown): boolean {
  return err instanceof FormatError || err instanceof ColumnsError || (err as { code?: string }).code?.startsWith('ERR_ZLIB') === true ||
    (err as { errno?: unknown }).errno !== undefined
}

class Job {
  readonly counts: Float64Array
  readonly undecided: number[] = []
  readonly fallback: number[] = []
  blocks = 0
  /** Footer blocks counted from their template counts, not their columns. */
  fromTemplateCounts = 0
  private readonly cq: ColumnQuery

  constructor (readonly id: number, query: ScanQuery, private readonly range: ScanRange) {
    this.counts = new Float64Array(LEVELS * range.buckets)
    // The main thread only sends queries whose columns decide (ColumnQuery.of was not undefined there).
    this.cq = ColumnQuery.of({ ...query, fields: [], limit: 0, after: undefined, expr: undefined })!
  }

  /** The bucket of the range that counts time `ms`, or -1 when none does. */
  private bucketOf (ms: number): number {
    const r = this.range
    if (ms < r.fromMs || ms >= r.toMs) return -1
    const b = Math.floor((ms - r.first) / r.intervalMs)
    return b >= 0 && b < r.buckets ? b : -1
  }

  private add (ms: number, level: number): void {
    const b = this.bucketOf(ms)
    if (b !== -1) this.counts[level * this.range.buckets + b]!++
  }

  /**
   * Block `b`'s matches per level, all in one bucket, from its template counts alone — when item `it`
   * covers the whole block, the query is a word without digits and the counts decide it (ColumnQuery.
   * countTemplates), and the block's lines lie in one bucket of the range. Else undefined: its
   * columns are read. Template counts found damaged are passed over the same way (the columns still answer).
   */
  private byTemplateCounts (fd: number, path: string, b: StoredBlock, it: ScanItem): { bucket: number, lines: Float64Array } | undefined {
    if (b.tcounts === undefined || !this.cq.takesTemplateCounts() || it.start > b.start || it.end < b.end || it.minOffset > b.start) return undefined
    let s: TemplateCounts
    try {
      s = decodeTemplateCounts(streamOf(fd, path, b, 'tcounts'))
    } catch (err) {
      if (unreadableHere(err)) return undefined
      throw err
    }
    // Every line in the one bucket that counts the oldest and the newest (a block outside every bucket:
    // its columns, which count nothing of it either).
    const bucket = s.entries === 0 ? -1 : this.bucketOf(s.minMs)
    if (s.entries > 0 && (bucket === -1 || this.bucketOf(s.maxMs) !== bucket)) return undefined
    const lines = new Float64Array(LEVELS)
    return this.cq.countTemplates(s, (level, n) => { lines[level]! += n }) ? { bucket, lines } : undefined
  }

  /** Counts item `k`; false when its columns are not there (the main thread reads it). */
  item (k: number, it: ScanItem): boolean {
    const file = segmentFile(it.dir, it.segment)
    if (file === undefined) return false
    const blocks = covering(file.footer.blocks, it.start, it.end)
    if (blocks === undefined || blocks.some(b => b.cols === undefined)) return false
    // Nothing is counted until every block has been read: an item that falls back is counted by the main thread alone.
    const spans: Array<{ cols: Columns, base: number }> = []
    const counted: Array<{ bucket: number, lines: Float64Array }> = []
    for (const b of blocks) {
      try {
        const whole = this.byTemplateCounts(file.fd, file.path, b, it)
        if (whole !== undefined) counted.push(whole)
        else spans.push({ cols: columnsOf(file.fd, file.path, b, this.cq.needsMessages()), base: b.start })
      } catch (err) {
        if (unreadableHere(err)) return false
        throw err
      }
    }
    this.fromTemplateCounts += counted.length
    for (const { bucket, lines } of counted) {
      if (bucket === -1) continue // no line to count
      for (let level = 0; level < LEVELS; level++) this.counts[level * this.range.buckets + bucket]! += lines[level]!
    }
    for (const { cols, base } of spans) {
      const from = lineAt(cols, it.start - base)
      const to = lineAt(cols, it.end - base)
      const undecided: number[] = []
      this.cq.scan(cols, from, to, it.minOffset - base, i => this.add(cols.ms[i]!, cols.level[i]!), i => undecided.push(i))
      // The scan names lines without a message column first, then the matches: in order of offset here,
      // as the main thread reads them from the first to the last at once.
      for (const i of undecided.sort((a, b) => a - b)) this.undecided.push(k, base + cols.starts[i]!, base + cols.starts[i + 1]!)
    }
    this.blocks++
    return true
  }
}

/**
 * Lines picked for a search, gathered end to end (see PickedLines) into a buffer of exactly their size
 * (`need` before each block's lines): the reply transfers it as it is, no copy, no unused tail.
 */
class PickedWriter {
  private out = Buffer.alloc(0)
  private used = 0
  private readonly ends: number[] = []
  private readonly flags: number[] = []
  private readonly times: number[] = []

  /** Room for `bytes` more (a block's picked lines, their newlines included). */
  need (bytes: number): Buffer {
    if (this.used + bytes > this.out.length) {
      // Not pooled: a buffer of its own, which postMessage can transfer.
      const bigger = Buffer.allocUnsafeSlow(this.used + bytes)
      this.out.copy(bigger, 0, 0, this.used)
      this.out = bigger
    }
    return this.out
  }

  at (): number {
    return this.used
  }

  /** A line of `length` bytes (its newline included, if it has one) was written at `at()`. */
  done (length: number, undecided: boolean, ms: number): void {
    this.used += length
    this.ends.push(this.used)
    this.flags.push(undecided ? 1 : 0)
    this.times.push(ms)
  }

  result (): PickedLines {
    return { lines: this.out.subarray(0, this.used), ends: Uint32Array.from(this.ends), undecided: Uint8Array.from(this.flags), ms: Float64Array.from(this.times) }
  }
}

/**
 * Picks the lines of search candidate `it` (see PickedLines): per footer block it covers, the columns, then
 * — only when they pick a line — the stored lines, from which the picked lines alone are rebuilt
 * (spliceLine): their stored bytes' crc (zcrc) vouches for them. A block whose footer has no zcrc (written
 * before it) is rebuilt whole and checked by the crc of the original, as the main thread would. Undefined
 * when the candidate cannot be read here: no columns, damage, the file gone — the main thread reads it,
 * and reports what is wrong.
 */
export function pick (cq: ColumnQuery, it: ScanItem): PickedLines | undefined {
  const file = segmentFile(it.dir, it.segment)
  if (file === undefined) return undefined
  const blocks = covering(file.footer.blocks, it.start, it.end)
  if (blocks === undefined || blocks.some(b => b.cols === undefined)) return undefined
  const out = new PickedWriter()
  try {
    for (const b of blocks) {
      let cols = columnsOf(file.fd, file.path, b, cq.needsMessages())
      const picked: number[] = []
      cq.scan(cols, lineAt(cols, it.start - b.start), lineAt(cols, it.end - b.start), it.minOffset - b.start, i => picked.push(i * 2), i => picked.push(i * 2 + 1))
      if (picked.length === 0) continue
      picked.sort((x, y) => x - y)
      // The picked lines are rebuilt with their messages: format 3 reads the vars now, for the blocks that
      // pick, and rebuilds the messages of the picked lines alone (the others only measured).
      // (Only where every stream has its zcrc: a block checked by its original's crc is rebuilt whole.)
      // The same lines are all a format 4 block decodes of its pieces (those holding them).
      let only: Uint8Array | undefined
      if (b.cut !== undefined) {
        const trusted = b.zcrc !== undefined && b.cols?.zcrc !== undefined && b.vars?.zcrc !== undefined
        only = trusted ? new Uint8Array(cols.n) : undefined
        if (only !== undefined) for (const v of picked) only[v >> 1] = 1
        cols = withMessages(file.fd, file.path, b, cols, only)
      }
      const { lines, piece, offsets, cut } = linesOf(file.fd, file.path, b, cols, only)
      let bytes = 0
      for (const v of picked) bytes += cols.starts[(v >> 1) + 1]! - cols.starts[v >> 1]!
      const buf = out.need(bytes)
      for (const v of picked) {
        const i = v >> 1
        const length = cols.starts[i + 1]! - cols.starts[i]!
        const at = out.at()
        const from = piece === undefined ? lines[0]! : lines[piece[i]!]!
        if (cut) spliceLine(cols, from, offsets[i]!, i, buf, at)
        else from.copy(buf, at, offsets[i]!, offsets[i]! + length)
        out.done(length, (v & 1) === 1, (cols.flags[i]! & COL_HEAD) !== 0 ? cols.ms[i]! : NaN)
      }
    }
  } catch (err) {
    if (unreadableHere(err)) return undefined
    throw err
  }
  return out.result()
}

/**
 * Block `b`'s stored lines, decoded and checked, with where each line starts in them: cut lines (`cut`,
 * to be spliced line by line) when the zcrc vouches for them, else the original lines, rebuilt and checked.
 * In format 4 (pieces.ts) only the pieces holding a line marked in `wanted` are decoded (all without it):
 * line i is then in `lines[piece[i]]` (the offsets of lines in pieces not decoded mean nothing); otherwise
 * every line is in `lines[0]`.
 */
function linesOf (fd: number, path: string, b: StoredBlock, cols: Columns, wanted?: Uint8Array):
{ lines: ReadonlyArray<Buffer | undefined>, piece?: Uint32Array, offsets: Uint32Array, cut: boolean } {
  const { bytes: packed, checked } = stored(fd, path, b, 'lines', b.at, b.length)
  const size = b.cut ?? b.end - b.start
  // The columns (and vars) a cut block's lines are rebuilt from: checked by their own stored bytes' crc.
  const colsChecked = b.cols?.zcrc !== undefined && (b.vars === undefined || b.vars.zcrc !== undefined)
  const trusted = b.cut !== undefined && checked && colsChecked
  let decoded: Buffer
  if (b.pieces !== undefined) {
    const table = pieceTable(packed, b.pieces)
    const decodedBytes = table.size.reduce((a, n) => a + n, 0)
    if (decodedBytes !== size) throw new ColumnsError(`pieces of ${decodedBytes} bytes, the footer says ${size}`)
    const order = storedOrder(cols, table)
    const need = piecesHolding(table, order, trusted ? wanted : undefined)
    const placed = placeLines(cols, table, order, [...need].map((x, p) => x === 0 ? undefined : decodeSync(b.codec, packed.subarray(table.at[p]!, table.at[p]! + table.length[p]!), table.size[p]!)))
    if (trusted) return { lines: placed.pieces, piece: placed.piece, offsets: placed.offsets, cut: true }
    decoded = inLineOrder(cols, placed)
  } else {
    decoded = decodeSync(b.codec, packed, size)
  }
  if (decoded.length !== size) throw new FormatError(path, `block at ${b.start} decodes to ${decoded.length} bytes, not ${size}`)
  if (trusted) {
    const offsets = cutOffsets(cols)
    if (offsets[cols.n] !== size) throw new ColumnsError(`columns cover ${offsets[cols.n]!} of ${size} stored bytes`)
    return { lines: [decoded], offsets, cut: true }
  }
  let lines = decoded
  if (b.cut !== undefined) {
    lines = Buffer.allocUnsafe(b.end - b.start)
    spliceLines(cols, decoded, lines)
  }
  checkBlock(path, b, lines, checked && (b.cut === undefined || colsChecked))
  return { lines: [lines], offsets: cols.starts, cut: false }
}

export async function run (id: number, query: ScanQuery, range: ScanRange, items: ScanItem[]): Promise<ScanReply> {
  const job = new Job(id, query, range)
  for (let k = 0; k < items.length; k++) {
    // Between two blocks: a cancel sent meanwhile is read here (the thread's messages are handled between turns).
    if (k > 0) await new Promise(resolve => setImmediate(resolve))
    if (cancelled) return { code: 'cancelled', id, blocks: job.blocks }
    if (!job.item(k, items[k]!)) job.fallback.push(k)
  }
  return { code: 'done', id, counts: job.counts, undecided: job.undecided, fallback: job.fallback, blocks: job.blocks, fromTemplateCounts: job.fromTemplateCounts }
}


function finish (port: MessagePort, reply: ScanReply): void {
  current = -1
  cancelled = false
  const transfer = reply.code === 'done'
    ? [reply.counts.buffer as ArrayBuffer]
    : reply.code === 'picked' && reply.picked !== undefined ? [reply.picked.lines.buffer as ArrayBuffer, reply.picked.ends.buffer as ArrayBuffer, reply.picked.undecided.buffer as ArrayBuffer, reply.picked.ms.buffer as ArrayBuffer] : []
  port.postMessage(reply, transfer)
}

/**
 * Closes the segment held open (the pool says so when no count is left): retention may delete it, and an
 * open handle would keep its space. Between the jobs of a count it stays open: one open, stat and footer
 * per segment, not per job.
 */
function release (): void {
  const fd = held?.fd
  held = undefined
  if (fd === undefined) return
  try {
    closeSync(fd)
  } catch {
    // Closed already: nothing held.
  }
}

/** Answers the pool's requests on `port` (the thread's parentPort; a test's channel). */
export function serve (port: MessagePort): void {
  port.on('message', (req: ScanRequest) => onRequest(port, req))
}

function onRequest (port: MessagePort, req: ScanRequest): void {
  if (req.code === 'release') {
    if (current === -1) release()
    return
  }
  if (req.code === 'cancel') {
    // A cancel that crossed the job's answer is for a job already over: nothing to stop.
    if (req.id === current) cancelled = true
    return
  }
  current = req.id
  if (req.code === 'pick') {
    let reply: ScanReply
    try {
      // One candidate: a few milliseconds, so no cancel is looked for within it.
      const picked = pick(ColumnQuery.of({ ...req.query, fields: [], limit: 0, after: undefined, expr: undefined })!, req.item)
      reply = { code: 'picked', id: req.id, picked, blocks: picked === undefined ? 0 : 1 }
    } catch (err) {
      reply = { code: 'error', id: req.id, message: (err as Error).message }
    }
    finish(port, reply)
    return
  }
  run(req.id, req.query, req.range, req.items).then(
    reply => finish(port, reply),
    (err: Error) => finish(port, { code: 'error', id: req.id, message: err.message })
  )
}

/**
 * The threads' nice value (Linux: a thread's own). +5, not +10: a nice value yields to every process on the
 * machine, not only to this one's ingest, and searches run here now. Measured on 2M compacted events
 * (bench/count.mjs; and with two CPU-bound processes beside the collector): ingest while counts loop
 * 0.94× of alone at +10, 0.82× at +5, 0.79× at 0 (the goal is 0.7×); beside the two busy processes a
 * count took 529 ms at +10, 181 at +5, 161 on the main thread, a newest-100 of a rare word 856, 326 and
 * 411 ms: at +10 the threads starved, at +5 they are no slower than the main thread would be.
 */
const NICE = 5

if (parentPort !== null) {
  // This thread yields to the process's main thread (ingest, tails) when the two compete for a core.
  try {
    setPriority(NICE)
  } catch {
    // Not permitted here (some containers): the thread runs at the process's priority.
  }
  serve(parentPort)
}
