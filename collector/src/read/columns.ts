// The columns of a compacted block: what counts and searches read most, per line, readable without
// decompressing or parsing the lines themselves (issue #24: "counting a word should read the messages only").
//
//   compaction:  block of whole lines ─► per line, in place: length, time (ms), level, app, flags, message bytes
//                                     ─► encodeBlock ─► columns ─► (brotli, compact-segment.ts) ─► the footer's `cols`
//                                                   └► the lines without the timestamps and messages the columns hold
//   lines read:  columns + those lines ─► spliceLines ─► the original lines (format 2, journal/segment-file.ts)
//   reads:       `cols` ─► decodeColumns ─► ColumnQuery.scan: message column (one regex over the block's
//                messages), then time / level / app per matching line ─► decided: counted / not a match
//                                                                      └► undecided: the line, parsed
//   format 3:    the columns hold each message's template (templates.ts), the `vars` stream its digit runs:
//                a text without digits is tested on the block's distinct templates, once each; with `vars`
//                decodeColumns rebuilds the message column (a text with digits, a splice)
//
// Uncompressed layout (little-endian; n lines; every section aligned for its typed array):
//
//   format 2:  u32 n │ u32 dictBytes │ f64 baseMs │ u32 length ×n │ u32 message length ×n │ i32 ms delta ×n │ u16 app ×n │ u8 level ×n
//              │ u8 flags ×n │ app dictionary (u16 byte length + bytes, dictBytes in all) │ messages (n of them, each ending in '\n')
//   format 3:  u32 n + layout bits │ u32 dictBytes │ f64 baseMs │ u32 templates │ u32 templateBytes │ the fixed sections (see
//              `layout`: lengths, deltas and template indexes in 16 or 32 bits) │ app dictionary │ templates (each ending in '\n')
//
// A line's flags say what of it may be trusted in place; anything else is "undecided" and takes the exact
// parse path, so the columns never answer differently from the lines (collector/test/read-columns.test.ts):
//   HEAD     the line has the fixed head (line-head.ts) with a canonical level and a timestamp that reads
//            back as itself (so comparing ms is comparing the ISO text); its time is baseMs + the deltas
//   APP      app_name right after the head, its bytes its text (no escape, ASCII), then a comma
//   MESSAGE  message right after the level or that app_name, a string with no escape and neither İ nor K
//            (head-fields.ts: their lower case is ASCII); its bytes are in the message column
// These are exactly the lines head-fields.ts decides in place, so the fast paths agree with the slow ones.
import { endianness } from 'node:os'
import { LEVEL_START, TS_LENGTH, TS_START, hasHead } from '../journal/line-head'
import { APP_KEY, BACKSLASH, COMMA, DOTTED_CAPITAL_I, KELVIN, MESSAGE_KEY, QUOTE } from './head-fields'
import { CANONICAL_LEVELS } from '../normalise/levels'
import type { FooterBlock } from '../journal/compacted/format'
import type { ReadQuery } from './query'
import { ColumnsError, TemplateWriter, rebuildMessages, templateStarts, varsWithLengths, type Templates } from './templates'
import type { TemplateCounts } from './template-counts'

export { ColumnsError }

export const COL_HEAD = 1
export const COL_APP = 2
export const COL_MESSAGE = 4
/** The app index of a line whose app is not in the dictionary. */
export const NO_APP = 0xffff

const HEADER_BYTES = 16
/** Format 3's header: format 2's, then the template count and the dictionary's bytes. */
const TEMPLATED_HEADER_BYTES = 24
/** Set in a format 3 header's first word (beside n, which never reaches 2^29): the columns hold templates. */
const TEMPLATED = 0x80000000
/** Format 3, also in that word: every line length fits 16 bits, and so does every time delta (see layout). */
const NARROW_LENGTHS = 0x40000000
const NARROW_DELTAS = 0x20000000
const LINE_COUNT = 0x1fffffff
const MAX_NARROW_DELTA = 0x7fff
/** More templates than this in a block (possible with tiny lines only): their indexes take 32 bits. */
const NARROW_TEMPLATES = 0x10000
const NL = 10
const LEVEL_BYTES = CANONICAL_LEVELS.map(l => Buffer.from(l + '"', 'latin1'))
const MAX_DELTA = 0x7fffffff

/** A block's columns, decoded: typed arrays over one buffer, and the start of each line and message. */
export interface Columns {
  n: number
  /** Each line's start offset in the block, and (at n) the block's length. */
  starts: Uint32Array
  /** Each line's timestamp in epoch ms (meaningful for HEAD lines only). */
  ms: Float64Array
  app: Uint16Array
  level: Uint8Array
  flags: Uint8Array
  /** The apps the `app` column indexes, as their UTF-8 bytes. */
  apps: Buffer[]
  /**
   * The message column: n messages, each ending in '\n' (empty for lines without MESSAGE). Absent when the
   * columns hold templates (format 3) and were decoded without their vars: only `templates` are there.
   */
  messages?: Buffer
  /** Each message's start in `messages`, and (at n) its length (absent with `messages`). */
  messageStarts?: Uint32Array
  /** Format 3: the block's message templates and each line's (templates.ts). */
  templates?: Templates
}

/** Format 3: the bytes per line of its sections whose width depends on the block (2 or 4). */
interface Widths {
  lengths: number
  deltas: number
  template: number
}

/** Where each section of the columns of n lines starts (-1: not in this layout). */
interface Layout {
  lengths: number
  messageLengths: number
  deltas: number
  template: number
  app: number
  /** Where the 32-bit sections start (after the header), the 16-bit ones (after them), and the 8-bit ones. */
  first32: number
  first16: number
  level: number
  flags: number
  end: number
}

/**
 * The sections of the columns, each aligned for its typed array (the 32-bit ones first, then the 16-bit):
 *   format 2:  header 16 │ length ×n │ message length ×n │ ms delta ×n │ app ×n │ level ×n │ flags ×n
 *   format 3:  header 24 │ length ×n │ ms delta ×n │ template ×n │ app ×n │ level ×n │ flags ×n, where lengths,
 *              deltas and template indexes take 16 bits when all of the block's fit (most blocks: a count
 *              decompresses a fifth less), else 32, and the 32-bit ones come first.
 * Measured on bench/peers data (51 blocks): 32-bit lengths and deltas 0.69 MB stored, 9.8 ms to decompress;
 * 16-bit 0.61 MB, 7.6 ms.
 */
