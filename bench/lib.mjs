// Shared bits of the bench scripts: child processes on loopback, peak RSS, number formatting.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

/** Starts `node file` with env, resolves { child, port, lines } once it logs "listening at …:PORT". */
export function startServer (file, env = {}) {
  const child = spawn(process.execPath, [file], { env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = []
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', line => {
      lines.push(line)
      const m = /listening at https?:\/\/[^"\s]*:(\d+)/i.exec(line)
      if (m) resolve({ child, port: Number(m[1]), lines, stop: () => stop(child) })
    })
    child.once('exit', code => reject(new Error(`${file} exited (${code}) before listening:\n${lines.join('\n')}`)))
  })
}

function stop (child) {
  return new Promise(resolve => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
}

/** Peak resident set size of a live process, in MB (Linux). */
export function peakRssMb (pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 1024) : NaN
}

export const fmt = n => Math.round(n).toLocaleString('en-US')
export const ratio = (a, b) => (a / b).toFixed(2) + '×'

/**
 * Runs a bench app (a child script that prints one JSON line of measurements, and more on request);
 * resolves with that first line plus { child, exited, nextLine }.
 */
export function runBenchApp (script, env) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', c => { stderr += c })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal, stderr })))
  const lines = createInterface({ input: child.stdout })
  const nextLine = () => new Promise(resolve => lines.once('line', line => resolve(JSON.parse(line))))
  return new Promise((resolve, reject) => {
    nextLine().then(first => resolve({ ...first, child, exited, nextLine }))
    child.once('exit', code => reject(new Error(`bench app exited (${code}) without a result:\n${stderr}`)))
  })
}

export const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
export const perSec = (n, ms) => n / (ms / 1000)

/** Polls `count()` until it reaches n (or the limit passes); the poll is cheap next to what it measures. */
export async function until (count, n, limitMs, everyMs) {
  const t0 = performance.now()
  for (;;) {
    const c = await count()
    if (c >= n || performance.now() - t0 > limitMs) return c
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
