// Runs the real maap-logs bin as a child process against a real collector (build() listening on a port).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build, loadConfig } from '@maap-event-logger/collector'
import { listen } from './helpers'

export const binPath = resolve(__dirname, '..', 'bin', 'maap-logs.js')

export interface Run { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

export interface Cli {
  child: ChildProcessWithoutNullStreams
  out: () => string
  err: () => string
  result: Promise<Run>
}

/** The child's environment: ours without MAAP_* / colour settings (the test gives what it means), times in UTC. */
function childEnv (env: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' }
  for (const k of ['MAAP_URL', 'MAAP_API_KEY', 'NO_COLOR', 'FORCE_COLOR']) delete e[k]
  return { ...e, ...env }
}

export function startCli (args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [binPath, ...args], { env: childEnv(env) })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  child.stdin.end()
  const result = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr }))
  return { child, out: () => stdout, err: () => stderr, result }
}

export async function runCli (args: string[], env: Record<string, string> = {}): Promise<Run> {
  return await startCli(args, env).result
}

export function tempLogDir (): string {
  return mkdtempSync(join(tmpdir(), 'maap-logs-cli-'))
}

/** A collector on LOG_DIR `logDir`, listening on 127.0.0.1:`port` (0: any free port) unless `listening` is false. */
export async function startCollector (logDir: string, env: Record<string, string> = {}, port = 0, listening = true):
Promise<{ app: FastifyInstance, url: string, port: number }> {
  const app = await build(loadConfig({ LOG_DIR: logDir, TAIL_HEARTBEAT_INTERVAL: '1', ...env }))
  if (!listening) return { app, url: '', port }
  const url = await listen(app, port)
  return { app, url, port: Number(new URL(url).port) }
}

/** POST /logs as a client would; throws unless every event was accepted. */
export async function post (url: string, events: Array<Record<string, unknown>>, key?: string): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (key !== undefined) headers.authorization = `Bearer ${key}`
  const res = await fetch(`${url}/logs`, { method: 'POST', headers, body: JSON.stringify(events) })
  const body = await res.json() as { accepted?: number }
  if (res.status !== 200 || body.accepted !== events.length) throw new Error(`POST /logs: ${res.status} ${JSON.stringify(body)}`)
}