function layout (n: number, widths: Widths | undefined): Layout {
  if (widths === undefined) {
    const lengths = HEADER_BYTES
    const app = lengths + 12 * n
    return { lengths, messageLengths: lengths + 4 * n, deltas: lengths + 8 * n, template: -1, app, first32: lengths, first16: app, level: app + 2 * n, flags: app + 3 * n, end: app + 4 * n }
  }
  const at: Record<string, number> = {}
  let next = TEMPLATED_HEADER_BYTES
  let first16 = next
  for (const width of [4, 2]) {
    if (width === 2) first16 = next
    for (const [name, w] of [['lengths', widths.lengths], ['deltas', widths.deltas], ['template', widths.template], ['app', 2]] as const) {
      if (w !== width) continue
      at[name] = next
      next += w * n
    }
  }
  return { lengths: at.lengths!, messageLengths: -1, deltas: at.deltas!, template: at.template!, app: at.app!, first32: TEMPLATED_HEADER_BYTES, first16, level: next, flags: next + n, end: next + 2 * n }
}

/** The widths a format 3 header's first word and template count say. */
function widthsOf (word: number, templateCount: number): Widths {
  return {
    lengths: (word & NARROW_LENGTHS) !== 0 ? 2 : 4,
    deltas: (word & NARROW_DELTAS) !== 0 ? 2 : 4,
    template: templateCount > NARROW_TEMPLATES ? 4 : 2
  }
}

function startsWith (buf: Buffer, at: number, end: number, key: Buffer): boolean {
  if (at + key.length > end) return false
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key[i]) return false
  return true
}

/** Whether buf[from, to) holds `seq` (searched within that range only: a miss must not scan the whole block). */
function holds (buf: Buffer, from: number, to: number, seq: Buffer): boolean {
  return buf.subarray(from, to).indexOf(seq) !== -1
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** The digits buf[at, at + n) as a number, or NaN when one is not a digit. */
function digits (buf: Buffer, at: number, n: number): number {
  let v = 0
  for (let i = at; i < at + n; i++) {
    const d = buf[i]! - 0x30
    if (d < 0 || d > 9) return NaN
    v = v * 10 + d
  }
  return v
}

/**
 * The epoch ms of the head's timestamp at `at` (`YYYY-MM-DDTHH:MM:SS.mmmZ`, years 1970–9999), or NaN when it
 * is not one that Date would write back the same: then comparing ms is comparing the text, as the slow path
 * does. Read digit by digit: a Date per line would be most of the columns' cost.
 */
export function isoMs (buf: Buffer, at: number): number {
  if (buf[at + 4] !== 0x2d || buf[at + 7] !== 0x2d || buf[at + 10] !== 0x54 || buf[at + 13] !== 0x3a || buf[at + 16] !== 0x3a ||
    buf[at + 19] !== 0x2e || buf[at + 23] !== 0x5a) return NaN
  const year = digits(buf, at, 4)
  const month = digits(buf, at + 5, 2)
  const day = digits(buf, at + 8, 2)
  const hour = digits(buf, at + 11, 2)
  const minute = digits(buf, at + 14, 2)
  const second = digits(buf, at + 17, 2)
  const milli = digits(buf, at + 20, 3)
  // NaN fails every comparison below.
  if (!(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59 && milli >= 0)) return NaN
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > DAYS_IN_MONTH[month - 1]! + (month === 2 && leap ? 1 : 0)) return NaN
  return Date.UTC(year, month - 1, day, hour, minute, second, milli)
}

/** The canonical level whose name (and closing quote) start at `at`, or -1. */
function levelAt (buf: Buffer, at: number, end: number): number {
  for (let i = 0; i < LEVEL_BYTES.length; i++) if (startsWith(buf, at, end, LEVEL_BYTES[i]!)) return i
  return -1
}

/** Builds the columns while a block is cut: one call per line, then `bytes()`. */
class ColumnWriter {
  private n = 0
  private lengths: number[] = []
  private ms: number[] = []
  private app: number[] = []
  private level: number[] = []
  private flags: number[] = []
  private readonly dict = new Map<string, number>()
  private readonly dictBytes: Buffer[] = []
  /** Each in-place message's [from, to) in the block, in turn. */
  private readonly messages: number[] = []
  private messageBytes = 0
  /** Format 3: the block's templates, and each line's (0 for lines without MESSAGE). */
  private readonly templates: TemplateWriter | undefined
  private template: number[] = []
  /** Format 3: each line's bytes of the vars stream (0 for a line without a template). */
  private varLengths: number[] = []

  constructor (private readonly buf: Buffer, templated: boolean) {
    this.templates = templated ? new TemplateWriter() : undefined
  }

