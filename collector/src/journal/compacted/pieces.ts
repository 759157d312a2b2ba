// Format 4: a block's cut lines stored in pieces, grouped by message template, so that a search of a word
// decompresses only the pieces holding the templates that match it (issue #24: the export of a common word).
//
//   compaction:  cut lines (line order) ─► stored order: lines stably sorted by template (lines without a
//                templated message last) ─► pieces of whole templates, each ≥ a 32nd of the block but the last
//                (a template of half that or more starts one of its own)
//                ─► each deflated on its own ─► [table][piece 0][piece 1]… (the block's lines stream)
//   reading:     table ─► pieces holding a wanted line ─► decoded ─► each line's place in them (placeLines)
//                ─► spliceLine per wanted line; or every piece ─► back in line order (inLineOrder) ─► spliceLines
//
// The stored order is not written down: it follows from the columns (each line's template index and flags),
// which every reader of cut lines decodes anyway. The table, raw at the start of the stream, says per piece
// how many lines (in stored order) it holds, its stored bytes and its decoded bytes:
//
//   u32 pieces │ (u32 lines │ u32 stored bytes │ u32 decoded bytes) × pieces │ the pieces, one after the other
//
// All little-endian. The footer's zcrc covers the whole stream, table included, and is checked before any
// piece is decoded; so is each piece's decoded length, and every line's length as the columns give it.
//
// Why pieces of whole templates, 32 KiB and up in a 1 MiB block (bench/count.mjs data, 68 blocks, 57 MB of cut lines):
// stored in one stream 6.00 MB, decoded in 62 ms of CPU; in pieces of at least 32 KiB 6.65 MB (+11 %:
// lines sorted by template lose the likeness of neighbours in time, and each piece starts its window
// afresh), all decoded in 76 ms, and those a search for "timeout" (12 % of the lines) needs in 24 ms.
// 16 KiB pieces: 6.75 MB, 21 ms; 64 KiB: 6.55 MB, 31 ms; one piece per template with a shared dictionary
// 6.08 MB, 20 ms but 136 ms to decode all (a zlib stream set up per piece). A template of half a piece or
// more starts a piece of its own (else it would share one with the templates before it): the pieces that
// "timeout" needs hold 12.2 MB of lines, not 17.7, for 6.73 MB stored, not 6.65.
import { COL_MESSAGE, ColumnsError, cutLength, type Columns } from '../../read/columns'

/**
 * A piece is closed, at a template's end, once it holds a 32nd of the block's bytes: 32 KiB for the 1 MiB
 * blocks a collector writes (tests' small blocks get small pieces, so several to a block).
 */
export const PIECES_PER_BLOCK = 32
const ENTRY_BYTES = 12

export interface PieceTable {
  /** Per piece: its lines (in stored order), where its stored bytes start in the stream, how many, decoded bytes. */
  lines: Uint32Array
  at: Uint32Array
  length: Uint32Array
  size: Uint32Array
}

/**
 * The block's lines in stored order: by template index (format 3 columns, templates.ts), lines without a
 * templated message after all of them, each group in line order.
 */
export function storedOrder (c: Columns, table?: PieceTable): Uint32Array {
  const t = c.templates
  if (t === undefined) throw new ColumnsError('pieces need columns with templates')
  const lines = table?.lines.reduce((a, b) => a + b, 0) ?? c.n
  if (lines !== c.n) throw new ColumnsError(`the pieces hold ${lines} lines, the columns ${c.n}`)
  const groups = t.starts.length // templates + 1: the last group is the lines without one
  const { flags, n } = c
  // Each line's group, then a counting sort by it (stable: each group in line order).
  const keys = new Uint32Array(n)
  const first = new Uint32Array(groups + 1)
  for (let i = 0; i < n; i++) {
    const k = (flags[i]! & COL_MESSAGE) !== 0 ? t.index[i]! : groups - 1
    if (k >= groups - 1 && (flags[i]! & COL_MESSAGE) !== 0) throw new ColumnsError(`line ${i} has template ${k} of ${groups - 1}`)
    keys[i] = k
    first[k + 1]!++
  }
  for (let k = 0; k < groups; k++) first[k + 1]! += first[k]!
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[first[keys[i]!]!++] = i
  return order
}

/**
 * Cuts `cut` (a block's cut lines, line order, each `cutLengths` long; `c` its columns) into pieces and encodes them
 * with `pack`: the block's lines stream (see the file's comment). Pieces end only where a template's lines do;
 * one of `pieceBytes` / 2 or more starts a piece.
 */
