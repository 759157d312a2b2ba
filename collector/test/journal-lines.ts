// The events a test collector journaled, in order, parsed.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export function journal (logDir: string): Array<Record<string, any>> {
  return readdirSync(logDir).filter(n => n.startsWith('maap-2')).sort()
    .flatMap(n => readFileSync(join(logDir, n), 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l)))
}