  /** The line buf[start, end) (end: its newline, or the block's end). */
  add (start: number, end: number, lineLength: number): void {
    const buf = this.buf
    let flags = 0
    let ms = 0
    let level = 0
    let app = NO_APP
    let from = 0
    let to = 0
    if (hasHead(buf, start, end)) {
      level = levelAt(buf, start + LEVEL_START, end)
      ms = isoMs(buf, start + TS_START)
      if (level !== -1 && !Number.isNaN(ms)) flags |= COL_HEAD
      else level = 0
      // The walk head-fields.ts makes: the level's closing quote, a comma, app_name?, message.
      const levelEnd = buf.indexOf(QUOTE, start + LEVEL_START)
      if (levelEnd !== -1 && levelEnd < end && buf[levelEnd + 1] === COMMA) {
        let at = levelEnd + 2
        let appOk = true
        if (startsWith(buf, at, end, APP_KEY)) {
          const a = at + APP_KEY.length
          const b = plainString(buf, a, end, false)
          appOk = b !== -1 && buf[b + 1] === COMMA
          if (appOk) {
            flags |= COL_APP
            app = this.appIndex(buf, a, b)
            at = b + 2
          }
        }
        if (appOk && startsWith(buf, at, end, MESSAGE_KEY)) {
          from = at + MESSAGE_KEY.length
          high = false
          to = plainString(buf, from, end, true)
          if (to !== -1 && (!high || (!holds(buf, from, to, DOTTED_CAPITAL_I) && !holds(buf, from, to, KELVIN)))) flags |= COL_MESSAGE
        }
      }
    }
    let template = 0
    let varBytes = 0
    if ((flags & COL_MESSAGE) !== 0 && this.templates !== undefined) {
      const before = this.templates.varsBytes
      template = this.templates.add(buf, from, to)
      varBytes = this.templates.varsBytes - before
      // A control byte where none can be (templates.ts): the message stays in the line, read by the parse.
      if (template === -1) {
        flags &= ~COL_MESSAGE
        template = 0
      }
    }
    this.template.push(template)
    this.varLengths.push(varBytes)
    this.lengths.push(lineLength)
    this.ms.push(ms)
    this.app.push(app)
    this.level.push(level)
    if ((flags & COL_MESSAGE) !== 0) {
      this.messages.push(from, to)
      this.messageBytes += to - from
    }
    this.flags.push(flags)
    this.n++
  }

  private appIndex (buf: Buffer, from: number, to: number): number {
    const name = buf.latin1Slice(from, to)
    const known = this.dict.get(name)
    if (known !== undefined) return known
    if (this.dict.size === NO_APP) return NO_APP
    this.dict.set(name, this.dict.size)
    this.dictBytes.push(Buffer.from(buf.subarray(from, to)))
    return this.dict.size - 1
  }

  /** The columns, encoded; after it `flags` holds each line's final flags (a time that does not fit loses HEAD). */
  bytes (): Buffer {
    const n = this.n
    const dictBytes = this.dictBytes.reduce((s, b) => s + 2 + b.length, 0)
    const tw = this.templates
    const templates = tw?.templates()
    // The first HEAD line's time is the base; each delta is from the line before (lines without HEAD keep it).
    let base = 0
    for (let i = 0; i < n; i++) if ((this.flags[i]! & COL_HEAD) !== 0) { base = this.ms[i]!; break }
    const deltas = new Array<number>(n).fill(0)
    let prev = base
    let widest = 0
    for (let i = 0; i < n; i++) {
      if ((this.flags[i]! & COL_HEAD) === 0) continue
      const delta = this.ms[i]! - prev
      // A jump past ±24 days does not fit: the line is left undecided rather than its time guessed.
      if (delta > MAX_DELTA || delta < -MAX_DELTA) {
        this.flags[i] = this.flags[i]! & ~COL_HEAD
        continue
      }
      deltas[i] = delta
      widest = Math.max(widest, Math.abs(delta))
      prev = this.ms[i]!
    }
    let word = n
    let widths: Widths | undefined
    if (tw !== undefined) {
      const narrowLengths = this.lengths.every(l => l <= 0xffff)
      const narrowDeltas = widest <= MAX_NARROW_DELTA
      word = (n | TEMPLATED | (narrowLengths ? NARROW_LENGTHS : 0) | (narrowDeltas ? NARROW_DELTAS : 0)) >>> 0
      widths = widthsOf(word, tw.count)
    }
    const lay = layout(n, widths)
    const tail = templates === undefined ? this.messageBytes + n : templates.length
    const out = Buffer.alloc(lay.end + dictBytes + tail)
    out.writeUInt32LE(word, 0)
    out.writeUInt32LE(dictBytes, 4)
    out.writeDoubleLE(base, 8)
    if (tw !== undefined) {
      out.writeUInt32LE(tw.count, 16)
      out.writeUInt32LE(templates!.length, 20)
    }
    const w = widths ?? { lengths: 4, deltas: 4, template: 0 }
    for (let i = 0; i < n; i++) {
      out.writeUIntLE(this.lengths[i]!, lay.lengths + w.lengths * i, w.lengths)
      out.writeIntLE(deltas[i]!, lay.deltas + w.deltas * i, w.deltas)
      if (w.template !== 0) out.writeUIntLE(this.template[i]!, lay.template + w.template * i, w.template)
      out.writeUInt16LE(this.app[i]!, lay.app + 2 * i)
      out[lay.level + i] = this.level[i]!
      out[lay.flags + i] = this.flags[i]!
    }
    let at = lay.end
    for (const b of this.dictBytes) {
      out.writeUInt16LE(b.length, at)
      at += 2 + b.copy(out, at + 2)
    }
    if (templates !== undefined) {
      templates.copy(out, at)
      return out
    }
    // Each message's length (its newline not counted; 0 for lines without MESSAGE): a reader finds the
    // messages by a sum, not by a search for every newline.
    for (let i = 0, m = 0; i < n; i++) {
      let length = 0
      if ((this.flags[i]! & COL_MESSAGE) !== 0) {
        length = this.messages[m + 1]! - this.messages[m]!
        m += 2
      }
      out.writeUInt32LE(length, lay.messageLengths + 4 * i)
    }
    let m = 0
    for (let i = 0; i < n; i++) {
      if ((this.flags[i]! & COL_MESSAGE) !== 0) {
        at += this.buf.copy(out, at, this.messages[m]!, this.messages[m + 1]!)
        m += 2
      }
      out[at++] = NL
    }
    return out
  }

  /**
   * Format 3: the digit runs of the templated messages (templates.ts), the block's `vars` stream; with
   * `lengths` (format 5) after each line's share of them.
   */
  variables (lengths: boolean): Buffer | undefined {
    const runs = this.templates?.variables()
    return runs === undefined || !lengths ? runs : varsWithLengths(this.varLengths, runs)
  }

  /** Each line's length in `cut()`'s lines, once it has made them. */
  cutLengths = new Uint32Array(0)

