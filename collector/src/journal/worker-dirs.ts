// Where each journal lives when WORKER_COUNT > 1, and what happens to journals left by another layout:
//
//   LOG_DIR/                     single process (WORKER_COUNT 0 or 1): segments, checkpoint, dead letters here
//   LOG_DIR/worker-<i>/          cluster worker i: the same files, its own
//   LOG_DIR/worker-1.adopting/   a single-process journal on its way to worker 1 (a move cut short resumes)
//
// Start-up only, before anything writes to these directories; async fs all the same, so nothing here can
// hold up the event loop of a process that is already answering (a cluster primary relays /status).
import type { Dirent } from 'node:fs'
import { mkdir, readdir, rename, rmdir, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { OUTBOX_DIR } from '../alerts/outbox'
import { KEY_LOG_DIR } from '../idempotency/key-log'
import type { ServiceLogger } from '../logger'
import { DEAD_LETTER_FILE } from '../sink/dead-letter'
import { CHECKPOINT_FILE } from './checkpoint'
import { COMPACTED_SUFFIX, PARTIAL_SUFFIX } from './compacted/format'
import { parseSegmentName } from './segment-name'
import { TORN_TAILS_FILE } from './torn-tail'

const JOURNAL_FILES = new Set([CHECKPOINT_FILE, DEAD_LETTER_FILE, TORN_TAILS_FILE])

/** The name of a cluster worker's journal directory under LOG_DIR; the group is the worker id. */
export const WORKER_DIR = /^worker-(\d+)$/

/** The journal directory of cluster worker `id`. */
export function workerJournalDir (logDir: string, id: number): string {
  return join(logDir, `worker-${id}`)
}

/** The service's LOG_DIR, from a worker's own journal directory (itself in a single process). */
export function serviceLogDir (journalDir: string): string {
  return WORKER_DIR.test(basename(journalDir)) ? dirname(journalDir) : journalDir
}

/** The entries of `dir`; none when it does not exist. */
async function listDir (dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/** Whether `name` is a segment in either form: NDJSON `<segment>` or compacted `<segment>.z`. */
function isSegment (name: string): boolean {
  const logical = name.endsWith(COMPACTED_SUFFIX) ? name.slice(0, -COMPACTED_SUFFIX.length) : name
  return parseSegmentName(logical) !== undefined
}

/** A compaction a stop cut short (`<segment>.z.tmp`): its NDJSON is still the segment. */
function isPartial (name: string): boolean {
  return name.endsWith(PARTIAL_SUFFIX) && parseSegmentName(name.slice(0, -PARTIAL_SUFFIX.length)) !== undefined
}

/** The collector's own journal files among `entries` (segments in either form, checkpoint, dead letters, torn tails). */
function journalFiles (entries: Dirent[]): string[] {
  return entries
    .filter(e => e.isFile() && (JOURNAL_FILES.has(e.name) || isSegment(e.name)))
    .map(e => e.name)
}

/** Worker journal directories under `logDir` that hold journal files (left by an earlier WORKER_COUNT > 1). */
export async function workerJournals (logDir: string): Promise<string[]> {
  let names: string[]
  try {
    names = (await readdir(logDir)).filter(n => WORKER_DIR.test(n))
  } catch {
    return []
  }
  const dirs = names.map(n => join(logDir, n))
  const held = await Promise.all(dirs.map(async dir => journalFiles(await listDir(dir)).length > 0))
  return dirs.filter((_, i) => held[i])
}

/**
 * A journal that a single process left in LOG_DIR itself becomes worker 1's, so that it is replayed rather
 * than forgotten. The files go through a staging directory renamed at the end, so a move cut short by a crash
 * is resumed on the next start instead of leaving the journal split.
 */
export async function adoptSingleProcessJournal (logDir: string, log: Pick<ServiceLogger, 'info' | 'warn'>): Promise<void> {
  const target = workerJournalDir(logDir, 1)
  const staging = join(logDir, 'worker-1.adopting')
  const listed = await listDir(logDir)
  const files = journalFiles(listed)
  const names = listed.map(e => e.name)
  const staged = names.includes('worker-1.adopting')
  if (files.length === 0 && !staged) return
  const targetExists = names.includes('worker-1')
  if (!staged && targetExists && (await listDir(target)).length > 0) {
    log.warn({ log_dir: logDir, files: files.length }, 'LOG_DIR holds a single-process journal and worker-1 has its own: ' +
      'they are not merged; run once with WORKER_COUNT=0 and stop it with SIGTERM to drain the single-process journal')
    return
  }
  await mkdir(staging, { recursive: true })
  // A half-written compaction is not moved: the next start would delete it anyway, and its NDJSON goes.
  for (const e of listed) if (e.isFile() && isPartial(e.name)) await unlink(join(logDir, e.name))
  // The Idempotency-Keys and the alert outbox go with the journal they describe (positions in it, ids from it).
  const keyLog = listed.filter(e => e.isDirectory() && (e.name === KEY_LOG_DIR || e.name === OUTBOX_DIR)).map(e => e.name)
  for (const f of [...files, ...keyLog]) await rename(join(logDir, f), join(staging, f))
  if (targetExists) await rmdir(target)
  await rename(staging, target)
  log.info({ files: files.length, to: target }, 'moved the journal of a single-process run to worker 1, which replays it')
}
