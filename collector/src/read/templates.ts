// Message templates (format 3, the idea of CLP, "compressed log processor": search the log types, not the
// logs). A decided message (columns.ts COL_MESSAGE) is split into its template — the message with every
// maximal run of ASCII digits replaced by one MARKER byte — and its variables, those digit runs in order:
//
//   "request 4711 failed after 30 ms"  ─►  template "request \x01 failed after \x01 ms"  +  vars "4711,30,"
//
//   compaction:  message ─► TemplateWriter.add ─► the block's template dictionary (each distinct template
//                once, each ending in '\n') + the line's template index ─► the columns stream
//                                              └► its digit runs, each ending in VAR_END ─► the `vars` stream
//   reads:       templates alone ─► a count of a word without digits (columns.ts ColumnQuery)
//                templates + vars ─► rebuildMessages ─► the message column as format 2 had it (splices, digits)
//
// Format 5 starts the vars stream with each line's share of it (VAR_LENGTHS, then a LEB128 varint per line,
// 0 for a line without a templated message), so that a search that picks a few lines of a block finds
// their vars by adding up lengths, not by walking every other line's digits:
//
//   format 3, 4:  "4711,30,7,"                    format 5:  VAR_LENGTHS │ 8 │ 0 │ 2 │ "4711,30,7,"
//
// The walk it saves was ~56 ns a line (an export of a common word walks every line of the blocks it picks
// from); the lengths add ~1 byte a line before compression, 0.9 % of the .z files (2M bench events).
//
// MARKER cannot occur in a decided message: a raw control byte cannot appear unescaped in a JSON string,
// and decided messages hold no escape; a message that holds one all the same is refused (left undecided),
// so a template always reads back as exactly one message.
//
// Measured on bench/peers data (bench/compact.mjs, BENCH_FORMAT): see compact-segment.ts.

/** What stands for one run of digits in a template. */
export const MARKER = 0x01
/** What ends each digit run in the vars stream (any non-digit would do: the reader stops at it). */
export const VAR_END = 0x2c
/**
 * What a format 5 vars stream starts with, before each line's vars length: neither a digit nor VAR_END,
 * so it cannot begin an older stream (which holds only those).
 */
export const VAR_LENGTHS = 0x02
const NL = 10
const ZERO = 0x30
const NINE = 0x39
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/**
 * Builds a block's template dictionary and vars stream, one message at a time, without a string or an
 * object per message: each template is written once into the dictionary's buffer and found again by a hash
 * of its bytes (open addressing over template ids).
 */
export class TemplateWriter {
  private text: Buffer = Buffer.allocUnsafe(64 * 1024)
  /** Bytes of `text` that hold templates (what follows is the one being built). */
  private used = 0
  /** Each template's start in `text`, and its hash. */
  private starts: number[] = []
  private hashes: number[] = []
  /** Template id + 1 per slot (0: empty). */
  private table = new Int32Array(1024)
  private vars: Buffer = Buffer.allocUnsafe(64 * 1024)
  private varsUsed = 0

  /** How many distinct templates so far. */
  get count (): number {
    return this.starts.length
  }

  /** The bytes of the vars stream so far (a line's share is the difference across its `add`). */
  get varsBytes (): number {
    return this.varsUsed
  }

  /**
   * Adds the message buf[from, to): its template's index, or -1 when it holds a control byte (it is then
   * not templated, and nothing of it was kept).
   */
  add (buf: Buffer, from: number, to: number): number {
    const length = to - from
    if (this.text.length < this.used + length + 1) this.text = grow(this.text, this.used + length + 1)
    if (this.vars.length < this.varsUsed + 2 * length) this.vars = grow(this.vars, this.varsUsed + 2 * length)
    const text = this.text
    const vars = this.vars
    let t = this.used
    let v = this.varsUsed
    let hash = FNV_OFFSET
    for (let i = from; i < to; i++) {
      let b = buf[i]!
      if (b < 0x20) return -1 // varsUsed not moved: what was written is dropped
      if (b >= ZERO && b <= NINE) {
        // A maximal run: all of its digits to the vars, one marker to the template.
        do vars[v++] = buf[i++]!; while (i < to && buf[i]! >= ZERO && buf[i]! <= NINE)
        vars[v++] = VAR_END
        i--
        b = MARKER
      }
      text[t++] = b
      hash = Math.imul(hash ^ b, FNV_PRIME)
    }
    text[t++] = NL
    this.varsUsed = v
    return this.intern(this.used, t, hash >>> 0)
  }

