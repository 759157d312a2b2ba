// Runs the real collector (`collector/dist/bin.js`) as a child process for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { poll } from '../support/poll'

export const collectorBin = resolve(__dirname, '..', '..', 'collector', 'dist', 'bin.js')

export interface RunningCollector {
  url: string
  port: number
  logDir: string
  child: ChildProcess
  /** Lines the collector printed (its pino log), for assertions and for debugging a failure. */
  output: string[]
  /** Sends a signal and resolves with the exit code (or signal name) once the process is gone. */
  stop: (signal?: NodeJS.Signals) => Promise<number | string>
  /**
   * Resolves with the first line of output, from index `from` on, that matches `re` — already printed or
   * still to come; rejects if the collector exits first.
   */
  waitForLine: (re: RegExp, from?: number) => Promise<{ line: string, index: number }>
}

export interface StartOptions {
  env?: Record<string, string | undefined>
  logDir?: string
  /** Fixed port, for restarting a collector on the address its clients already use. */
  port?: number
}

/**
 * Starts the collector and resolves once it listens (after its journal replay, since it only listens
 * when ready). The port comes from the collector's own "listening" log line, so PORT=0 never races.
 */
export async function startCollector (t: { teardown: (fn: () => unknown) => void }, opts: StartOptions = {}):
Promise<RunningCollector> {
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), 'maap-collector-'))
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(opts.port ?? 0),
    LOG_DIR: logDir,
    MONGODB_URI: undefined,
    ...opts.env
  }
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const child = spawn(process.execPath, [collectorBin], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  const exited = new Promise<number | string>(resolve => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))
  })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return await exited
  }
  t.teardown(() => stop('SIGKILL'))
  const watchers = new Set<() => void>()
  const onLine = (line: string): void => {
    output.push(line)
    for (const w of watchers) w()
  }
  const waitForLine = async (re: RegExp, from = 0): Promise<{ line: string, index: number }> => await new Promise((resolve, reject) => {
    const check = (): void => {
      for (let i = from; i < output.length; i++) {
        if (re.test(output[i]!)) {
          watchers.delete(check)
          resolve({ line: output[i]!, index: i })
          return
        }
      }
      if (closed) {
        watchers.delete(check)
        reject(new Error(`collector exited before printing ${String(re)}:\n${output.join('\n')}`))
      }
    }
    watchers.add(check)
    check()
  })
  // 'close' comes after the last output line was read ('exit' may come before).
  let closed = false
  child.once('close', () => {
    closed = true
    for (const w of watchers) w()
  })
  createInterface({ input: child.stderr! }).on('line', onLine)
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', line => {
      onLine(line)
      const m = /listening at https?:\/\/[^"\s]*:(\d+)/i.exec(logMessage(line))
      if (m) resolve(Number(m[1]))
    })
    exited.then(code => reject(new Error(`collector exited (${code}) before listening:\n${output.join('\n')}`)))
  })
  const scheme = opts.env?.TLS_CERT_FILE ? 'https' : 'http'
  return { url: `${scheme}://127.0.0.1:${port}`, port, logDir, child, output, stop, waitForLine }
}

/** The message of one of the collector's log lines (pino JSON: `msg`); a line that is not JSON as it is. */
export function logMessage (line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: unknown }
    return typeof entry.msg === 'string' ? entry.msg : line
  } catch {
    return line
  }
}

export type Status = Record<string, unknown>

/** The collector's GET /status. */
export async function collectorStatus<S = Status> (c: RunningCollector): Promise<S> {
  return await (await fetch(`${c.url}/status`)).json() as S
}

/** Polls /status until `check` holds — an outcome the collector reaches by itself; the test's timeout bounds it. */
export async function untilStatus<S = Status> (c: RunningCollector, check: (s: S) => boolean): Promise<S> {
  return await poll(async () => {
    const s = await collectorStatus<S>(c)
    return check(s) ? s : undefined
  })
}

/** Everything journaled is in a reachable MongoDB. */
export const drained = (s: Status): boolean => s.mongodb_status === 'connected' && s.buffer_size === 0
/** A flush to MongoDB has failed and says why. */
export const disconnected = (s: Status): boolean => s.mongodb_status === 'disconnected' && s.last_error !== null
