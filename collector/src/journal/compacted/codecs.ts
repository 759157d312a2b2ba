// How a compacted block's streams are encoded and decoded, by the codec the footer names for each:
//
//   lines   ─► raw deflate, level 8 ──┐
//   columns ─► raw deflate, level 8 ──┤  (format 5; brotli before: files written so still read as they are)
//   vars    ─► raw deflate, level 8 ──┼─► stored as they are when that is not smaller (CODEC_STORED)
//   tcounts ─► brotli (generic mode) ─┘
//
//   footer codec ─► decode (the main thread: zlib's thread pool, inline when small) / decodeSync (scan threads)
//
// Why deflate for the lines: an export of a common word decodes the lines of every block, and decoding was
// most of its scan threads' CPU. On format 3's cut lines (60 blocks of bench/count.mjs data, 51 MB, CPU ms,
// best of 10, in one run) raw deflate at level 8 is 4.5 % smaller than brotli 6 (5.33 vs 5.58 MB) and
// decodes 1.4–1.5× faster (43 vs 58–65 ms), at about brotli 6's compression speed (45 vs 45–63 MB/s);
// levels 6–7 are 6 % larger, 9 no smaller. Why deflate for the columns and vars since format 5: an export
// decodes both for every block it picks from, and a count the columns of every block. bench/count.mjs data
// (2M events, 748 blocks; best of 5, CPU ms): columns brotli 6 8.89 MB stored, decoded in 87 ms; deflate
// 9.89 MB in 45–48 ms; vars 10.97 MB in 87 ms vs 11.39 MB in 57 ms: −72 ms of an export's ~1.2 s of CPU
// for +1.4 MB (1.5 %) on disk. The template counts stay brotli: small, and read instead of the columns.
import { promisify } from 'node:util'
import { brotliCompressSync, brotliDecompress, brotliDecompressSync, constants, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib'

export const CODEC_STORED = 0
export const CODEC_BROTLI = 1
export const CODEC_DEFLATE = 2

export const BROTLI_QUALITY = 6
export const DEFLATE_LEVEL = 8

/** Whether a footer's codec is one this reader decodes. */
export function knownCodec (codec: unknown): boolean {
  return codec === CODEC_STORED || codec === CODEC_BROTLI || codec === CODEC_DEFLATE
}

export type StreamKind = 'lines' | 'columns' | 'vars' | 'tcounts'

/** The codec this collector writes a stream of `kind` in. */
export function codecFor (kind: StreamKind): number {
  return kind === 'tcounts' ? CODEC_BROTLI : CODEC_DEFLATE
}

/** `bytes` encoded for a stream of `kind` in `codec` (codecFor), or stored when that is not smaller. */
export function encode (kind: StreamKind, bytes: Buffer, codec = codecFor(kind)): { codec: number, data: Buffer } {
  const packed = compress(codec, kind, bytes)
  return packed.length < bytes.length ? { codec, data: packed } : { codec: CODEC_STORED, data: bytes }
}

/** `bytes` in `codec` (deflate or brotli, the mode `kind`'s), whatever the size. */
export function compress (codec: number, kind: StreamKind, bytes: Buffer): Buffer {
  return codec === CODEC_DEFLATE
    ? deflateRawSync(bytes, { level: DEFLATE_LEVEL, memLevel: 9 })
    : brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [constants.BROTLI_PARAM_MODE]: kind === 'vars' ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length
      }
    })
}

/** zlib's smallest output chunk; it refuses less. */
const MIN_CHUNK = 64

/**
 * Decodes into one output chunk of the size the footer promises (+1, so a longer stream still shows as
 * one): zlib's default 16 KiB chunks would be copied together afterwards. A stored stream is copied (the
 * caller's buffer may be reused).
 */
export function decodeSync (codec: number, packed: Buffer, size: number): Buffer {
  const options = { chunkSize: Math.max(size + 1, MIN_CHUNK) }
  if (codec === CODEC_DEFLATE) return inflateRawSync(packed, options)
  if (codec === CODEC_BROTLI) return brotliDecompressSync(packed, options)
  return Buffer.from(packed)
}

const brotli = promisify(brotliDecompress)
const inflate = promisify(inflateRaw)

/**
 * Streams that decode into at most this many bytes are decoded inline by `decode`. A call on zlib's thread
 * pool costs ~0.1 ms of CPU whatever its size (a handle, a work item, a callback; measured with Node 20 on
 * this project's machine: 110–170 µs of CPU for 1–64 KiB of lines, against 17–80 µs to inflate them
 * inline), so below this the pool costs more than it spares, and the event loop waits ≤ ~0.1 ms. A
 * format 4 block's pieces and columns are often this small; its lines are not.
 */
export const INLINE_DECODE_BYTES = 64 * 1024

/**
 * decodeSync, on zlib's thread pool when the stream is larger than INLINE_DECODE_BYTES (the event loop is
 * not blocked); a stored stream is returned as it is.
 */
export async function decode (codec: number, packed: Buffer, size: number): Promise<Buffer> {
  if (codec !== CODEC_DEFLATE && codec !== CODEC_BROTLI) return packed
  if (size <= INLINE_DECODE_BYTES) return decodeSync(codec, packed, size)
  return await (codec === CODEC_DEFLATE ? inflate : brotli)(packed, { chunkSize: Math.max(size + 1, MIN_CHUNK) })
}
