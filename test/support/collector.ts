// Runs the real collector (`collector/dist/bin.js`) as a child process for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { poll } from './poll'

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
  /** The log entries (JSON lines of output) from index `from` of `output` on that match `want`. */
  logs: (want?: LogMatch, from?: number) => LogEntry[]
  /**
   * Resolves with the first log entry, from index `from` of `output` on, that matches `want` — already
   * printed or still to come; rejects if the collector exits first.
   */
  waitForLog: (want: LogMatch, from?: number) => Promise<{ entry: LogEntry, index: number }>
}

export type LogEntry = Record<string, unknown>
/** Fields a log entry must have: a RegExp matches a string field, any other value must be equal. */
export type LogMatch = Record<string, unknown>

/** The line parsed as a log entry when it is JSON and has every field of `want`; else undefined. */
export function matchLog (line: string, want: LogMatch): LogEntry | undefined {
  let entry: unknown
  try {
    entry = JSON.parse(line)
  } catch {
    return undefined // a line that is not a log entry (e.g. a Node warning on stderr)
  }
  if (typeof entry !== 'object' || entry === null) return undefined
  for (const [key, wanted] of Object.entries(want)) {
    const value = (entry as LogEntry)[key]
    if (wanted instanceof RegExp ? !(typeof value === 'string' && wanted.test(value)) : value !== wanted) return undefined
  }
  return entry as LogEntry
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
  const logs = (want: LogMatch = {}, from = 0): LogEntry[] => output.slice(from).flatMap(line => matchLog(line, want) ?? [])
  const waitForLog = async (want: LogMatch, from = 0): Promise<{ entry: LogEntry, index: number }> => await new Promise((resolve, reject) => {
    const check = (): void => {
      for (let i = from; i < output.length; i++) {
        const entry = matchLog(output[i]!, want)
        if (entry !== undefined) {
          watchers.delete(check)
          resolve({ entry, index: i })
          return
        }
      }
      if (closed) {
        watchers.delete(check)
        reject(new Error(`collector exited before logging ${Object.entries(want).map(([k, v]) => `${k}=${String(v)}`).join(' ')}:\n${output.join('\n')}`))
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
  return { url: `${scheme}://127.0.0.1:${port}`, port, logDir, child, output, stop, logs, waitForLog }
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

/**
 * Asks the collector to flush to MongoDB until it has nothing left. No timing involved: each
 * force-flush returns once its flush is done.
 */
export async function flushCollector (collector: RunningCollector): Promise<void> {
  for (;;) {
    const res = await fetch(`${collector.url}/force-flush`, { method: 'POST' })
    const body = await res.json() as { message?: string }
    if (res.status !== 200) throw new Error(`force-flush answered ${res.status}: ${JSON.stringify(body)}`)
    // The reply keeps the original service's shape: the count is only in its message.
    if (Number(/^Flushed (\d+) logs/.exec(body.message ?? '')?.[1]) === 0) return
  }
}

export interface FreshAnswer { status: number, text: string, json: () => any }

/**
 * One request on a new connection (no keep-alive), so that a WORKER_COUNT > 1 primary deals it to the
 * next worker in turn. A connection handed to a worker at the moment it dies is never answered
 * (node:cluster): the request gives up after `timeoutMs` without a byte. Tests that kill workers pass a
 * short one; the default is a failure bound for a loaded CI machine, where a collector's first count over
 * compacted segments (its scan threads starting at a lower priority) took 2.4 s beside a load of 12.
 */
export async function freshRequest (c: RunningCollector, method: string, path: string,
  opts: { headers?: Record<string, string>, body?: string, timeoutMs?: number } = {}): Promise<FreshAnswer> {
  return await new Promise((resolve, reject) => {
    const req = request(`${c.url}${path}`, { agent: false, method, headers: opts.headers ?? {} }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', chunk => { text += chunk }).on('end', () => resolve({ status: res.statusCode!, text, json: () => JSON.parse(text) }))
    }).on('error', reject)
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error('no answer')))
    req.end(opts.body)
  })
}