export function writePieces (c: Columns, cut: Buffer, cutLengths: Uint32Array, pieceBytes: number, pack: (raw: Buffer) => Buffer): Buffer {
  const order = storedOrder(c)
  const t = c.templates!
  const offsets = new Uint32Array(c.n)
  for (let i = 0, at = 0; i < c.n; i++) {
    offsets[i] = at
    at += cutLengths[i]!
  }
  const pieces: Array<{ lines: number, data: Buffer, size: number }> = []
  // The lines in stored order, end to end: each piece a part of it (`pack` may keep it as it is, so the
  // scratch is not reused before the stream is put together below).
  if (scratch.length < cut.length) scratch = Buffer.allocUnsafe(Math.max(cut.length, 2 * scratch.length))
  const raw = scratch
  let start = 0
  let used = 0
  let lines = 0
  const close = (): void => {
    pieces.push({ lines, data: pack(raw.subarray(start, used)), size: used - start })
    start = used
    lines = 0
  }
  const key = (i: number): number => (c.flags[i]! & COL_MESSAGE) !== 0 ? t.index[i]! : -1
  for (let k = 0; k < c.n; k++) {
    const i = order[k]!
    if (k === 0 || key(order[k - 1]!) !== key(i)) {
      // A template of half a piece or more starts a piece of its own: a search of it then decodes it
      // with no other template's lines packed in beside it.
      let bytes = 0
      for (let j = k; j < c.n && key(order[j]!) === key(i) && bytes < pieceBytes / 2; j++) bytes += cutLengths[order[j]!]!
      if (bytes >= pieceBytes / 2 && lines > 0) close()
    }
    used += cut.copy(raw, used, offsets[i]!, offsets[i]! + cutLengths[i]!)
    lines++
    // A template's last line, and the piece is big enough: it ends here.
    if (used - start >= pieceBytes && (k + 1 === c.n || key(order[k + 1]!) !== key(i))) close()
  }
  if (lines > 0 || pieces.length === 0) close()
  const table = Buffer.alloc(4 + ENTRY_BYTES * pieces.length)
  table.writeUInt32LE(pieces.length, 0)
  pieces.forEach((p, k) => {
    table.writeUInt32LE(p.lines, 4 + ENTRY_BYTES * k)
    table.writeUInt32LE(p.data.length, 8 + ENTRY_BYTES * k)
    table.writeUInt32LE(p.size, 12 + ENTRY_BYTES * k)
  })
  return Buffer.concat([table, ...pieces.map(p => p.data)])
}

/**
 * Where writePieces puts a block's lines in stored order: one buffer the compaction thread reuses block
 * after block, not a new ~1 MiB one each.
 */
let scratch = Buffer.allocUnsafe(0)

/**
 * The table at the start of a block's lines stream; throws ColumnsError when it does not cover the stream's
 * stored bytes, or holds other than `pieces` (the footer's count, when given). Its lines are checked against
 * the columns' by storedOrder, its decoded bytes by the reader.
 */
export function pieceTable (stream: Buffer, pieces?: number): PieceTable {
  const count = stream.length >= 4 ? stream.readUInt32LE(0) : -1
  const tableBytes = 4 + ENTRY_BYTES * count
  if (count < 1 || tableBytes > stream.length) throw new ColumnsError('lines stream without a whole piece table')
  if (pieces !== undefined && count !== pieces) throw new ColumnsError(`${count} pieces, the footer says ${pieces}`)
  const table: PieceTable = { lines: new Uint32Array(count), at: new Uint32Array(count), length: new Uint32Array(count), size: new Uint32Array(count) }
  let at = tableBytes
  for (let k = 0; k < count; k++) {
    table.lines[k] = stream.readUInt32LE(4 + ENTRY_BYTES * k)
    table.at[k] = at
    table.length[k] = stream.readUInt32LE(8 + ENTRY_BYTES * k)
    table.size[k] = stream.readUInt32LE(12 + ENTRY_BYTES * k)
    at += table.length[k]!
  }
  if (at !== stream.length) throw new ColumnsError(`piece table covers ${at} stored bytes of ${stream.length}`)
  return table
}

/** Which pieces hold a line marked in `wanted` (per line, in line order); every piece without `wanted`. `order`: storedOrder(c, table). */
export function piecesHolding (table: PieceTable, order: Uint32Array, wanted: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(table.lines.length)
  for (let p = 0, k = 0; p < out.length; p++) {
    const end = k + table.lines[p]!
    if (wanted === undefined) out[p] = 1
    else for (; k < end && out[p] === 0; k++) if (wanted[order[k]!] === 1) out[p] = 1
    k = end
  }
  return out
}

/** Where each line of a block is in its decoded pieces: piece `piece[i]`, from `offsets[i]` (decoded pieces' lines only). */
export interface PlacedLines {
  pieces: ReadonlyArray<Buffer | undefined>
  piece: Uint32Array
  offsets: Uint32Array
}

/**
 * Where each line of the decoded pieces (undefined where not decoded) starts in its piece: meaningful for
 * the lines of decoded pieces only. The pieces are not copied together: a search that splices a few lines
 * from them would pay for the copy of all. Throws ColumnsError when a piece is not as long as the table
 * says or its lines do not fill it exactly. `order`: storedOrder(c, table).
 */
export function placeLines (c: Columns, table: PieceTable, order: Uint32Array, decoded: ReadonlyArray<Buffer | undefined>): PlacedLines {
  if (c.messageStarts === undefined) throw new ColumnsError('columns decoded without their vars')
  const offsets = new Uint32Array(c.n)
  const piece = new Uint32Array(c.n)
  for (let p = 0, k = 0; p < decoded.length; p++) {
    const end = k + table.lines[p]!
    const bytes = decoded[p]
    if (bytes === undefined) {
      k = end
      continue
    }
    if (bytes.length !== table.size[p]) throw new ColumnsError(`piece ${p} decodes to ${bytes.length} bytes, not ${table.size[p]!}`)
    let at = 0
    for (; k < end; k++) {
      const i = order[k]!
      offsets[i] = at
      piece[i] = p
      at += cutLength(c, i)
    }
    if (at !== bytes.length) throw new ColumnsError(`the lines of piece ${p} take ${at} bytes, not ${bytes.length}`)
  }
  return { pieces: decoded, piece, offsets }
}

/** Every piece's lines (placeLines with all decoded) back in line order: the cut lines spliceLines takes. */
export function inLineOrder (c: Columns, placed: PlacedLines): Buffer {
  let size = 0
  for (const p of placed.pieces) size += p?.length ?? 0
  const out = Buffer.allocUnsafe(size)
  for (let i = 0, at = 0; i < c.n; i++) {
    const from = placed.offsets[i]!
    at += placed.pieces[placed.piece[i]!]!.copy(out, at, from, from + cutLength(c, i))
  }
  return out
}
