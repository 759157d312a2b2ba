// A count's scan thread (scan-pool.ts starts SCAN_THREADS of them): the columns of compacted blocks, read,
// decoded and counted here, so the main thread only adds up what comes back.
//
//   main ──{ count, id, query, range, items }──► per item: <segment>.z ─► footer (cached) ─► the blocks it
//        ◄──{ done, id, counts, undecided, fallback, blocks }──  covers ─► columns (brotli, sync: on this
//                                                                 thread, not in libuv's pool that the
//                                                                 journal's writes wait on) ─► ColumnQuery.scan
//   main ──{ cancel, id }──► stops between two blocks ──{ cancelled, id, blocks }──► main
//
// counts: per level, per bucket (level × buckets + bucket), as the main thread's Counter bins them.
// undecided: [item, start, end] of each line the columns leave to the exact parse (the main thread does it).
// fallback: the items whose columns are not there (NDJSON still, an older footer, damaged or gone): the
// main thread reads them its own way, so damage is reported once and by the usual path.
// The thread runs at a lower priority than the process's main thread (its own nice value, Linux): ingest
// and tails are served first whenever the two compete for a core.
import { open, type FileHandle } from 'node:fs/promises'
import { constants, setPriority } from 'node:os'
import { join } from 'node:path'
import { parentPort, type MessagePort } from 'node:worker_threads'
import { brotliDecompressSync } from 'node:zlib'
import { CODEC_STORED, COMPACTED_SUFFIX, FormatError, checkColumns, type FooterBlock } from '../journal/compacted/format'
import { readFooter } from '../journal/segment-file'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { ColumnQuery, ColumnsError, covering, decodeColumns, lineAt, type Columns } from './columns'
import type { ReadQuery } from './query'

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
  | { code: 'cancel', id: number }
  | { code: 'release' }

export type ScanReply =
  | { code: 'done', id: number, counts: Float64Array, undecided: number[], fallback: number[], blocks: number }
  | { code: 'cancelled', id: number, blocks: number }
  | { code: 'error', id: number, message: string }

const LEVELS = CANONICAL_LEVELS.length
const MIN_CHUNK = 64

/** The job running (the pool gives a thread one at a time), and whether it was cancelled. */
let current = -1
let cancelled = false

/** The file last opened: consecutive items mostly share a segment. */
let held: { key: string, fh: FileHandle | undefined, path: string } | undefined

async function segmentFile (dir: string, segment: string): Promise<{ fh: FileHandle, path: string } | undefined> {
  const key = `${dir}\n${segment}`
  if (held?.key === key) return held.fh === undefined ? undefined : { fh: held.fh, path: held.path }
  await held?.fh?.close()
  held = undefined
  const path = join(dir, segment) + COMPACTED_SUFFIX
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  held = { key, fh, path }
  return fh === undefined ? undefined : { fh, path }
}

/** A block's columns, decoded; with its vars (format 3) only when `messages`: the query's text holds a digit. */
async function columnsOf (fh: FileHandle, path: string, b: FooterBlock, messages: boolean): Promise<Columns> {
  const vars = messages && b.vars !== undefined ? await streamOf(fh, path, b, 'vars') : undefined
  return decodeColumns(await streamOf(fh, path, b, 'columns'), b.end - b.start, vars)
}

async function streamOf (fh: FileHandle, path: string, b: FooterBlock, what: 'columns' | 'vars'): Promise<Buffer> {
  const cols = what === 'columns' ? b.cols! : b.vars!
  const raw = Buffer.allocUnsafe(cols.length)
  for (let got = 0; got < raw.length;) {
    const { bytesRead } = await fh.read(raw, got, raw.length - got, cols.at + got)
    if (bytesRead === 0) throw new FormatError(path, 'compacted segment ends early')
    got += bytesRead
  }
  const bytes = cols.codec === CODEC_STORED ? raw : brotliDecompressSync(raw, { chunkSize: Math.max(cols.size + 1, MIN_CHUNK) })
  checkColumns(path, b, bytes, false, what)
  return bytes
}

