// Reads what the collector journaled in its LOG_DIR — synchronously, so a test can look at the moment an
// event fires (e.g. a logger's 'finish'): the collector journals before it acknowledges, so the journal
// is exactly what it has acknowledged. Each line is parsed as JSON.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SEGMENT_NAME } from '../../collector/src/journal/segment-name'

/** Journal segment files in LOG_DIR (not the dead letters), oldest first. */
export function segments (logDir: string): string[] {
  return readdirSync(logDir).filter(f => SEGMENT_NAME.test(f)).sort()
}

export function journaled (logDir: string): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = []
  for (const f of segments(logDir)) {
    for (const line of readFileSync(join(logDir, f), 'utf8').split('\n')) {
      if (line !== '') events.push(JSON.parse(line) as Record<string, unknown>)
    }
  }
  return events
}
