// Retention for the collector's own journal segments in LOG_DIR (DELETE_LOGS_OLDER_THAN).
//
// Only files whose names the collector itself generates (SEGMENT_NAME) are ever considered; anything else
// in LOG_DIR — other applications' logs, the checkpoint, dead letters, directories, symlinks — is never
// touched (the original service deleted every old file in its log directory; this one must not).
//
// Age of a segment. A segment's name carries the time it was *opened*, but it keeps receiving writes until
// the writer rolls to the next one — possibly much later. Its age is therefore measured from its last
// write, which is what the file's mtime records (the writer only ever writes to the newest segment, and
// the collector never rewrites a closed one). A file restored or touched by hand looks younger, never older,
// so nothing is deleted before it is at least DELETE_LOGS_OLDER_THAN days past its last write. (The opening
// time of the next segment is no substitute: after a restart the next segment is opened "now", which would
// keep every segment of a stopped collector young forever.)
//
// The embedded store with RETENTION_RULES: the rules decide instead of DELETE_LOGS_OLDER_THAN — a segment is
// deleted once every event in it has expired under its rule (`expiresAt`, from segment-expiry.ts).
import { lstat, readdir, unlink } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { join } from 'node:path'
import { COMPACTED_SUFFIX } from '../journal/compacted/format'
import { parseSegmentName } from '../journal/segment-name'

const DAY_MS = 86_400_000

export interface CleanupOptions {
  dir: string
  /** DELETE_LOGS_OLDER_THAN in days (fractions allowed), finite and >= 0 as config.ts validated it; 0 = never delete. */
  olderThanDays: number
  /** Segments strictly before this name are fully confirmed in MongoDB; undefined = MongoDB not configured (journal is the store; then age alone decides). */
  confirmedBefore?: string | undefined
  /** Whether MongoDB is configured; when true and confirmedBefore is undefined nothing is confirmed, so nothing is deleted. */
  mongoConfigured: boolean
  /** The segment being written: never deleted. */
  current: string
  now?: Date
  /**
   * Called for each segment that was due but could not be deleted (other than because it was already gone),
   * after every other due segment has been handled; the next sweep tries it again.
   */
  onError: (name: string, err: Error) => void
  /**
   * RETENTION_RULES in the embedded store: when (epoch ms) every event of the segment has expired; it then
   * replaces the age test (and `olderThanDays`).
   */
  expiresAt?: (name: string, path: string, size: number, mtimeMs: number) => Promise<number>
}

function errnoCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code
}

async function unlinkIfThere (path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => { if (errnoCode(err) !== 'ENOENT') throw err })
}

/** The segment's file as it is now: NDJSON, else compacted (a compaction may have finished since the listing). */
async function formOf (dir: string, name: string): Promise<Stats | undefined> {
  for (const file of [name, name + COMPACTED_SUFFIX]) {
    try {
      return await lstat(join(dir, file))
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err
    }
  }
  return undefined
}

/**
 * Deletes both forms, whatever the listing saw, NDJSON first. A compaction renames <name>.z.tmp to <name>.z
 * and then unlinks <name>, so: if our unlink of <name> finds it gone, the compaction finished and the .z is
 * already there for our second unlink; if ours came first, the compaction finds <name> gone and deletes its
 * own .z (compact-segment.ts). Deleting only the forms listed left a .z that a compaction renamed in after the
 * listing: a deleted segment that came back until the next pass (and counted twice then).
 */
async function removeSegment (dir: string, name: string): Promise<void> {
  await unlinkIfThere(join(dir, name))
  await unlinkIfThere(join(dir, name + COMPACTED_SUFFIX))
}

/**
 * Deletes the collector's own segments in `opts.dir` that are older than `olderThanDays` (age measured from
 * the segment's last write, see the top of this file), are not `current`, and — when MongoDB is configured —
 * sort before `confirmedBefore`. Never touches any other file. Returns the names deleted, oldest first
 * (including a due segment that had already disappeared when it came to deleting it, so the caller can
 * forget it too). Async fs only.
 */
export async function cleanupSegments (opts: CleanupOptions): Promise<string[]> {
  const { dir, olderThanDays, confirmedBefore, mongoConfigured, current } = opts
  if (olderThanDays === 0 && opts.expiresAt === undefined) return [] // never delete
  if (mongoConfigured && confirmedBefore === undefined) return [] // nothing confirmed yet
  const now = (opts.now ?? new Date()).getTime()
  const maxAgeMs = olderThanDays * DAY_MS

  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return []
    throw err
  }
  // A segment by its logical name, in whichever form it is listed: NDJSON, compacted (`.z`), or both while a
  // compaction finishes.
  const segments = [...new Set(names.map(file => file.endsWith(COMPACTED_SUFFIX) ? file.slice(0, -COMPACTED_SUFFIX.length) : file))]
    .filter(name => parseSegmentName(name) !== undefined)
    .sort()

  const deleted: string[] = []
  const failures: Array<{ name: string, error: Error }> = []
  for (const name of segments) {
    if (name === current) continue
    if (mongoConfigured && !(name < confirmedBefore!)) continue
    let due: boolean
    try {
      const st = await formOf(dir, name)
      if (st === undefined) continue // vanished meanwhile
      if (!st.isFile()) continue // a directory or symlink that happens to look like a segment: not ours
      due = opts.expiresAt === undefined
        ? now - st.mtimeMs > maxAgeMs
        : now > await opts.expiresAt(name, join(dir, name), st.size, st.mtimeMs)
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue // vanished while its expiry was read
      failures.push({ name, error: err as Error })
      continue
    }
    if (!due) continue
    try {
      await removeSegment(dir, name)
      deleted.push(name) // (gone already, too: the caller forgets it all the same)
    } catch (err) {
      failures.push({ name, error: err as Error })
    }
  }

  for (const f of failures) opts.onError(f.name, f.error)
  return deleted
}
