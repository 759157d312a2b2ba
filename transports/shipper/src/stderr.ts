// One line on stderr that gets out even from a worker thread at process exit. A worker's
// process.stderr is forwarded through the main thread, which at exit is blocked in pino's
// Atomics.wait and then gone; a synchronous write to fd 2 reaches the terminal directly.
import { writeSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'

export function stderrLine (line: string): void {
  const text = `${line}\n`
  if (isMainThread) {
    process.stderr.write(text)
    return
  }
  try { writeSync(2, text) } catch { /* stderr closed: nowhere left to say it */ }
}
