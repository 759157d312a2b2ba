// The journals under a LOG_DIR, for `maap-logs export`, found the way the collector lays them out
// (journal/worker-dirs.ts), read-only:
//
//   LOG_DIR/                      a single process's journal (WORKER_COUNT 0 or 1)
//   LOG_DIR/worker-<i>/           cluster worker i's journal (WORKER_COUNT > 1)
//   LOG_DIR/worker-1.adopting/    a single-process journal a start-up was moving to worker 1 when it stopped
//
// Each one's segments are listed by their logical names (journal/writer.ts listSegments: NDJSON or `.z`, a
// segment in both forms once). Compacted files a collector set aside as damaged (`.z.damaged`, never read by
// it) are listed apart, so the export can say that their events are not in its output.
//
// Worker directories are picked by name and followed through symbolic links, as the collector does. A
// collector that starts with WORKER_COUNT > 1 moves LOG_DIR's own journal into worker-1 (through
// worker-1.adopting); an export that sees such a move under way (a listed directory gone, the directories
// changed while they were listed, one segment listed both before and after the move) stops with
// JournalDirError rather than print events twice or leave them out: run again once the collector has started.
// A worker-1.adopting left by a move a crash cut short (no collector running) is read like any journal.
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
  /** Where a collector adopting LOG_DIR's journal moves this one's segments (staging first): none for a worker's. */
  movesTo: string[]
}

/** Why LOG_DIR itself cannot be exported; `usage` when it is the wrong place, not a failure to read. */
export class JournalDirError extends Error {
  constructor (message: string, readonly usage: boolean) {
    super(message)
  }
}

const WORKER_1 = 'worker-1'
const ADOPTING = `${WORKER_1}.adopting`
const SET_ASIDE = COMPACTED_SUFFIX + DAMAGED_SUFFIX

function setAside (files: readonly string[], dir: string): string[] {
  return files
    .filter(f => f.endsWith(SET_ASIDE) && parseSegmentName(f.slice(0, -SET_ASIDE.length)) !== undefined)
    .sort()
    .map(f => join(dir, f))
}

async function journalIn (dir: string, movesTo: string[]): Promise<Journal> {
  return { dir, segments: await listSegments(dir), setAside: setAside(await readdir(dir), dir), movesTo }
}

/** The export cannot go on: a collector is moving `logDir`'s own journal into worker-1 (`printed`: after some lines were). */
export function movingError (logDir: string, printed: boolean): JournalDirError {
  return new JournalDirError(`${logDir}: a collector is moving LOG_DIR's journal into ${WORKER_1}/ (it started while this export ran)` +
    `${printed ? ', so what was printed is incomplete' : ''}; run the export again`, false)
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
  const staging = join(logDir, ADOPTING)
  const target = join(logDir, WORKER_1)
  const all: Journal[] = []
  for (const name of ['', ...workers]) {
    const dir = name === '' ? logDir : join(logDir, name)
    const movesTo = name === '' ? [staging, target] : name === ADOPTING ? [target] : []
    try {
      all.push(await journalIn(dir, movesTo))
    } catch (err) {
      // A move takes these away (worker-1.adopting renamed to worker-1, an empty worker-1 replaced); another gone
      // since it was listed (removed by hand) holds nothing to export.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (dir === staging || dir === target)) throw movingError(logDir, false)
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dir !== logDir) continue
      throw new JournalDirError(`${dir}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, false)
    }
  }
  // A move under way while they were listed: worker-1 or its staging directory came or went, or a segment was
  // listed on both sides of the move. (Another worker directory appearing is a cluster starting: nothing listed.)
  const moveDirs = (ws: readonly string[]): string => ws.filter(w => w === ADOPTING || w === WORKER_1).join('/')
  const after = await workerDirs(logDir, await readdir(logDir).catch(() => []))
  const moving = all.filter(j => j.dir === logDir || j.dir === staging || j.dir === target).flatMap(j => j.segments)
  if (moveDirs(after) !== moveDirs(workers) || new Set(moving).size !== moving.length) throw movingError(logDir, false)
  const journals = all.filter(j => j.segments.length > 0 || j.setAside.length > 0)
  if (journals.length === 0) {
    throw new JournalDirError(`--dir ${logDir}: no journal segments there (maap-<time>-<n>.ndjson, or .ndjson.z compacted) ` +
      'nor in worker-<i>/ below it; is it the collector\'s LOG_DIR?', true)
  }
  return journals
}
