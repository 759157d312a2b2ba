// A line on stderr that gets out while the process exits: process.stderr may be a pipe written
// asynchronously, and at 'exit' there is no later turn of the event loop to finish the write.
import { writeSync } from 'node:fs'

export function stderrLine (line: string): void {
  try { writeSync(2, `${line}\n`) } catch { /* stderr closed: nowhere left to say it */ }
}
