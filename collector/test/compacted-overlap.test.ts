// Reads that run WHILE closed segments are being compacted, with real collector processes: search pages
// followed through `next`, the NDJSON export, and a tail resumed from an id issued before the compaction each
// see every event exactly once, whichever form each segment was in when they reached it.
//
// A journal of ~180 small NDJSON segments is written once; each attempt copies it, starts a collector with
// JOURNAL_COMPACT=on on the copy (compaction starts at once) and reads everything, again and again, until
// every segment is compacted. /status.journal.compaction.segments growing across a round of reads shows the
// round overlapped compaction; an attempt in which none did (a fast machine) is made again.
import t from 'tap'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { poll, startCollector, type RunningCollector } from '../../test/support'
import { compaction, eventsFrom, exportAll, forms, listedSegments, onceEach, post, searchAll, seqs, tail, type Tailed } from './compacted-helpers'

const EVENTS = 3000
const env = { JOURNAL_SEGMENT_BYTES: '4096' }

/** The uncompacted journal, and the SSE ids a tail received for it (positions: they outlive the process). */
async function writeJournal (t: Tap.Test): Promise<{ dir: string, ids: Tailed[], closed: number }> {
  const c = await startCollector(t, { env: { ...env, JOURNAL_COMPACT: 'off' } })
  const tailing = tail(c, EVENTS)
  await poll(async () => await listedSegments(c) >= 1)
  for (let i = 0; i < EVENTS; i += 10) await post(c, eventsFrom(i, 10)) // a segment rolls between groups: small ones
  const ids = await tailing
  await c.stop()
  return { dir: c.logDir, ids, closed: forms(c.logDir).plain.length }
}

interface Round { overlapped: boolean }

/** Reads everything three ways at once; each must answer every event exactly once. */
async function readRound (t: Tap.Test, c: RunningCollector, ids: Tailed[], label: string): Promise<Round> {
  const before = (await compaction(c)).segments
  const from = 1234 // a tail resumed after this event's id
  const [pages, exported, resumed] = await Promise.all([searchAll(c, 100), exportAll(c), tail(c, EVENTS - from - 1, ids[from]!.id)])
  const after = (await compaction(c)).segments
  t.same(pages, seqs(0, EVENTS).reverse(), `${label}: search pages, newest first, each event once`)
  t.equal(onceEach(exported, seqs(0, EVENTS)), undefined, `${label}: the export, each event once`)
  t.same(resumed.map(e => e.seq), seqs(from + 1, EVENTS), `${label}: a tail id from before the compaction resumes exactly`)
  return { overlapped: after > before }
}

t.test('search pages, the export and a resumed tail during compaction: each event exactly once', async t => {
  const journal = await writeJournal(t)
  t.ok(journal.closed >= 100, `${journal.closed} closed segments`)
  t.same(journal.ids.map(e => e.seq), seqs(0, EVENTS), 'the tail before')
  let overlapped = 0
  for (let attempt = 1; overlapped === 0; attempt++) {
    if (attempt > 5) throw new Error('compaction never overlapped a round of reads in 5 attempts')
    const dir = mkdtempSync(join(tmpdir(), 'maap-overlap-'))
    cpSync(journal.dir, dir, { recursive: true })
    const c = await startCollector(t, { logDir: dir, env: { ...env, JOURNAL_COMPACT: 'on' } })
    for (let round = 1; ; round++) {
      const r = await readRound(t, c, journal.ids, `attempt ${attempt}, round ${round}`)
      if (r.overlapped) overlapped++
      const s = await compaction(c)
      if (s.segments >= journal.closed && !s.running) break
    }
    const s = await compaction(c)
    t.equal(s.errors, 0, `attempt ${attempt}: no compaction failed`)
    t.same(forms(dir).plain.length, 1, `attempt ${attempt}: only the segment being written is NDJSON`)
    await readRound(t, c, journal.ids, `attempt ${attempt}, all compacted`)
    await c.stop()
  }
  t.ok(overlapped > 0, `${overlapped} rounds of reads overlapped compaction`)
})
