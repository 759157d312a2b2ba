// maap-logs export --dir LOG_DIR: the stored lines of every journal under LOG_DIR that match the filters,
// read from the files alone (no collector needed, nothing written there), as NDJSON on stdout.
//
//   LOG_DIR, worker-<i>/ ─► a JournalLines each (segments in written order, NDJSON or compacted, filtered)
//     one journal:  runs of matching lines copied out as they are
//     several:      merged by received_at (k-way; each journal is already in that order) ─► the service's arrival order
//   ─► ByteSink (large writes, stdout's backpressure, EPIPE = done)
//
// The filters are the read API's, parsed by the collector's own code (read/query.ts) and tested by the
// search's own matcher, so an export answers the same set as GET /logs with the same filters (without
// RETENTION_RULES: the files are printed as they are, expired or not). Events are not deduplicated: each
// lives in exactly one journal, and a segment is read in one form only.
import type { Writable } from 'node:stream'
import { onDamagedSegment } from '../journal/segment-file'
import { parseReadQuery, type ReadQuery } from '../read/query'
import type { ExportOptions, Filters } from './args'
import { ByteSink } from './byte-sink'
import { findJournals } from './export-journals'
import { JournalLines, type Warn } from './journal-lines'
import { queryString } from './query'
import { compareKeys, receivedAt, type Key } from './received-at'

export interface ExportResult {
  /** Files, or parts of files, that could not be read and were skipped (each warned of on stderr). */
  warnings: number
  /** Why stdout could not be written, when it could not (a closed pipe is not a failure). */
  writeError: NodeJS.ErrnoException | undefined
  /** The reader went away (EPIPE) before the end: not everything was printed, by its choice. */
  readerGone: boolean
}

/** The filters as the read API would take them; QueryParameterError (naming the parameter) when one is bad. */
export function exportQuery (filters: Filters, now = Date.now()): ReadQuery {
  return parseReadQuery(Object.fromEntries(queryString(filters)), { now })
}

/** One journal: runs of adjacent matching lines are copied in one piece (all of a chunk, without filters). */
async function single (lines: JournalLines, out: ByteSink): Promise<void> {
  while (await lines.fill()) {
    const { buf, starts, ends } = lines
    let due = false
    for (let i = 0; i < starts.length;) {
      let j = i
      while (j + 1 < starts.length && starts[j + 1] === ends[j]! + 1) j++
      due = out.put(buf, starts[i]!, ends[j]!) || due
      i = j + 1
    }
    if (due) await out.flush()
    if (out.stopped) return
  }
}

/** Several journals, merged by received_at; ties go to the journal listed first. */
async function merged (all: JournalLines[], out: ByteSink): Promise<void> {
  const live: JournalLines[] = []
  const keys: Key[] = []
  for (const lines of all) {
    if (!(await lines.fill())) continue
    const key = { buf: lines.buf, start: 0, end: 0 }
    receivedAt(lines.buf, lines.starts[0]!, lines.ends[0]!, key)
    live.push(lines)
    keys.push(key)
  }
  while (live.length > 0) {
    let best = 0
    for (let i = 1; i < live.length; i++) if (compareKeys(keys[i]!, keys[best]!) < 0) best = i
    const lines = live[best]!
    if (out.put(lines.buf, lines.starts[lines.at]!, lines.ends[lines.at]!)) {
      await out.flush()
      if (out.stopped) return
    }
    if (++lines.at === lines.starts.length && !(await lines.fill())) {
      live.splice(best, 1)
      keys.splice(best, 1)
      continue
    }
    receivedAt(lines.buf, lines.starts[lines.at]!, lines.ends[lines.at]!, keys[best]!)
  }
}

/**
 * Prints what `opts` selects to `stdout`. Throws before printing anything when the filters or the
 * directory are wrong (QueryParameterError, JournalDirError); what cannot be read later is warned of and
 * skipped, and counted in the result.
 */
export async function exportLogs (opts: ExportOptions, stdout: Writable, say: (text: string) => void): Promise<ExportResult> {
  const q = exportQuery(opts.filters)
  const journals = await findJournals(opts.dir)
  let warnings = 0
  const warn: Warn = text => {
    warnings++
    say(text)
  }
  for (const j of journals) {
    for (const path of j.setAside) warn(`${path}: a compacted segment a collector found damaged and set aside; its events are not in this output`)
  }
  // A compacted segment found damaged while reading: its unreadable blocks read as blank lines (skipped).
  onDamagedSegment((file, reason) => warn(`${reason.startsWith(file) ? reason : `${file}: ${reason}`}; what could not be read of it is skipped`))
  const out = new ByteSink(stdout)
  const readers = journals.map(j => new JournalLines(j, q, warn))
  try {
    if (readers.length === 1) await single(readers[0]!, out)
    else await merged(readers, out)
    await out.flush()
  } finally {
    onDamagedSegment(undefined)
    await Promise.all(readers.map(async r => await r.close()))
  }
  return { warnings, writeError: out.failure, readerGone: out.closed }
}
