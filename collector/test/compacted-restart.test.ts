// A collector SIGKILLed while it compacts, restarted with JOURNAL_COMPACT=off (a user turns compaction off),
// with real collector processes: every event is still readable exactly once — search pages, the export, and
// a tail resumed from an id the killed process issued — new events join them, and turning compaction on again
// later compacts what is closed without losing or doubling anything.
import t from 'tap'
import { poll, startCollector, type RunningCollector } from '../../test/support'
import { compaction, eventsFrom, exportAll, forms, IDLE_MS, listedSegments, onceEach, post, searchAll, seqs, tail, type Tailed } from './compacted-helpers'

const small = { JOURNAL_SEGMENT_BYTES: '4096' }

/**
 * Where compaction is, from the directory alone: a .tmp on disk (and a segment compacted before it), or done
 * with every closed segment (one NDJSON left, the segment being written, and no .tmp).
 */
function compactionState (dir: string): 'mid-way' | 'done' | undefined {
  const f = forms(dir)
  if (f.tmp.length > 0 && f.packed.length > 0) return 'mid-way'
  return f.tmp.length === 0 && f.packed.length > 0 && f.plain.length === 1 ? 'done' : undefined
}

/** Rounds of events before a test gives up catching a compaction mid-way (each round closes several segments). */
const ROUNDS = 30

/** Posts until a compaction's .tmp is on disk, then SIGKILLs the collector at once; how many events were sent. */
async function killMidCompaction (c: RunningCollector, sent: number, first: number): Promise<number> {
  for (let round = 1, n = first; round <= ROUNDS; round++, n = 200) {
    for (let i = 0; i < n; i += 10) await post(c, eventsFrom(sent + i, 10)) // a segment rolls between groups: small ones
    sent += n
    // Compaction runs every 2 s over every closed segment: look for it mid-way; if a run ended unseen, more events.
    const state = await poll(() => compactionState(c.logDir), 10, { what: 'compaction to start on the closed segments, or finish with them', ms: IDLE_MS })
    if (state === 'mid-way') {
      await c.stop('SIGKILL')
      return sent
    }
  }
  throw new Error(`no compaction was seen mid-way in ${ROUNDS} rounds of events`)
}

t.test('SIGKILL during compaction, then a restart with compaction off, then on again: every event exactly once', async t => {
  let c = await startCollector(t, { env: { ...small, JOURNAL_COMPACT: 'on' } })
  const seen: Tailed[] = []
  const tailing = tail(c, Infinity, undefined, seen).catch(() => seen) // ends when the process dies
  await poll(async () => await listedSegments(c) >= 1, 25, { what: 'the collector to list its first segment', ms: 60_000 })
  let sent = await killMidCompaction(c, 0, 1000)
  await tailing
  // Until the kill left a compaction half done on disk (it may have finished between the look and the kill).
  for (let attempt = 1; forms(c.logDir).tmp.length === 0; attempt++) {
    if (attempt > 10) throw new Error('no kill left a half-written compaction in 10 attempts')
    c = await startCollector(t, { logDir: c.logDir, env: { ...small, JOURNAL_COMPACT: 'on' } })
    sent = await killMidCompaction(c, sent, 200)
  }
  const left = forms(c.logDir)
  t.ok(left.packed.length > 0 && left.tmp.length === 1, `the kill left ${left.packed.length} segments compacted and one half-written (${left.tmp[0]})`)
  const resumeAfter = seen.find(e => e.seq === 499)
  t.ok(resumeAfter !== undefined, 'the tail received event 499 before the kill')

  const off = await startCollector(t, { logDir: c.logDir, env: { ...small, JOURNAL_COMPACT: 'off' } })
  t.equal(onceEach(await exportAll(off), seqs(0, sent)), undefined, 'compaction off: the export holds every event once')
  t.same(await searchAll(off, 150), seqs(0, sent).reverse(), 'compaction off: search pages, newest first, every event once')
  t.same((await tail(off, sent - 500, resumeAfter!.id)).map(e => e.seq), seqs(500, sent), 'compaction off: the killed process\'s tail id resumes exactly')
  for (let i = 0; i < 200; i += 20) await post(off, eventsFrom(sent + i, 20))
  sent += 200
  t.equal(onceEach(await exportAll(off), seqs(0, sent)), undefined, 'compaction off: new events join them, each once')
  const f = forms(off.logDir)
  t.same(f.tmp, [], 'the half-written compaction is gone')
  t.same(f.plain.filter(p => f.packed.includes(p)), [], 'no segment is left in both forms')
  await off.stop()

  const on = await startCollector(t, { logDir: c.logDir, env: { ...small, JOURNAL_COMPACT: 'on' } })
  const closed = await listedSegments(on) - 1
  await poll(async () => forms(on.logDir).packed.length >= closed && !(await compaction(on)).running, 25,
    { what: 'compaction, on again, to finish with every closed segment', ms: IDLE_MS })
  t.same(forms(on.logDir).plain.length, 1, 'compaction on again: every closed segment compacted')
  t.equal(onceEach(await exportAll(on), seqs(0, sent)), undefined, 'compaction on again: the export holds every event once')
  t.same(await searchAll(on, 150), seqs(0, sent).reverse(), 'compaction on again: search pages, every event once')
  t.equal((await compaction(on)).errors, 0)
})
