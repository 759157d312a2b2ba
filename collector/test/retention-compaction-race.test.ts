// Retention racing compaction, with the real compaction (compactSegment) and the real retention
// (cleanupSegments) on real files. A retention pass lists LOG_DIR, then decides and deletes; a compaction
// renames <name>.z.tmp to <name>.z, then unlinks <name>. Whatever the interleaving, a segment retention
// deleted must not come back in either form.
//
// The interleavings are made exactly, never by timing: `expiresAt` is called by retention between its listing
// and its delete, so a compaction run inside it lands in that window.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setImmediate as yieldNow } from 'node:timers/promises'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { JournalCompactor } from '../src/journal/compacted/compactor'
import { cleanupSegments } from '../src/retention/file-cleanup'
import { poll } from '../../test/support'

const SEGMENT = 'maap-20260301T000000Z-000001.ndjson'
const CURRENT = 'maap-20260301T010000Z-000002.ndjson'
const WORKER = resolve(__dirname, '..', 'dist', 'journal', 'compacted', 'compact-worker.js')

function journal (t: Tap.Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'maap-race-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ timestamp: '2026-03-01T00:00:00.000Z', level: 'INFO', app_name: 'api', message: `event ${i}` }))
  writeFileSync(join(dir, SEGMENT), lines.join('\n') + '\n')
  writeFileSync(join(dir, CURRENT), '')
  return dir
}

/** One pass that deletes SEGMENT, with `meanwhile` run after its listing and before its delete. */
async function retentionPass (dir: string, meanwhile: () => Promise<void>): Promise<string[]> {
  const errors: string[] = []
  const deleted = await cleanupSegments({
    dir,
    olderThanDays: 0,
    mongoConfigured: false,
    current: CURRENT,
    onError: (name, err) => errors.push(`${name}: ${err.message}`),
    expiresAt: async () => {
      await meanwhile()
      return 0 // expired long ago
    }
  })
  if (errors.length > 0) throw new Error(errors.join('; '))
  return deleted
}

t.test('a compaction that finishes between the listing and the delete: the .z goes too', async t => {
  const dir = journal(t)
  const deleted = await retentionPass(dir, async () => { await compactSegment(dir, SEGMENT, 4096) })
  t.same(deleted, [SEGMENT], 'reported deleted')
  t.same(readdirSync(dir), [CURRENT], 'neither form is left')
})

t.test('a compaction under way when retention deletes, at each point of it: neither form is left', async t => {
  // Retention's delete lands: before the compaction opened anything, while its .tmp is being written (the
  // compaction yields between blocks), after its rename, and after its unlink of the NDJSON. Each point is waited for, not timed.
  const at = (dir: string): string => ['', '.z.tmp', '.z'].filter(s => existsSync(join(dir, SEGMENT + s))).map(s => s === '' ? 'ndjson' : s).join('+')
  const points: Array<[string, (state: string) => boolean]> = [
    ['at once', () => true],
    ['mid-way', state => state.includes('.z.tmp') || state.endsWith('.z')],
    ['renamed', state => state.endsWith('.z') && !state.includes('tmp')],
    ['finished', state => state === '.z']
  ]
  const seen = new Set<string>()
  for (const [point, reached] of points) {
    for (let run = 0; run < 3; run++) {
      const dir = journal(t)
      let compaction: Promise<unknown> | undefined
      let stateAtDelete = ''
      const deleted = await retentionPass(dir, async () => {
        compaction = compactSegment(dir, SEGMENT, 1024).catch((err: NodeJS.ErrnoException) => err.code)
        while (!reached(at(dir))) await yieldNow()
        stateAtDelete = at(dir)
        seen.add(stateAtDelete)
      })
      const ended = await compaction
      t.equal(ended !== 'ENOENT' || point === 'at once', true, `${point}: the compaction ends (or found nothing to compact)`)
      if (stateAtDelete === 'ndjson+.z.tmp') {
        // Deleted while the .tmp was written: the compaction finds its source gone and says so, so the
        // compactor counts no compaction for it.
        t.equal((ended as { gone?: boolean }).gone, true, `${point}: a compaction whose segment retention deleted reports it gone`)
      }
      t.same(deleted, [SEGMENT], `${point}: reported deleted`)
      t.same(readdirSync(dir), [CURRENT], `${point}: neither form is left`)
    }
  }
  t.ok(seen.has('ndjson+.z.tmp'), `retention met a compaction mid-way (${[...seen].join(', ')})`)
})

t.test('the compactor meets a listed segment that retention deleted: skipped, not a failure', async t => {
  // The writer forgets deleted segments only at the end of the retention pass; until then the compactor may
  // pick one. It is gone, not damaged: no error counted, nothing reported, and the next one is compacted.
  const dir = journal(t)
  const later = 'maap-20260301T003000Z-000002.ndjson'
  writeFileSync(join(dir, later), '{"message":"kept"}\n')
  rmSync(join(dir, SEGMENT)) // as retention deletes it
  const errors: string[] = []
  const c = new JournalCompactor({ dir, segments: () => [SEGMENT, later, CURRENT], current: () => CURRENT, confirmedBefore: undefined, workerFile: WORKER, intervalMs: 20, onError: s => errors.push(s) })
  t.teardown(() => c.stop())
  c.start()
  await poll(() => c.status().segments === 1 && !c.status().running)
  t.same(readdirSync(dir).sort(), [later + '.z', CURRENT], 'the deleted one stays deleted, the next one is compacted')
  t.equal(c.status().errors, 0, 'no error counted')
  t.same(errors, [], 'none reported')
})

t.test('a pass meets segments that vanish, expiries that fail, and a .z it cannot delete', async t => {
  const dir = journal(t)
  const [a, b, c] = ['maap-20260301T000010Z-000003.ndjson', 'maap-20260301T000020Z-000004.ndjson', 'maap-20260301T000030Z-000005.ndjson']
  for (const n of [a, b, c]) writeFileSync(join(dir, n), '{"message":"x"}\n')
  mkdirSync(join(dir, `${c}.z`)) // not a file: unlink refuses it
  const errors: string[] = []
  const deleted = await cleanupSegments({
    dir,
    olderThanDays: 0,
    mongoConfigured: false,
    current: CURRENT,
    onError: (name, err) => errors.push(`${name}: ${(err as NodeJS.ErrnoException).code ?? err.message}`),
    expiresAt: async name => {
      if (name === SEGMENT) rmSync(join(dir, b)) // b is gone before the pass reaches it
      if (name === a) throw Object.assign(new Error('gone while read'), { code: 'ENOENT' })
      return 0
    }
  })
  t.same(deleted, [SEGMENT], 'only what it deleted')
  t.same(errors.length, 1, 'one failure reported')
  t.match(errors[0], new RegExp(`^${c.replace(/\./g, '\\.')}: E(ISDIR|PERM)`), 'the .z it could not delete')
  t.ok(existsSync(join(dir, a)), 'a segment whose expiry read found it gone is left for the next pass')
  const fails: string[] = []
  await cleanupSegments({ dir, olderThanDays: 0, mongoConfigured: false, current: CURRENT, onError: (name, err) => fails.push(`${name}: ${err.message}`), expiresAt: async () => { throw new Error('unreadable') } })
  t.same(fails, [`${a}: unreadable`], 'an expiry that fails otherwise is reported, and the segment kept')
  t.ok(existsSync(join(dir, a)) && existsSync(join(dir, `${c}.z`)), 'what is left of c is a directory: not ours, never touched again')
})