  /**
   * The block's lines with what the columns now hold cut out (format 2, call after `bytes()`): the
   * timestamp text of each HEAD line and the message text of each MESSAGE line. `spliceLines` puts them back.
   */
  cut (length: number, scratch?: Buffer): Buffer {
    const buf = this.buf
    let size = length
    for (let i = 0, m = 0; i < this.n; i++) {
      if ((this.flags[i]! & COL_HEAD) !== 0) size -= TS_LENGTH
      if ((this.flags[i]! & COL_MESSAGE) !== 0) {
        size -= this.messages[m + 1]! - this.messages[m]!
        m += 2
      }
    }
    const out = scratch !== undefined && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size)
    this.cutLengths = new Uint32Array(this.n)
    let at = 0
    for (let i = 0, m = 0, start = 0; i < this.n; i++) {
      const end = start + this.lengths[i]!
      const lineAt = at
      let from = start
      if ((this.flags[i]! & COL_HEAD) !== 0) {
        at += buf.copy(out, at, from, start + TS_START)
        from = start + TS_START + TS_LENGTH
      }
      if ((this.flags[i]! & COL_MESSAGE) !== 0) {
        at += buf.copy(out, at, from, this.messages[m]!)
        from = this.messages[m + 1]!
        m += 2
      }
      at += buf.copy(out, at, from, end)
      this.cutLengths[i] = at - lineAt
      start = end
    }
    return out
  }
}

/**
 * The end quote of the JSON string whose text starts at `from`, or -1 when it holds a backslash (its bytes
 * are not its text), does not end before `end`, or (unless `highOk`) holds non-ASCII bytes.
 */
function plainString (buf: Buffer, from: number, end: number, highOk: boolean): number {
  for (let i = from; i < end; i++) {
    const b = buf[i]!
    if (b === QUOTE) return i
    if (b === BACKSLASH) return -1
    if (b >= 0x80) {
      if (!highOk) return -1
      high = true
    }
  }
  return -1
}

/** Set by plainString when the string held non-ASCII bytes (one flag, not an object per line). */
let high = false

function writerOf (buf: Buffer, length: number, templated = false): ColumnWriter {
  const w = new ColumnWriter(buf, templated)
  for (let start = 0; start < length;) {
    let nl = buf.indexOf(NL, start)
    if (nl === -1 || nl >= length) nl = length - 1 // a last line without its newline (never in a closed segment)
    w.add(start, buf[nl] === NL ? nl : length, nl + 1 - start)
    start = nl + 1
  }
  return w
}

/** The columns of the whole lines in buf[0, length), encoded (uncompressed). */
export function encodeColumns (buf: Buffer, length: number): Buffer {
  return writerOf(buf, length).bytes()
}

/**
 * The columns of the whole lines in buf[0, length) and those lines with what the columns hold cut out
 * (format 2: each timestamp and message stored once, in the columns; `spliceLines` gives the lines back).
 * With `templates` (format 3) the columns hold each message's template and `vars` its digit runs, after
 * each line's share of them with `varLengths` (format 5). The cut lines are written into `scratch` when it
 * is long enough (they are then a view of it, valid until it is reused).
 */
export function encodeBlock (buf: Buffer, length: number, templates = false, varLengths = false, scratch?: Buffer):
{ columns: Buffer, lines: Buffer, vars: Buffer | undefined, cutLengths: Uint32Array } {
  const w = writerOf(buf, length, templates)
  const columns = w.bytes()
  const lines = w.cut(length, scratch)
  return { columns, lines, vars: w.variables(varLengths), cutLengths: w.cutLengths }
}

/** The day whose `YYYY-MM-DDT` dayText holds: consecutive lines mostly share it, so a Date per day, not per line. */
let textDay = NaN
const dayText = Buffer.alloc(11)

// The digit writers take values below 2^31: `| 0` keeps them small integers (cheaper than Math.floor on doubles).
function twoDigits (out: Buffer, at: number, v: number): void {
  const tens = (v / 10) | 0
  out[at] = 0x30 + tens
  out[at + 1] = 0x30 + v - tens * 10
}

/** Writes the ISO text of `ms` (a HEAD line's time: years 1970–9999, so 24 characters) at out[at]. */
function writeIso (out: Buffer, at: number, ms: number): void {
  const day = Math.floor(ms / 86_400_000)
  if (day !== textDay) {
    dayText.latin1Write(new Date(day * 86_400_000).toISOString(), 0, 11)
    textDay = day
  }
  for (let k = 0; k < 11; k++) out[at + k] = dayText[k]!
  const t = ms - day * 86_400_000
  const hour = Math.floor(t / 3_600_000)
  twoDigits(out, at + 11, hour)
  out[at + 13] = 0x3a
  const rest = t - hour * 3_600_000
  const minute = Math.floor(rest / 60_000)
  twoDigits(out, at + 14, minute)
  out[at + 16] = 0x3a
  writeSeconds(out, at, rest - minute * 60_000)
}

/** Writes `SS.mmmZ` of `t` ms into the minute at out[at + 17]. */
function writeSeconds (out: Buffer, at: number, t: number): void {
  const second = (t / 1000) | 0
  twoDigits(out, at + 17, second)
  out[at + 19] = 0x2e
  t -= second * 1000
  const hundreds = (t / 100) | 0
  out[at + 20] = 0x30 + hundreds
  twoDigits(out, at + 21, t - hundreds * 100)
  out[at + 23] = 0x5a
}

/**
 * Puts back into `cut` (a block's lines as `encodeBlock` stored them) what its columns hold, writing the
 * original lines into `out` (c.starts[c.n] bytes). Throws ColumnsError when the two do not fit each other;
 * bytes that fit but are wrong are left to the caller's crc of the whole block.
 *
 * The cut lines are copied once to the end of `out`, then each line is moved down to its place with what
 * was cut put back: a few copies within one buffer per line, none allocating. The write position never
 * passes the bytes still to be read (it trails them by what the lines not yet done had cut out).
 */
