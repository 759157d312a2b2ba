// LOG_DIR: the journal must be able to write there (the collector creates it at start if it is missing)
// and to hold at least one segment. A probe file of doctor's own is written and removed; a directory
// doctor had to create is removed again, so doctor leaves LOG_DIR as it found it.
import { randomBytes } from 'node:crypto'
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CollectorConfig } from '../config'
import { fail, ok, type CheckResult } from './check'

export function formatBytes (n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return i === 0 ? `${n} bytes` : `${n.toFixed(1)} ${units[i]}`
}

/** Free space against one journal segment (JOURNAL_SEGMENT_BYTES): less cannot even fill one. */
export function diskVerdict (dir: string, freeBytes: number, segmentBytes: number, created: boolean): CheckResult {
  const where = created ? `${dir} does not exist yet and can be created (the collector creates it at start)` : `${dir} is writable`
  if (freeBytes < segmentBytes) {
    return fail('log_dir', `${where}, but only ${formatBytes(freeBytes)} is free, less than one journal segment (JOURNAL_SEGMENT_BYTES ${formatBytes(segmentBytes)})`,
      'free space on that file system (or lower JOURNAL_SEGMENT_BYTES): with a full disk every ingest is answered 503 MAAP_JOURNAL_UNAVAILABLE')
  }
  return ok('log_dir', `${where}; ${formatBytes(freeBytes)} free`)
}

export async function checkLogDir (config: Pick<CollectorConfig, 'logDir' | 'segmentMaxBytes'>): Promise<CheckResult> {
  const dir = config.logDir
  let createdFrom: string | undefined
  try {
    createdFrom = await mkdir(dir, { recursive: true })
    const probe = join(dir, `.maap-doctor-${randomBytes(4).toString('hex')}`)
    await writeFile(probe, 'maap-collector doctor\n', { flag: 'wx' })
    await rm(probe)
    const fs = await statfs(dir)
    return diskVerdict(dir, fs.bavail * fs.bsize, config.segmentMaxBytes, createdFrom !== undefined)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return fail('log_dir', `${dir} is not writable (${e.code ?? 'error'}: ${e.message})`,
      'the collector cannot open its journal there and will not start: give its user write access, or set LOG_DIR')
  } finally {
    if (createdFrom !== undefined) await rm(createdFrom, { recursive: true, force: true }).catch(() => {})
  }
}
