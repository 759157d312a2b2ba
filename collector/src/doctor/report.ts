// What doctor prints: one line per check (status, name, what was found, and after "→" what the collector
// does about it or what to fix) and a summary; or, with --json, one object {ok, checks} for scripts.
import type { CheckResult } from './check'

const MARKERS = { ok: 'ok', fallback: 'fallback', fail: 'FAIL' } as const

/** The collector can run: nothing failed (fallbacks are what it copes with). */
export function canRun (checks: readonly CheckResult[]): boolean {
  return checks.every(c => c.status !== 'fail')
}

export function formatHuman (checks: readonly CheckResult[], heading: string): string {
  const width = Math.max(...checks.map(c => c.name.length))
  const lines = [heading]
  for (const c of checks) {
    // A server's message may span lines (FerretDB's add a "See <docs>" line): one line per check all the same.
    const text = `${c.detail}${c.action === undefined ? '' : ` → ${c.action}`}`.replace(/\s*\n\s*/g, ' ')
    lines.push(`${MARKERS[c.status].padEnd(8)}  ${c.name.padEnd(width)}  ${text}`)
  }
  const fallbacks = checks.filter(c => c.status === 'fallback').length
  const failed = checks.filter(c => c.status === 'fail').map(c => c.name)
  lines.push(failed.length === 0
    ? `ready: the collector can run (${checks.length - fallbacks} ok, ${fallbacks} fallback${fallbacks === 1 ? '' : 's'})`
    : `NOT READY: the collector cannot run as configured (failed: ${[...new Set(failed)].join(', ')})`)
  return lines.join('\n') + '\n'
}

export function formatJson (checks: readonly CheckResult[]): string {
  return JSON.stringify({ ok: canRun(checks), checks }) + '\n'
}
