// Processes in tests: what the code under test prints on this process's stderr, timers that never
// hold it, and child Node processes (an application, the CLI, a script) run as a user would run them.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

interface Teardown { teardown: (fn: () => void) => void }

/** Captures process.stderr writes until stop() (or the test's end); `lines` fills as they come. */
export function captureStderr (t: Teardown): { lines: string[], stop: () => void } {
  const lines: string[] = []
  const original = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string) => { lines.push(String(chunk)); return true }) as typeof process.stderr.write
  const stop = (): void => { process.stderr.write = original }
  t.teardown(stop)
  return { lines, stop }
}

/** The shipper's timers are unref'd (it must never keep a process alive): hold the test's process meanwhile. */
export function holdProcess (t: Teardown): void {
  const hold = setInterval(() => {}, 60_000)
  t.teardown(() => clearInterval(hold))
}

export interface NodeRun { code: number | null, stdout: string, stderr: string }

/**
 * Runs `node <args>` to its end (a script path, or ['-e', code]); `env` adds to this process's;
 * `input`, when given, is written to its stdin, which is then closed.
 */
export async function runNode (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<NodeRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  for (const k of Object.keys(env)) if (env[k] === undefined) delete childEnv[k]
  const child = spawn(process.execPath, args, { env: childEnv, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => { stdout += c })
  child.stderr!.on('data', (c: Buffer) => { stderr += c })
  if (input !== undefined) child.stdin!.end(input)
  // 'close': every byte of output has been read ('exit' may come before).
  const [code] = await once(child, 'close')
  return { code: code as number | null, stdout, stderr }
}

export interface AppProcess {
  child: ChildProcessWithoutNullStreams
  stderr: () => string
  /** Sends one command line and resolves with the next line the app prints. */
  command: (line: string) => Promise<string>
  exited: Promise<number | null>
}

/** Starts an application driven by commands on stdin (pino-app.js, winston-app.js). */
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

/** Records lost per stderr: the sum of every "<sender>: dropped N records" line. */
export function droppedOnStderr (stderr: string): number {
  let n = 0
  for (const m of stderr.matchAll(/^maap-[a-z]+: dropped (\d+) records/gm)) n += Number(m[1])
  return n
}