export function spliceLines (c: Columns, cut: Buffer, out: Buffer): void {
  const size = out.length
  if (size !== c.starts[c.n] || cut.length > size) throw new ColumnsError(`${cut.length} bytes of lines for a block of ${c.starts[c.n]!}`)
  const { flags, starts, messageStarts, ms, messages } = c
  // Format 3 columns decoded without their vars hold templates only: no message to put back.
  if (messages === undefined || messageStarts === undefined) throw new ColumnsError('columns decoded without their vars')
  const shift = size - cut.length
  out.set(cut, shift)
  let r = shift
  // The minute of the last time written and where its text is: lines close in time share most of it.
  let minute = NaN
  let minuteAt = 0
  for (let i = 0; i < c.n; i++) {
    const f = flags[i]!
    let o = starts[i]!
    const end = starts[i + 1]!
    const message = (f & COL_MESSAGE) !== 0 ? messageStarts[i + 1]! - 1 - messageStarts[i]! : 0
    const head = (f & COL_HEAD) !== 0 ? TS_LENGTH : 0
    const cutEnd = r + end - o - head - message
    if (cutEnd > size || cutEnd < r + (head === 0 ? 0 : TS_START)) throw new ColumnsError(`line ${i} runs past its block's lines`)
    // Where the message goes, found before anything moves.
    const from = (f & COL_MESSAGE) !== 0 ? messageAt(out, r, head, cutEnd, i) : cutEnd
    if (head !== 0) {
      for (let k = 0; k < TS_START; k++) out[o + k] = out[r + k]!
      o += TS_START
      r += TS_START
      const t = ms[i]!
      const mm = Math.floor(t / 60_000)
      if (mm === minute) {
        for (let k = 0; k < 17; k++) out[o + k] = out[minuteAt + k]!
        writeSeconds(out, o, (t - mm * 60_000) | 0)
      } else {
        writeIso(out, o, t)
        minute = mm
      }
      minuteAt = o
      o += TS_LENGTH
    }
    if ((f & COL_MESSAGE) !== 0) {
      out.copyWithin(o, r, from)
      o += from - r
      const m = messageStarts[i]!
      // A loop for all but long messages: a subarray to copy from costs more than most messages' bytes.
      if (message > 256) out.set(messages.subarray(m, m + message), o)
      else for (let k = 0; k < message; k++) out[o + k] = messages[m + k]!
      o += message
      r = from
    }
    // What is left of the line: o reaches `end` by construction (cutEnd was measured from it).
    out.copyWithin(o, r, cutEnd)
    r = cutEnd
  }
  if (r !== size) throw new ColumnsError('block\'s lines longer than their columns')
}

/**
 * Where each line of a cut block starts in its stored (cut) lines, and (at n) their length: a line's
 * original length less the timestamp and message its columns hold.
 */
export function cutOffsets (c: Columns): Uint32Array {
  const out = new Uint32Array(c.n + 1)
  if (c.messageStarts === undefined) throw new ColumnsError('columns decoded without their vars')
  let at = 0
  for (let i = 0; i < c.n; i++) {
    out[i] = at
    at += cutLength(c, i)
  }
  out[c.n] = at
  return out
}

/** Line i's length in a cut block's stored lines: its original length less the timestamp and message its columns hold. */
export function cutLength (c: Columns, i: number): number {
  const f = c.flags[i]!
  const m = c.messageStarts!
  return c.starts[i + 1]! - c.starts[i]! - ((f & COL_HEAD) !== 0 ? TS_LENGTH : 0) - ((f & COL_MESSAGE) !== 0 ? m[i + 1]! - 1 - m[i]! : 0)
}

/**
 * Writes line i of a cut block as it was (starts[i + 1] - starts[i] bytes) at out[at], from its stored
 * bytes at cut[cutAt] (cutOffsets) and its columns: what spliceLines does for every line, for one. A reader
 * that wants a few lines of a block (a search's matches) rebuilds only those. Throws ColumnsError when the
 * line does not fit its columns; bytes that fit but are wrong are for the stored bytes' crc (zcrc) to catch.
 */
export function spliceLine (c: Columns, cut: Buffer, cutAt: number, i: number, out: Buffer, at: number): void {
  const { messages, messageStarts } = c
  // Format 3 columns decoded without their vars hold templates only: no message to put back.
  if (messages === undefined || messageStarts === undefined) throw new ColumnsError('columns decoded without their vars')
  const f = c.flags[i]!
  const length = c.starts[i + 1]! - c.starts[i]!
  const m = messageStarts[i]!
  const message = (f & COL_MESSAGE) !== 0 ? messageStarts[i + 1]! - 1 - m : 0
  const head = (f & COL_HEAD) !== 0 ? TS_LENGTH : 0
  const cutEnd = cutAt + length - head - message
  if (cutEnd > cut.length || cutEnd < cutAt + (head === 0 ? 0 : TS_START)) throw new ColumnsError(`line ${i} runs past its block's lines`)
  const from = (f & COL_MESSAGE) !== 0 ? messageAt(cut, cutAt, head, cutEnd, i) : cutEnd
  let r = cutAt
  let o = at
  if (head !== 0) {
    o = copyBytes(cut, r, r + TS_START, out, o)
    r += TS_START
    writeIso(out, o, c.ms[i]!)
    o += TS_LENGTH
  }
  if ((f & COL_MESSAGE) !== 0) {
    o = copyBytes(cut, r, from, out, o)
    o = copyBytes(messages, m, m + message, out, o)
    r = from
  }
  cut.copy(out, o, r, cutEnd)
}

/**
 * Copies src[from, to) to out[at] and answers where it ended: byte by byte when short, as the stretches
 * around a line's timestamp and message mostly are (Buffer.copy costs ~60 ns a call on Node 20, a byte
 * ~1.4 ns: even at about 44 bytes).
 */
function copyBytes (src: Buffer, from: number, to: number, out: Buffer, at: number): number {
  if (to - from > SHORT_COPY) return at + src.copy(out, at, from, to)
  for (let k = from; k < to; k++) out[at++] = src[k]!
  return at
}

const SHORT_COPY = 40

/**
 * Where line i's message goes in its cut form buf[r, cutEnd) (`head`: the timestamp's length cut from it,
 * or 0): the walk the encoder made — level, its closing quote and comma, app_name?, the message key.
 */
