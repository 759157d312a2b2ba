// Reads what the collector journaled in its LOG_DIR — synchronously, so a test can look at the moment an
// event fires (e.g. a logger's 'finish'): the collector journals before it acknowledges, so the journal
// is exactly what it has acknowledged. Each line is parsed as JSON.
//
// A closed segment may have been compacted (JOURNAL_COMPACT, `<segment>.z`): its original NDJSON is read
// back by the collector's own reader (catSegment) in a child process, which keeps this synchronous.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SEGMENT_NAME } from '../../collector/src/journal/segment-name'

const COMPACTED = '.z'
const SEGMENT_FILE = resolve(__dirname, '..', '..', 'collector', 'dist', 'journal', 'segment-file.js')

/** Journal segments in LOG_DIR by their logical names (NDJSON or compacted; not the dead letters), oldest first. */
export function segments (logDir: string): string[] {
  const names = new Set<string>()
  for (const f of readdirSync(logDir)) {
    const name = f.endsWith(COMPACTED) ? f.slice(0, -COMPACTED.length) : f
    if (SEGMENT_NAME.test(name)) names.add(name)
  }
  return [...names].sort()
}

/** Segment `name`'s original NDJSON, whichever form it is in. */
export function segmentText (logDir: string, name: string): string {
  const plain = join(logDir, name)
  if (existsSync(plain)) {
    try {
      return readFileSync(plain, 'utf8')
    } catch (err) {
      // Compacted between the listing and the read: the compacted form holds the same bytes.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return execFileSync(process.execPath, ['-e', `require(${JSON.stringify(SEGMENT_FILE)}).catSegment(process.argv[1], process.argv[2])`, logDir, name],
    { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 })
}

export function journaled (logDir: string): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = []
  for (const f of segments(logDir)) {
    for (const line of segmentText(logDir, f).split('\n')) {
      if (line !== '') events.push(JSON.parse(line) as Record<string, unknown>)
    }
  }
  return events
}
