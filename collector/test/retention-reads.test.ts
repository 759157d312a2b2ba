// Reads that overlap a retention pass: a search or export running while retention deletes old segments
// answers every kept event exactly once. The writer's segment list, which every reader iterates across
// awaits, must never lose entries under an iterator: forgetting deleted segments makes a new list.
import t from 'tap'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JournalWriter } from '../src/journal/writer'
import { poll, startCollector } from '../../test/support'
import { ageWhenIdle, closedWhenIdle, eventsFrom, exportAll, onceEach, post, searchAll, seqs, seqsOf } from './compacted-helpers'


t.test('a segment list handed out keeps its entries when deleted segments are forgotten', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-list-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const names = [1, 2, 3, 4].map(i => `maap-20260301T00000${i}Z-00000${i}.ndjson`)
  for (const n of names) writeFileSync(join(dir, n), '{"message":"x"}\n')
  const w = new JournalWriter({ dir, fsync: 'off', segmentMaxBytes: 1024 })
  await w.open()
  t.teardown(() => w.close())
  const held = w.segments
  const seen: string[] = []
  for (const name of held) {
    seen.push(name)
    if (name === names[1]) w.forgetSegments(names.slice(0, 2)) // a retention pass ends mid-iteration
  }
  t.same(seen, [...names, w.end.segment], 'an iteration under way sees every segment it started with')
  t.same(w.segments, [names[2], names[3], w.end.segment], 'the writer\'s list no longer has them')
  await w.append('{"message":"y"}\n'.repeat(80), 80) // past segmentMaxBytes: the next append rolls
  await w.append('{"message":"z"}\n', 1)
  t.equal(w.segments.length, 4, 'a roll appends to the current list')
  t.ok(readdirSync(dir).length >= 5)
})

for (const compact of ['off', 'on']) {
  t.test(`JOURNAL_COMPACT=${compact}: reads right after each retention pass answer every kept event once`, async t => {
    const c = await startCollector(t, { env: { JOURNAL_SEGMENT_BYTES: '4096', JOURNAL_COMPACT: compact, DELETE_LOGS_OLDER_THAN: '30', RETENTION_SWEEP_INTERVAL: '0.05' } })
    let sent = 0
    const gone = new Set<number>()
    for (let round = 1; round <= 8; round++) {
      for (let i = 0; i < 200; i += 10) await post(c, eventsFrom(sent + i, 10)) // a segment rolls between groups: small ones
      sent += 200
      // The two oldest segments, in whichever form, aged past DELETE_LOGS_OLDER_THAN once compaction is idle (a
      // compaction under way would copy the NDJSON's young last write to the .z): the reads below start the
      // moment their files are gone, while the retention pass that deleted them is still going.
      const oldest = (await closedWhenIdle(c)).slice(0, 2)
      for (const name of oldest) for (const s of await seqsOf(c.logDir, name)) gone.add(s)
      await ageWhenIdle(c, oldest, 31)
      await poll(() => oldest.every(n => !existsSync(join(c.logDir, n)) && !existsSync(join(c.logDir, `${n}.z`))), 5,
        { what: `round ${round}: retention to delete ${oldest.join(', ')}`, ms: 60_000 })
      const kept = seqs(0, sent).filter(s => !gone.has(s))
      t.equal(onceEach(await exportAll(c), kept), undefined, `round ${round}: the export, every kept event once`)
      t.same(await searchAll(c, 500), kept.reverse(), `round ${round}: search pages, every kept event once, newest first`)
    }
  })
}