function messageAt (buf: Buffer, r: number, head: number, cutEnd: number, i: number): number {
  const levelEnd = quoteAt(buf, r + LEVEL_START - head, cutEnd)
  let key = levelEnd + 2
  if (levelEnd !== -1 && startsWith(buf, key, cutEnd, APP_KEY)) key = quoteAt(buf, key + APP_KEY.length, cutEnd) + 2
  const from = key + MESSAGE_KEY.length
  if (levelEnd === -1 || key < 2 || from > cutEnd) throw new ColumnsError(`line ${i} has no message where its flags say`)
  return from
}

/** The first `"` in buf[from, end), or -1 (a loop: Buffer.indexOf is a runtime call per line). */
function quoteAt (buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === QUOTE) return i
  return -1
}

/** Typed arrays read in the host's byte order; the columns are written little-endian (Buffer.write*LE). */
export const LITTLE_ENDIAN = endianness() === 'LE'

/**
 * Turns the fixed sections of little-endian columns (n lines) into a big-endian host's order, in place:
 * the 32-bit ones (one run: lengths, message lengths, time deltas, template indexes, those of them that
 * take 32 bits), then the 16-bit ones (the others, and the app indexes). The layout is read from the header.
 */
export function toHostOrder (bytes: Buffer, n: number): void {
  const word = bytes.readUInt32LE(0)
  const lay = layout(n, (word & TEMPLATED) === 0 ? undefined : widthsOf(word, bytes.readUInt32LE(16)))
  bytes.subarray(lay.first32, lay.first16).swap32()
  bytes.subarray(lay.first16, lay.level).swap16()
}

/**
 * Decodes encoded columns of a block of `blockLength` bytes; throws ColumnsError when they do not fit it.
 * Columns that hold templates (format 3) give their messages only with `vars`, the block's vars stream:
 * without it, `templates` alone (what a count of a text without digits needs, ColumnQuery.needsMessages).
 */
/** 16-bit lengths widened (decodeColumns' scratch: valid until the next block is decoded). */
let lengthScratch = new Uint32Array(0)
let deltaScratch = new Int32Array(0)

function widened32 (from: Uint16Array): Uint32Array {
  if (lengthScratch.length < from.length) lengthScratch = new Uint32Array(Math.max(from.length, 2 * lengthScratch.length))
  const to = lengthScratch.subarray(0, from.length)
  to.set(from)
  return to
}

function widenedDeltas (from: Int16Array): Int32Array {
  if (deltaScratch.length < from.length) deltaScratch = new Int32Array(Math.max(from.length, 2 * deltaScratch.length))
  const to = deltaScratch.subarray(0, from.length)
  to.set(from)
  return to
}

export function decodeColumns (bytes: Buffer, blockLength: number, vars?: Buffer): Columns {
  if (bytes.length < HEADER_BYTES) throw new ColumnsError('columns shorter than their header')
  // Typed arrays need their sections aligned: a buffer at an odd place is copied to one that is not; so is
  // one a big-endian host must turn to its own byte order (the copy is its own: the caller's stays as read).
  if (bytes.byteOffset % 8 !== 0 || !LITTLE_ENDIAN) {
    const copy = Buffer.from(new ArrayBuffer(bytes.length))
    bytes.copy(copy)
    bytes = copy
  }
  const word = bytes.readUInt32LE(0)
  const templated = (word & TEMPLATED) !== 0
  const n = templated ? word & LINE_COUNT : word
  const dictBytes = bytes.readUInt32LE(4)
  const base = bytes.readDoubleLE(8)
  if (templated && bytes.length < TEMPLATED_HEADER_BYTES) throw new ColumnsError('columns shorter than their header')
  const templateCount = templated ? bytes.readUInt32LE(16) : 0
  const templateBytes = templated ? bytes.readUInt32LE(20) : 0
  const widths = templated ? widthsOf(word, templateCount) : undefined
  const lay = layout(n, widths)
  // Format 2 has at least a newline per line after the dictionary; format 3 its templates' bytes.
  if (lay.end + dictBytes + (templated ? templateBytes : n) > bytes.length) throw new ColumnsError('columns shorter than their line count says')
  if (!LITTLE_ENDIAN) toHostOrder(bytes, n)
  const ab = bytes.buffer
  const o = bytes.byteOffset
  // The loops below read one kind of typed array each, whatever the widths stored: a loop that meets
  // 16- and 32-bit arrays by turns is compiled for any kind and runs several times slower. So 16-bit
  // lengths and deltas are widened first (TypedArray#set: one native pass) into arrays reused block to block.
  const lengths = widths?.lengths === 2 ? widened32(new Uint16Array(ab, o + lay.lengths, n)) : new Uint32Array(ab, o + lay.lengths, n)
  const deltas = widths?.deltas === 2 ? widenedDeltas(new Int16Array(ab, o + lay.deltas, n)) : new Int32Array(ab, o + lay.deltas, n)
  const app = new Uint16Array(ab, o + lay.app, n)
  const level = new Uint8Array(ab, o + lay.level, n)
  const flags = new Uint8Array(ab, o + lay.flags, n)
  const apps: Buffer[] = []
  let d = lay.end
  while (d < lay.end + dictBytes) {
    const len = bytes.readUInt16LE(d)
    apps.push(bytes.subarray(d + 2, d + 2 + len))
    d += 2 + len
  }
  if (d !== lay.end + dictBytes) throw new ColumnsError('app dictionary overruns its length')
  // One pass over the lines: where each starts, its time, and that its level and app index fit (the
  // module's constants read into locals: in the loop they would be a property load each time).
  const starts = new Uint32Array(n + 1)
  const ms = new Float64Array(n)
  const levelCount = CANONICAL_LEVELS.length
  const appCount = apps.length
  const noApp = NO_APP
  const head = COL_HEAD
  let at = 0
  let prev = base
  for (let i = 0; i < n; i++) {
    starts[i] = at
    at += lengths[i]!
    if ((flags[i]! & head) !== 0) {
      prev += deltas[i]!
      ms[i] = prev
      if (level[i]! >= levelCount) throw new ColumnsError(`line ${i} has level ${level[i]!}`)
    }
    const a = app[i]!
    if (a !== noApp && a >= appCount) throw new ColumnsError(`line ${i} names app ${a}`)
  }
  starts[n] = at
  if (at !== blockLength) throw new ColumnsError(`columns cover ${at} bytes of a ${blockLength}-byte block`)
  const cols: Columns = { n, starts, ms, app, level, flags, apps }
  if (templated) {
    if (d + templateBytes !== bytes.length) throw new ColumnsError('template dictionary longer than its length')
    const text = bytes.subarray(d)
    // Always 32-bit for its readers (scanTemplates, the rebuild), for the same reason: its own array, kept.
    const index = widths!.template === 4 ? new Uint32Array(ab, o + lay.template, n) : Uint32Array.from(new Uint16Array(ab, o + lay.template, n))
    cols.templates = { text, starts: templateStarts(text, templateCount), index }
    const message = COL_MESSAGE
    for (let i = 0; i < n; i++) {
      if (index[i]! >= templateCount && (flags[i]! & message) !== 0) throw new ColumnsError(`line ${i} names template ${index[i]!} of ${templateCount}`)
    }
    return vars === undefined ? cols : withVars(cols, vars)
  }
  const messageLengths = new Uint32Array(ab, o + lay.messageLengths, n)
  const messages = bytes.subarray(d)
  const messageStarts = new Uint32Array(n + 1)
  let m = 0
  for (let i = 0; i < n; i++) {
    messageStarts[i] = m
    m += messageLengths[i]! + 1
    if (m > messages.length) throw new ColumnsError(`message column ends before line ${i}`)
    // Each message ends in its newline: a match can never run from one message into the next.
    if (messages[m - 1] !== NL) throw new ColumnsError(`message ${i} does not end where its length says`)
  }
  messageStarts[n] = m
  if (m !== messages.length) throw new ColumnsError('message column longer than its lines')
  cols.messages = messages
  cols.messageStarts = messageStarts
  return cols
}

