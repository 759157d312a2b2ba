// A crash in the middle of a journal write can leave a segment ending in part of a line. That part was
// never acknowledged (acks follow completed writes), so on start it is cut off and kept aside in
// LOG_DIR/maap-torn-tails.ndjson (base64, with the segment and offset) — never replayed, never lost
// silently, and never a reason to crash at start.
import { appendFile, open } from 'node:fs/promises'
import { join } from 'node:path'

export const TORN_TAILS_FILE = 'maap-torn-tails.ndjson'
const NEWLINE = 10
const CHUNK = 64 * 1024

export interface TornTail {
  segment: string
  offset: number
  bytes: number
}

/** Cuts a partial last line off `segment`; returns what was cut, or undefined when the segment is whole. */
export async function repairTornTail (dir: string, segment: string): Promise<TornTail | undefined> {
  let fh
  try {
    fh = await open(join(dir, segment), 'r+')
  } catch (err) {
    // Compacted (only whole closed segments are): nothing can be torn.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const { size } = await fh.stat()
    if (size === 0) return undefined
    const last = Buffer.alloc(1)
    await fh.read(last, 0, 1, size - 1)
    if (last[0] === NEWLINE) return undefined

    let keep = 0
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - CHUNK)
      const buf = Buffer.alloc(end - start)
      await fh.read(buf, 0, buf.length, start)
      const nl = buf.lastIndexOf(NEWLINE)
      if (nl !== -1) {
        keep = start + nl + 1
        break
      }
      end = start
    }
    const torn = Buffer.alloc(size - keep)
    await fh.read(torn, 0, torn.length, keep)
    const record = { found_at: new Date().toISOString(), segment, offset: keep, bytes_base64: torn.toString('base64') }
    await appendFile(join(dir, TORN_TAILS_FILE), JSON.stringify(record) + '\n')
    await fh.truncate(keep)
    return { segment, offset: keep, bytes: torn.length }
  } finally {
    await fh.close()
  }
}
