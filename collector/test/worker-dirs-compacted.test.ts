// Adoption of a single-process journal by worker 1 (WORKER_COUNT > 1) moves compacted segments too: a
// `.z` left behind in LOG_DIR would be a segment no worker reads (and no retention deletes).
import t from 'tap'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { adoptSingleProcessJournal, workerJournals } from '../src/journal/worker-dirs'

const quiet = { info: () => {}, warn: () => {} }
const OLD = 'maap-20260301T000000Z-000001.ndjson'
const CURRENT = 'maap-20260301T010000Z-000002.ndjson'

t.test('adoptSingleProcessJournal moves <segment>.z with the NDJSON and drops a .z.tmp', async t => {
  const dir = t.testdir({ [`${OLD}.z`]: 'packed', [CURRENT]: '{}\n', [`${CURRENT}.z.tmp`]: 'half', 'notes.txt': 'mine' })
  await adoptSingleProcessJournal(dir, quiet)
  t.same(readdirSync(join(dir, 'worker-1')).sort(), [CURRENT, `${OLD}.z`].sort(), 'both segments are worker 1\'s')
  t.notOk(existsSync(join(dir, `${CURRENT}.z.tmp`)), 'the half-written compaction is gone')
  t.ok(existsSync(join(dir, 'notes.txt')), 'what is not the journal stays')
})

t.test('a journal of only compacted segments is adopted, and a worker dir holding only one counts', async t => {
  const dir = t.testdir({ [`${OLD}.z`]: 'packed' })
  await adoptSingleProcessJournal(dir, quiet)
  t.same(readdirSync(join(dir, 'worker-1')), [`${OLD}.z`])
  mkdirSync(join(dir, 'worker-2'))
  writeFileSync(join(dir, 'worker-2', `${OLD}.z`), 'packed')
  t.same((await workerJournals(dir)).sort(), [join(dir, 'worker-1'), join(dir, 'worker-2')])
})
