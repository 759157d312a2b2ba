// maap-logs export --dir while a real collector starting with WORKER_COUNT=2 moves LOG_DIR's single-process
// journal into worker-1 (journal/worker-dirs.ts): an export held up by its reader (stdout's backpressure)
// while the move happens stops naming it (exit 1) having printed none twice, rather than exit 0 with the
// moved segments left out; one that starts after the move prints every event once, from worker-1.
import t from 'tap'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCollector } from '../../test/support'
import { runCli, startCli, type Run } from './maap-logs-run'

const SEGMENTS = 1200
const PER_SEGMENT = 8 // 1.5 MB in all: more than a pipe and the export's buffers hold

function event (n: number): string {
  const at = new Date(Date.UTC(2026, 2, 1) + n * 10).toISOString()
  return `{"timestamp":"${at}","level":"INFO","app_name":"api","message":"m${n}","seq":${n},"_id":"${String(n).padStart(24, '0')}","received_at":"${at}"}\n`
}

t.test('an export under way while a collector moves LOG_DIR\'s journal to worker-1 stops naming the move; one after it prints all once', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-adopt-'))
  // A journal a single process left, in many small segments.
  for (let s = 0; s < SEGMENTS; s++) {
    const name = `maap-20260301T${String(Math.floor(s / 60)).padStart(4, '0')}${String(s % 60).padStart(2, '0')}Z-${String(s + 1).padStart(6, '0')}.ndjson`
    writeFileSync(join(dir, name), Array.from({ length: PER_SEGMENT }, (_, i) => event(s * PER_SEGMENT + i)).join(''))
  }
  const total = SEGMENTS * PER_SEGMENT
  const check = (run: Run, label: string): boolean => {
    const seqs = run.stdout.split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as { seq: number }).seq)
    t.equal(new Set(seqs).size, seqs.length, `${label}: none twice`)
    if (run.code === 0) {
      t.equal(seqs.length, total, `${label}: exit 0, every event`)
      t.equal(run.stderr, '')
      return false
    }
    t.equal(run.code, 1, label)
    t.match(run.stderr, /^maap-logs: .*: a collector is moving LOG_DIR's journal into worker-1\/ \(it started while this export ran\).*; run the export again\n$/, `${label}: exit 1 naming the move`)
    return true
  }
  t.notOk(check(await runCli(['export', '--dir', dir]), 'before'), 'before the collector starts')

  // An export that has printed its first lines, then waits on a reader that stopped reading.
  const held = startCli(['export', '--dir', dir])
  await new Promise(resolve => held.child.stdout.once('data', resolve))
  held.child.stdout.pause()
  const c = await startCollector(t, { logDir: dir, env: { WORKER_COUNT: '2', JOURNAL_COMPACT: 'off' } })
  t.ok(existsSync(join(c.logDir, 'worker-1')) && !existsSync(join(c.logDir, 'worker-1.adopting')), 'the collector moved the journal to worker-1')
  held.child.stdout.resume()
  t.ok(check(await held.result, 'held'), 'the export under way stops naming the move')
  t.notOk(check(await runCli(['export', '--dir', dir]), 'after'), 'after the move: every event once, from worker-1')
})