/**
 * Format 3 columns decoded without their vars, with their messages rebuilt from `vars` (the block's vars
 * stream): what a splice needs. Other columns are returned as they are. Throws ColumnsError when the vars
 * do not fit the templates.
 */
export function withVars (c: Columns, vars: Buffer, only?: Uint8Array): Columns {
  if (c.templates === undefined || c.messages !== undefined) return c
  return { ...c, ...rebuildMessages(c.templates, c.flags, COL_MESSAGE, vars, only) }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/

/** The ISO bound as ms when comparing ms is comparing the text (24 characters, years 1970–9999); else NaN. */
export function boundMs (iso: string | undefined): number {
  if (iso === undefined) return NaN
  const ms = Date.parse(iso)
  return iso.length === TS_LENGTH && Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : NaN
}

function isAscii (text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

/**
 * A query's test over columns: the text, time window, levels and apps of a ReadQuery. A line it calls a
 * match matches those; one it rejects fails them; the rest are undecided. For a count that is the whole
 * query (see `decides`); for a search it only narrows the lines the exact path reads.
 */
export class ColumnQuery {
  private readonly pattern: RegExp | undefined
  private readonly fromMs: number
  private readonly toMs: number
  private readonly levels: boolean[] | undefined
  private readonly apps: Buffer[] | undefined
  /** Per block: which dictionary entries are among the query's apps. */
  private wanted: boolean[] = []
  /** Whether the text holds a digit: then only whole messages answer it, not their templates. */
  private readonly digits: boolean
  /** Per block (format 3): which templates hold the text (reused from block to block). */
  private matched = new Uint8Array(0)

  private constructor (private readonly q: ReadQuery) {
    this.pattern = q.text === undefined ? undefined : new RegExp(q.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi')
    this.fromMs = q.from === undefined ? -Infinity : boundMs(q.from)
    this.toMs = q.to === undefined ? Infinity : boundMs(q.to)
    this.levels = q.levels === undefined ? undefined : CANONICAL_LEVELS.map(l => q.levels!.includes(l))
    this.apps = q.apps?.map(a => Buffer.from(a, 'utf8'))
    this.digits = q.text !== undefined && /[0-9]/.test(q.text)
  }

  /**
   * The test for `q` when the columns can take part: its text (if any) is ASCII without control characters
   * (then the latin1 message's ASCII case folding is the parse's lower-casing), and its bounds are ISO
   * times the ms compare like text. Undefined otherwise.
   */
  static of (q: ReadQuery): ColumnQuery | undefined {
    if (q.text !== undefined && (q.text.length === 0 || !isAscii(q.text) || CONTROL.test(q.text))) return undefined
    const cq = new ColumnQuery(q)
    return Number.isNaN(cq.fromMs) || Number.isNaN(cq.toMs) ? undefined : cq
  }

  /** Whether a match here is a match of the whole query (a count's case): nothing but text, window, level, app. */
  decides (): boolean {
    const q = this.q
    return q.fields.length === 0 && q.expr === undefined && q.after === undefined
  }

  /** Whether the query tests the message text (the only case where a search gains from the columns). */
  hasText (): boolean {
    return this.pattern !== undefined
  }

  /**
   * Whether `scan` needs the messages themselves, not just their templates (format 3 columns must then be
   * decoded with their vars): when the text holds a digit. Why a text without one can be tested on the
   * templates alone, exactly:
   *   - the text is matched case-insensitively, ASCII only, and holds no control character (`of` refuses
   *     the others); an ASCII letter folds only to an ASCII letter, a digit matches only that digit, and a
   *     non-ASCII byte (a latin1 character here) never folds to ASCII;
   *   - so a match of a digit-free text in a message covers no digit: it lies inside one digit-free stretch
   *     of the message, and each such stretch is in the template byte for byte;
   *   - conversely a match in the template cannot cover its MARKER (a control byte) nor its '\n', so it lies
   *     in a stretch the message holds byte for byte.
   * Hence: the text matches a message ⇔ it matches the message's template.
   */
  needsMessages (): boolean {
    return this.digits
  }

  /**
   * Calls `match(i)` for each line (index) of [from, to) that starts at or after `skipBelow` in the block
   * and that the columns show to match, `undecided(i)` for each they cannot decide; lines they show not to
   * match are passed over.
   */
  scan (c: Columns, from: number, to: number, skipBelow: number, match: (i: number) => void, undecided: (i: number) => void): void {
    this.wanted = this.apps === undefined ? [] : c.apps.map(a => this.apps!.some(w => w.equals(a)))
    while (from < to && c.starts[from]! < skipBelow) from++
    if (this.pattern === undefined) {
      for (let i = from; i < to; i++) this.line(c, i, match, undecided)
      return
    }
    if (c.templates !== undefined && !this.digits) {
      this.scanTemplates(c, c.templates, from, to, match, undecided)
      return
    }
    if (c.messages === undefined || c.messageStarts === undefined) throw new ColumnsError('a text with digits needs the columns decoded with their vars')
    // Lines whose message is not in the column: decided by the parse (unless time, level or app rule them out).
    for (let i = from; i < to; i++) if ((c.flags[i]! & COL_MESSAGE) === 0) this.line(c, i, undecided, undecided)
    const messageStarts = c.messageStarts
    const offset = messageStarts[from]!
    const text = c.messages.latin1Slice(offset, messageStarts[to]!)
    const re = this.pattern
    re.lastIndex = 0
    let i = from
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      // The line whose message holds the match (matches come in order: the search goes on from the last).
      const at = m.index + offset
      while (messageStarts[i + 1]! <= at) i++
      re.lastIndex = messageStarts[i + 1]! - offset
      this.line(c, i, match, undecided)
    }
  }

  /**
   * `scan` of a text without digits over format 3 columns: each of the block's templates is tested once
   * (see needsMessages), then the lines of [from, to) whose template matched go on to time, level and app.
   */
  private scanTemplates (c: Columns, t: Templates, from: number, to: number, match: (i: number) => void, undecided: (i: number) => void): void {
    const matched = this.matchTemplates(t.text, t.starts)
    const flags = c.flags
    for (let i = from; i < to; i++) {
      if ((flags[i]! & COL_MESSAGE) === 0) this.line(c, i, undecided, undecided)
      else if (matched[t.index[i]!] === 1) this.line(c, i, match, undecided)
    }
  }

  /** Which of the templates in `text` (starting at `starts`) hold the query's text: 1 at their index (see needsMessages). */
  private matchTemplates (text: Buffer, starts: Uint32Array): Uint8Array {
    const count = starts.length - 1
    if (this.matched.length < count) this.matched = new Uint8Array(Math.max(count, 2 * this.matched.length))
    const matched = this.matched
    matched.fill(0, 0, count)
    const re = this.pattern!
    const latin1 = text.latin1Slice(0, text.length)
    re.lastIndex = 0
    let k = 0
    for (let m = re.exec(latin1); m !== null; m = re.exec(latin1)) {
      while (starts[k + 1]! <= m.index) k++
      matched[k] = 1
      re.lastIndex = starts[k + 1]!
    }
    return matched
  }

  /** Whether a block's template counts can answer this query (a text without digits), before reading them. */
  takesTemplateCounts (): boolean {
    return this.pattern !== undefined && !this.digits
  }

  /**
   * A count of a text without digits over a block from its template counts alone (template-counts.ts):
   * calls `add(level, lines)` for each (template, app, level) of the block the query takes — what `scan`
   * would call `match` for, line by line. False, with nothing added, when the counts cannot decide the
   * block: a text with digits, lines they leave undecided, apps not in place when the query names apps,
   * lines outside the query's window.
   */
  countTemplates (s: TemplateCounts, add: (level: number, lines: number) => void): boolean {
    if (!this.takesTemplateCounts() || s.undecided > 0) return false
    if (s.entries > 0 && (s.minMs < this.fromMs || s.maxMs >= this.toMs)) return false
    const apps = this.apps
    if (apps !== undefined && s.noApp > 0) return false
    const wanted = apps === undefined ? undefined : s.apps.map(a => apps.some(w => w.equals(a)))
    const matched = this.matchTemplates(s.text, s.starts)
    for (let k = 0; k < s.entries; k++) {
      if (matched[s.template(k)] !== 1) continue
      const level = s.level(k)
      if (this.levels !== undefined && !this.levels[level]!) continue
      // With apps asked for, every app is in place (noApp is 0): none is NO_APP.
      if (wanted !== undefined && !wanted[s.app(k)]!) continue
      add(level, s.count(k))
    }
    return true
  }

  /** Time, level and app of line i, whose text (if asked) matched. */
  private line (c: Columns, i: number, match: (i: number) => void, undecided: (i: number) => void): void {
    const flags = c.flags[i]!
    if ((flags & COL_HEAD) === 0) {
      undecided(i)
      return
    }
    const ms = c.ms[i]!
    if (ms < this.fromMs || ms >= this.toMs) return
    if (this.levels !== undefined && !this.levels[c.level[i]!]!) return
    if (this.apps !== undefined) {
      if ((flags & COL_APP) === 0 || c.app[i] === NO_APP) {
        undecided(i)
        return
      }
      if (!this.wanted[c.app[i]!]!) return
    }
    match(i)
  }
}

/** The index of the first line of `cols` that starts at or after `offset` (n when none does). */
export function lineAt (cols: Columns, offset: number): number {
  let lo = 0
  let hi = cols.n
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cols.starts[mid]! < offset) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The footer blocks that overlap [start, end), or undefined when they do not cover it all. */
export function covering<B extends Pick<FooterBlock, 'start' | 'end'>> (footer: readonly B[], start: number, end: number): B[] | undefined {
  let lo = 0
  let hi = footer.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (footer[mid]!.end <= start) lo = mid + 1
    else hi = mid
  }
  const out: B[] = []
  for (let i = lo; i < footer.length && footer[i]!.start < end; i++) out.push(footer[i]!)
  return out.length > 0 && out[0]!.start <= start && out.at(-1)!.end >= end ? out : undefined
}