class Job {
  readonly counts: Float64Array
  readonly undecided: number[] = []
  readonly fallback: number[] = []
  blocks = 0
  private readonly cq: ColumnQuery

  constructor (readonly id: number, query: ScanQuery, private readonly range: ScanRange) {
    this.counts = new Float64Array(LEVELS * range.buckets)
    // The main thread only sends queries whose columns decide (ColumnQuery.of was not undefined there).
    this.cq = ColumnQuery.of({ ...query, fields: [], limit: 0, after: undefined, expr: undefined })!
  }

  private add (ms: number, level: number): void {
    const r = this.range
    if (ms < r.fromMs || ms >= r.toMs) return
    const b = Math.floor((ms - r.first) / r.intervalMs)
    if (b >= 0 && b < r.buckets) this.counts[level * r.buckets + b]!++
  }

  /** Counts item `k`; false when its columns are not there (the main thread reads it). */
  async item (k: number, it: ScanItem): Promise<boolean> {
    const file = await segmentFile(it.dir, it.segment)
    if (file === undefined) return false
    let blocks: FooterBlock[] | undefined
    try {
      blocks = covering((await readFooter(file.fh, file.path)).blocks, it.start, it.end)
    } catch (err) {
      if (err instanceof FormatError) return false
      throw err
    }
    if (blocks === undefined || blocks.some(b => b.cols === undefined)) return false
    const spans: Array<{ cols: Columns, base: number }> = []
    for (const b of blocks) {
      try {
        spans.push({ cols: await columnsOf(file.fh, file.path, b, this.cq.needsMessages()), base: b.start })
      } catch (err) {
        if (err instanceof FormatError || err instanceof ColumnsError || (err as { code?: string }).code?.startsWith('ERR_ZLIB') === true ||
          (err as { errno?: unknown }).errno !== undefined) return false
        throw err
      }
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

export async function run (id: number, query: ScanQuery, range: ScanRange, items: ScanItem[]): Promise<ScanReply> {
  const job = new Job(id, query, range)
  for (let k = 0; k < items.length; k++) {
    if (cancelled) return { code: 'cancelled', id, blocks: job.blocks }
    if (!await job.item(k, items[k]!)) job.fallback.push(k)
  }
  return { code: 'done', id, counts: job.counts, undecided: job.undecided, fallback: job.fallback, blocks: job.blocks }
}


function finish (port: MessagePort, reply: ScanReply): void {
  current = -1
  cancelled = false
  port.postMessage(reply, reply.code === 'done' ? [reply.counts.buffer as ArrayBuffer] : [])
}

/**
 * Closes the segment held open (the pool says so when no count is left): retention may delete it, and an
 * open handle would keep its space. Between the jobs of a count it stays open: one open, stat and footer
 * per segment, not per job.
 */
async function release (): Promise<void> {
  const fh = held?.fh
  held = undefined
  await fh?.close().catch(() => {})
}

/** Answers the pool's requests on `port` (the thread's parentPort; a test's channel). */
export function serve (port: MessagePort): void {
  port.on('message', (req: ScanRequest) => onRequest(port, req))
}

function onRequest (port: MessagePort, req: ScanRequest): void {
  if (req.code === 'release') {
    if (current === -1) void release()
    return
  }
  if (req.code === 'cancel') {
    // A cancel that crossed the job's answer is for a job already over: nothing to stop.
    if (req.id === current) cancelled = true
    return
  }
  current = req.id
  run(req.id, req.query, req.range, req.items).then(
    reply => finish(port, reply),
    (err: Error) => finish(port, { code: 'error', id: req.id, message: err.message })
  )
}

if (parentPort !== null) {
  // On Linux a nice value is a thread's own: this one yields to the process's main thread (ingest, tails).
  try {
    setPriority(constants.priority.PRIORITY_BELOW_NORMAL)
  } catch {
    // Not permitted here (some containers): the thread runs at the process's priority.
  }
  serve(parentPort)
}
