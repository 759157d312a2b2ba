// Start-up repair of compactions a crash interrupted (before the writer lists the journal):
//
//   <name>.z.tmp            ─► deleted (the NDJSON is still the segment)
//   <name> and <name>.z     ─► .z whole (magic, footer crc, size) ? unlink <name> : delete <name>.z
//   <name>.z alone, broken  ─► renamed <name>.z.damaged and reported: it is the only copy, and a person may
//                              still recover it; under that name no reader lists it, so every read answers
//                              with the other segments' events instead of failing on this one
import { open, readdir, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { parseSegmentName } from '../segment-name'
import { readFooter } from '../segment-file'
import { COMPACTED_SUFFIX, PARTIAL_SUFFIX } from './format'

/** What a damaged compacted file with no NDJSON copy is renamed to, after its own name: never listed. */
export const DAMAGED_SUFFIX = '.damaged'

export interface Recovery {
  /** Half-written compactions deleted. */
  partial: number
  /** Segments found in both forms whose NDJSON was removed (the compaction had finished). */
  finished: number
  /** Compacted files that did not check out: deleted when the NDJSON was still there, else kept as `.z.damaged`. */
  corrupt: Array<{ segment: string, reason: string, kept: boolean }>
  /** Logical names of the segments now in the compacted form. */
  compacted: string[]
}

function logical (file: string, suffix: string): string | undefined {
  if (!file.endsWith(suffix)) return undefined
  const name = file.slice(0, -suffix.length)
  return parseSegmentName(name) === undefined ? undefined : name
}

async function exists (path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Whole, and holding `size` original bytes when that is known; else why not. */
async function check (path: string, size: number | undefined): Promise<string | undefined> {
  const fh = await open(path, 'r')
  try {
    const footer = await readFooter(fh, path)
    if (size !== undefined && footer.size !== size) return `holds ${footer.size} bytes, the NDJSON ${size}`
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    await fh.close()
  }
}

export async function recoverCompactions (dir: string): Promise<Recovery> {
  const result: Recovery = { partial: 0, finished: 0, corrupt: [], compacted: [] }
  let files: string[]
  try {
    files = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result
    throw err
  }
  for (const file of files.sort()) {
    if (logical(file, PARTIAL_SUFFIX) !== undefined) {
      await unlink(join(dir, file)).catch(() => {})
      result.partial++
      continue
    }
    const name = logical(file, COMPACTED_SUFFIX)
    if (name === undefined) continue
    const plainSize = await exists(join(dir, name))
    const bad = await check(join(dir, file), plainSize)
    if (bad !== undefined) {
      result.corrupt.push({ segment: name, reason: bad, kept: plainSize === undefined })
      if (plainSize !== undefined) await unlink(join(dir, file))
      else await rename(join(dir, file), join(dir, file + DAMAGED_SUFFIX))
      continue
    }
    if (plainSize !== undefined) {
      await unlink(join(dir, name))
      result.finished++
    }
    result.compacted.push(name)
  }
  return result
}
