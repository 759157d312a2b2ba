// Helpers for the shipping end-to-end tests (pino-*.test.ts, ship-*.test.ts): run an application
// process, and read what reached MongoDB through the collector.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { RunningCollector } from './collector'

export const pinoApp = resolve(__dirname, 'pino-app.js')
export const maapShip = resolve(__dirname, '..', '..', 'transports', 'shipper', 'dist', 'cli.js')

export interface AppProcess {
  child: ChildProcessWithoutNullStreams
  stderr: () => string
  /** Sends one command line and resolves with the next line the app prints. */
  command: (line: string) => Promise<string>
  exited: Promise<number | null>
}

export function startApp (script: string, env: Record<string, string>, args: string[] = []): AppProcess {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } })
  let err = ''
  child.stderr.on('data', (c: Buffer) => { err += c })
  const lines = createInterface({ input: child.stdout })
  const waiting: Array<(line: string) => void> = []
  lines.on('line', line => waiting.shift()?.(line))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return {
    child,
    stderr: () => err,
    command: line => new Promise(resolve => {
      waiting.push(resolve)
      child.stdin.write(line + '\n')
    }),
    exited
  }
}

/**
 * Asks the collector to flush to MongoDB until it has nothing left, then counts. No timing involved:
 * each force-flush returns once its flush is done.
 */
export async function flushCollector (collector: RunningCollector): Promise<void> {
  for (;;) {
    const res = await fetch(`${collector.url}/force-flush`, { method: 'POST' })
    const body = await res.json() as { message?: string }
    if (res.status !== 200) throw new Error(`force-flush answered ${res.status}: ${JSON.stringify(body)}`)
    if (/Flushed 0 logs/.test(body.message ?? '')) return
  }
}

/** Sum of "dropped N records" that the shipper reported on stderr. */
export function droppedOnStderr (stderr: string): number {
  let n = 0
  for (const m of stderr.matchAll(/maap-shipper: dropped (\d+) records/g)) n += Number(m[1])
  return n
}
