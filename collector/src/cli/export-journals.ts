// The journals under a LOG_DIR, for `maap-logs export`, found the way the collector lays them out
// (journal/worker-dirs.ts), read-only:
//
//   LOG_DIR/                      a single process's journal (WORKER_COUNT 0 or 1)
//   LOG_DIR/worker-<i>/           cluster worker i's journal (WORKER_COUNT > 1)
//   LOG_DIR/worker-1.adopting/    a single-process journal a start-up was moving to worker 1 when it stopped
//
// Each one's segments are listed by their logical names (journal/writer.ts listSegments: NDJSON or `.z`, a
// segment in both forms once). Compacted files a collector set aside as damaged (`.z.damaged`, never read by
// it) are listed apart, so the export can say that their events are not in its output. Worker directories are
// picked by name and followed through symbolic links, as the collector does.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DAMAGED_SUFFIX } from '../journal/compacted/recover'
import { COMPACTED_SUFFIX } from '../journal/compacted/format'
import { parseSegmentName } from '../journal/segment-name'
import { WORKER_DIR } from '../journal/worker-dirs'
import { listSegments } from '../journal/writer'

export interface Journal {
  dir: string
  /** Logical segment names, oldest first. */
  segments: string[]
  /** Files set aside as damaged (`<segment>.z.damaged`), by path. */
  setAside: string[]
}

/** Why LOG_DIR itself cannot be exported; `usage` when it is the wrong place, not a failure to read. */
export class JournalDirError extends Error {
  constructor (message: string, readonly usage: boolean) {
    super(message)
  }
}

const ADOPTING = 'worker-1.adopting'
const SET_ASIDE = COMPACTED_SUFFIX + DAMAGED_SUFFIX

function setAside (files: readonly string[], dir: string): string[] {
  return files
    .filter(f => f.endsWith(SET_ASIDE) && parseSegmentName(f.slice(0, -SET_ASIDE.length)) !== undefined)
    .sort()
    .map(f => join(dir, f))
}

async function journalIn (dir: string): Promise<Journal> {
  return { dir, segments: await listSegments(dir), setAside: setAside(await readdir(dir), dir) }
}

/** The names of LOG_DIR's worker journal directories (followed through symbolic links), in export order. */
async function workerDirs (logDir: string, names: readonly string[]): Promise<string[]> {
  const candidates = names.filter(n => WORKER_DIR.test(n) || n === ADOPTING)
  const isDir = await Promise.all(candidates.map(async n => await stat(join(logDir, n)).then(s => s.isDirectory(), () => false)))
  return candidates
    .filter((_, i) => isDir[i])
    .map(name => ({ name, n: name === ADOPTING ? 0.5 : Number(WORKER_DIR.exec(name)![1]) }))
    .sort((a, b) => a.n - b.n)
    .map(w => w.name)
}

/** Every journal under `logDir` that holds a segment or a file set aside: LOG_DIR's own first, then the workers' by number. */
export async function findJournals (logDir: string): Promise<Journal[]> {
  let names
  try {
    names = await readdir(logDir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new JournalDirError(`--dir ${logDir}: no such directory`, true)
    if (code === 'ENOTDIR') throw new JournalDirError(`--dir ${logDir}: not a directory`, true)
    throw new JournalDirError(`--dir ${logDir}: cannot be read (${code ?? (err as Error).message})`, false)
  }
  const workers = await workerDirs(logDir, names)
  const journals: Journal[] = []
  for (const dir of [logDir, ...workers.map(w => join(logDir, w))]) {
    let journal
    try {
      journal = await journalIn(dir)
    } catch (err) {
      // A worker directory gone since it was listed (an adoption finished) holds nothing to export.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dir !== logDir) continue
      throw new JournalDirError(`${dir}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, false)
    }
    if (journal.segments.length > 0 || journal.setAside.length > 0) journals.push(journal)
  }
  if (journals.length === 0) {
    throw new JournalDirError(`--dir ${logDir}: no journal segments there (maap-<time>-<n>.ndjson, or .ndjson.z compacted) ` +
      'nor in worker-<i>/ below it; is it the collector\'s LOG_DIR?', true)
  }
  return journals
}
