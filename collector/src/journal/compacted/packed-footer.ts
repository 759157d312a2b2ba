// A compacted file's footer as a cache keeps it: what reading its blocks needs (StoredBlock), every field
// of every block one number in a Float64Array, unpacked into objects when the file is opened.
//
//   Footer ─► storedFooter ─► packFooter ─► FOOTERS caches (main thread, each scan thread)
//                                                 │ a file opened
//                                                 ▼
//                                   unpackFooter ─► StoredBlock objects, for that open file only
//
// Why (issue #24, reads under load): the caches keep a footer for every compacted segment, in the main
// thread and in each scan thread, so their heap grows with what is stored. As objects (a block and its
// three streams) a block's entry took ~480 bytes; packed it takes 27 numbers, 216 bytes. Opening a file
// makes its blocks' objects again (a few dozen short-lived objects per file, against a read of its blocks).
// All the fields are whole numbers below 2^53, exact in a double; an absent one is NaN.
import type { FooterColumns, StoredBlock, StoredFooter } from './format'

const STREAMS = ['cols', 'vars', 'tcounts'] as const
/** A block's own numbers: start, end, at, length, codec, crc, zcrc, cut, pieces. */
const BLOCK_NUMBERS = 9
/** A stream's numbers: at, length, codec, size, crc, zcrc (all NaN when the block has not that stream). */
const STREAM_NUMBERS = 6
/** Numbers per block: its own, then each stream's. */
const STRIDE = BLOCK_NUMBERS + STREAMS.length * STREAM_NUMBERS

export interface PackedFooter {
  size: number
  /** STRIDE numbers per block, in block order. */
  fields: Float64Array
}

function put (fields: Float64Array, at: number, value: number | undefined): void {
  fields[at] = value ?? NaN
}

function get (fields: Float64Array, at: number): number | undefined {
  const v = fields[at]!
  return Number.isNaN(v) ? undefined : v
}

export function packFooter (footer: StoredFooter): PackedFooter {
  const fields = new Float64Array(footer.blocks.length * STRIDE)
  footer.blocks.forEach((b, i) => {
    let at = i * STRIDE
    put(fields, at++, b.start)
    put(fields, at++, b.end)
    put(fields, at++, b.at)
    put(fields, at++, b.length)
    put(fields, at++, b.codec)
    put(fields, at++, b.crc)
    put(fields, at++, b.zcrc)
    put(fields, at++, b.cut)
    put(fields, at++, b.pieces)
    for (const name of STREAMS) {
      const s = b[name]
      // A stream is there or not as a whole: its `at` says which.
      put(fields, at++, s?.at)
      put(fields, at++, s?.length)
      put(fields, at++, s?.codec)
      put(fields, at++, s?.size)
      put(fields, at++, s?.crc)
      put(fields, at++, s?.zcrc)
    }
  })
  return { size: footer.size, fields }
}

function streamAt (fields: Float64Array, at: number): FooterColumns | undefined {
  if (Number.isNaN(fields[at]!)) return undefined
  return { at: fields[at]!, length: fields[at + 1]!, codec: fields[at + 2]!, size: fields[at + 3]!, crc: fields[at + 4]!, zcrc: get(fields, at + 5) }
}

/** The blocks of `packed` as storedFooter makes them (same fields, same order, absent ones undefined). */
export function unpackFooter (packed: PackedFooter): StoredFooter {
  const { fields } = packed
  const blocks: StoredBlock[] = []
  for (let at = 0; at < fields.length; at += STRIDE) {
    const streams = at + BLOCK_NUMBERS
    blocks.push({
      start: fields[at]!,
      end: fields[at + 1]!,
      at: fields[at + 2]!,
      length: fields[at + 3]!,
      codec: fields[at + 4]!,
      crc: fields[at + 5]!,
      zcrc: get(fields, at + 6),
      cut: get(fields, at + 7),
      cols: streamAt(fields, streams),
      vars: streamAt(fields, streams + STREAM_NUMBERS),
      tcounts: streamAt(fields, streams + 2 * STREAM_NUMBERS),
      pieces: get(fields, at + 8)
    })
  }
  return { size: packed.size, blocks }
}