  /** The index of the template just written at text[from, to): an earlier equal one's, or a new one. */
  private intern (from: number, to: number, hash: number): number {
    const mask = this.table.length - 1
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot]! - 1
      if (id === -1) break
      if (this.hashes[id] === hash && this.equals(id, from, to)) return id
    }
    const id = this.starts.length
    this.starts.push(from)
    this.hashes.push(hash)
    this.used = to
    if (2 * (id + 1) > this.table.length) this.rehash(this.table.length * 2)
    else this.place(id)
    return id
  }

  private equals (id: number, from: number, to: number): boolean {
    const start = this.starts[id]!
    const end = id + 1 < this.starts.length ? this.starts[id + 1]! : this.used
    if (end - start !== to - from) return false
    const text = this.text
    for (let k = 0; k < to - from; k++) if (text[start + k] !== text[from + k]) return false
    return true
  }

  private place (id: number): void {
    const mask = this.table.length - 1
    let slot = this.hashes[id]! & mask
    while (this.table[slot] !== 0) slot = (slot + 1) & mask
    this.table[slot] = id + 1
  }

  private rehash (size: number): void {
    this.table = new Int32Array(size)
    for (let id = 0; id < this.starts.length; id++) this.place(id)
  }

  /** The dictionary: the templates in index order, each ending in '\n'. */
  templates (): Buffer {
    return this.text.subarray(0, this.used)
  }

  /** The vars stream: every digit run of the templated messages, in order, each ending in VAR_END. */
  variables (): Buffer {
    return this.vars.subarray(0, this.varsUsed)
  }
}

/** Format 5's vars stream: VAR_LENGTHS, each line's vars bytes (`lengths`, LEB128), then the runs (`runs`). */
export function varsWithLengths (lengths: ArrayLike<number>, runs: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + 5 * lengths.length + runs.length)
  out[0] = VAR_LENGTHS
  let o = 1
  for (let i = 0; i < lengths.length; i++) {
    let v = lengths[i]!
    while (v > 0x7f) {
      out[o++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    out[o++] = v
  }
  o += runs.copy(out, o)
  return out.subarray(0, o)
}

/**
 * A vars stream's lines' lengths (format 5; undefined for an older stream, which has none) and its runs.
 * Throws ColumnsError when the lengths are not n whole varints.
 */
function splitVars (vars: Buffer, n: number): { lengths: Uint32Array | undefined, runs: Buffer } {
  if (vars.length === 0 || vars[0] !== VAR_LENGTHS) return { lengths: undefined, runs: vars }
  const lengths = new Uint32Array(n)
  let at = 1
  for (let i = 0; i < n; i++) {
    let v = 0
    let shift = 0
    for (;;) {
      if (at >= vars.length || shift > 28) throw new ColumnsError(`vars lengths end before line ${i}`)
      const b = vars[at++]!
      v += (b & 0x7f) * 2 ** shift
      if (b < 0x80) break
      shift += 7
    }
    lengths[i] = v
  }
  return { lengths, runs: vars.subarray(at) }
}

function grow (buf: Buffer, need: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(need, buf.length * 2))
  buf.copy(next)
  return next
}

/** A block's templates, decoded: the dictionary and where each template starts, and each line's template. */
export interface Templates {
  /** The templates, each ending in '\n' (a match never runs from one into the next). */
  text: Buffer
  /** Each template's start in `text`, and (at count) its length. */
  starts: Uint32Array
  /** Each line's template index (meaningful for COL_MESSAGE lines only). */
  index: Uint32Array
}

/**
 * A columns buffer that does not fit its block (a writer's bug, or bytes that passed a crc by chance): also
 * templates or vars that do not fit each other. Defined here, where the templates are read; columns.ts
 * exports it.
 */
export class ColumnsError extends Error {}

/** The start of each of the `count` templates in `text` (which must hold exactly that many). */
export function templateStarts (text: Buffer, count: number): Uint32Array {
  const starts = new Uint32Array(count + 1)
  let at = 0
  for (let k = 0; k < count; k++) {
    starts[k] = at
    const nl = text.indexOf(NL, at)
    if (nl === -1) throw new ColumnsError(`template ${k} of ${count} is missing`)
    at = nl + 1
  }
  if (at !== text.length) throw new ColumnsError('template dictionary longer than its count')
  starts[count] = at
  return starts
}

/**
 * The message column as format 2 stored it (n messages, each ending in '\n', empty for lines without
 * `hasMessage`), rebuilt from the templates and the vars stream; throws ColumnsError when the vars do not
 * fit the templates (each line's index must be below the template count: decodeColumns checks). One buffer,
 * sized first, filled byte by byte (the messages are short: a copy call per stretch would cost more than its
 * bytes). With `only`, just the lines it marks (1) are written: the others get their place and length
 * (`messageStarts` is whole) but not their bytes — a search that picks a few lines of a block rebuilds
 * those, not all of them. A line not written is stepped over by its vars length (format 5), or, in an older
 * stream, by walking its runs.
 */
export function rebuildMessages (t: Templates, flags: Uint8Array, messageFlag: number, stream: Buffer, only?: Uint8Array): { messages: Buffer, messageStarts: Uint32Array } {
  const n = flags.length
  const count = t.starts.length - 1
  const { text, starts, index } = t
  const { lengths, runs: vars } = splitVars(stream, n)
  // Markers per template: the size is the templates' bytes plus the digits, less a marker per run.
  const markers = new Uint32Array(count)
  for (let k = 0; k < count; k++) for (let i = starts[k]!; i < starts[k + 1]!; i++) if (text[i] === MARKER) markers[k]!++
  let size = vars.length
  for (let i = 0; i < n; i++) {
    if ((flags[i]! & messageFlag) === 0) size++
    else size += starts[index[i]! + 1]! - starts[index[i]!]! - 2 * markers[index[i]!]!
  }
  if (size < 0) throw new ColumnsError('vars shorter than their templates')
  const messages = Buffer.allocUnsafe(size)
  const messageStarts = new Uint32Array(n + 1)
  let o = 0
  let v = 0
  // Writes past `size` are dropped by the typed array and caught by the check at the end.
  for (let i = 0; i < n; i++) {
    messageStarts[i] = o
    if ((flags[i]! & messageFlag) === 0) {
      if (lengths !== undefined && lengths[i] !== 0) throw new ColumnsError(`line ${i}: vars for a line without a template`)
      messages[o++] = NL
      continue
    }
    const k = index[i]!
    if (only !== undefined && only[i] === 0) {
      // Not wanted: its place and length only (its runs not copied; the checks at the end still hold the
      // vars to the templates as a whole).
      o += starts[k + 1]! - starts[k]! - markers[k]!
      if (lengths !== undefined) {
        // Each run is a digit or more and its end: the digits are the length less the runs. (Its last byte
        // ends a run: a check per line, not per byte.)
        const length = lengths[i]!
        if (length < 2 * markers[k]! || (length === 0) !== (markers[k] === 0) || (length > 0 && vars[v + length - 1] !== VAR_END)) {
          throw new ColumnsError(`line ${i}: its vars do not fit its template`)
        }
        o += length - markers[k]!
        v += length
        continue
      }
      for (let r = markers[k]!; r > 0; r--) {
        const run = v
        while (v < vars.length && vars[v] !== VAR_END) v++
        if (v === run || v === vars.length) throw new ColumnsError(`line ${i}: its vars do not fit its template`)
        o += v - run
        v++
      }
      continue
    }
    const first = v
    for (let s = starts[k]!, e = starts[k + 1]!; s < e; s++) {
      const b = text[s]!
      if (b !== MARKER) {
        messages[o++] = b
        continue
      }
      const run = v
      while (v < vars.length && vars[v]! >= ZERO && vars[v]! <= NINE) messages[o++] = vars[v++]!
      if (v === run || vars[v] !== VAR_END) throw new ColumnsError(`line ${i}: its vars do not fit its template`)
      v++
    }
    if (lengths !== undefined && v - first !== lengths[i]) throw new ColumnsError(`line ${i}: its vars are not the length given`)
  }
  messageStarts[n] = o
  if (v !== vars.length || o !== size) throw new ColumnsError('vars longer than their templates')
  return { messages, messageStarts }
}
