// Retention of compacted segments in a RUNNING collector (embedded store), with real collector processes:
// - DELETE_LOGS_OLDER_THAN removes a compacted segment exactly as it removes an NDJSON one: by the age of its
//   last write (compaction keeps the NDJSON's mtime), and /status and every read stop showing its events;
// - retention and compaction racing over the same old segments (both start with the collector): no deleted
//   segment comes back in either form, none is counted twice, no compaction fails on a segment retention
//   took, and reads answer exactly the events that were kept.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { collectorStatus, poll, startCollector, type RunningCollector } from '../../test/support'
import { age, ageWhenIdle, closedWhenIdle, compaction, eventsFrom, exportAll, forms, IDLE_MS, listedSegments, onceEach, post, searchAll, seqsOf } from './compacted-helpers'

const DAY = 86_400_000
const small = { JOURNAL_SEGMENT_BYTES: '4096', RETENTION_SWEEP_INTERVAL: '0.05' }

/** Every file of those segments, in any form (.z.tmp too). */
function filesOf (dir: string, names: readonly string[]): string[] {
  const f = forms(dir)
  return [...f.plain.filter(n => names.includes(n)), ...f.packed.filter(n => names.includes(n)).map(n => n + '.z'), ...f.tmp.filter(n => names.some(m => n.startsWith(m)))]
}

interface Retention { at?: string, files_deleted?: number, rules?: Array<{ removed: number }> | null }
const retention = async (c: RunningCollector): Promise<Retention> => ((await collectorStatus(c)) as { retention: Retention | null }).retention ?? {}

/** Resolves after `n` more retention passes have ended. */
async function passes (c: RunningCollector, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const at = (await retention(c)).at
    await poll(async () => (await retention(c)).at !== at, 25, { what: 'a retention pass to end', ms: 60_000 })
  }
}

/** Reads answer exactly `kept`: the export (each once) and search pages newest first. */
async function readsAnswer (t: Tap.Test, c: RunningCollector, kept: number[], label: string): Promise<void> {
  t.equal(onceEach(await exportAll(c), kept), undefined, `${label}: the export holds each kept event once, and no other`)
  t.same(await searchAll(c, 250), [...kept].sort((a, b) => b - a), `${label}: search pages hold the same, newest first`)
}

for (const compact of ['off', 'on']) {
  t.test(`JOURNAL_COMPACT=${compact}: DELETE_LOGS_OLDER_THAN removes segments by their last write, and their events from /status and reads`, async t => {
    const c = await startCollector(t, { env: { ...small, JOURNAL_COMPACT: compact, DELETE_LOGS_OLDER_THAN: '30' } })
    for (let i = 0; i < 600; i += 10) await post(c, eventsFrom(i, 10))
    // One listing, once compaction is done with every closed segment (one mid-way is in both forms for a moment).
    const closed = await closedWhenIdle(c)
    const listed = await listedSegments(c)
    t.ok(closed.length >= 20, `${closed.length} closed segments`)
    if (compact === 'on') t.same(forms(c.logDir).packed, closed, 'every closed segment compacted')
    await passes(c, 2)
    t.same(await closedWhenIdle(c), closed, 'passes over young segments delete none (a compacted one is as young as its last write)')

    const old = closed.slice(0, 10)
    const gone = new Set((await Promise.all(old.map(async n => await seqsOf(c.logDir, n)))).flat())
    await ageWhenIdle(c, old, 31)
    await poll(async () => filesOf(c.logDir, old).length === 0 && await listedSegments(c) === listed - old.length, 25,
      { what: 'retention to delete the 10 aged segments and /status to stop counting them', ms: 60_000 })
    t.pass('the segments past 30 days are deleted, and /status.journal.segments no longer counts them')
    const kept = eventsFrom(0, 600).map(e => e.seq as number).filter(s => !gone.has(s))
    t.equal(kept.length, 600 - gone.size)
    await readsAnswer(t, c, kept, 'after')
    await passes(c, 2)
    t.same(filesOf(c.logDir, old), [], 'they do not come back')
    if (compact === 'on') t.equal((await compaction(c)).errors, 0, 'no compaction failed')
  })
}

/** A journal written with compaction off: `old` events first (60 days old), then `young` ones (an hour old). */
async function journalOf (t: Tap.Test, old: number, young: number): Promise<{ dir: string, segments: string[] }> {
  const c = await startCollector(t, { env: { ...small, JOURNAL_COMPACT: 'off', DELETE_LOGS_OLDER_THAN: '0' } })
  const now = Date.now()
  for (let i = 0; i < old; i += 10) await post(c, eventsFrom(i, 10, now - 60 * DAY))
  for (let i = old; i < old + young; i += 10) await post(c, eventsFrom(i, 10, now - 3_600_000 - old * 1000))
  await c.stop()
  return { dir: c.logDir, segments: forms(c.logDir).plain }
}

t.test('retention racing compaction over the same old segments: none comes back, none counted twice, no compaction error', async t => {
  for (const by of ['DELETE_LOGS_OLDER_THAN', 'RETENTION_RULES']) {
    const { dir, segments } = await journalOf(t, 1200, 300)
    // The segments to go: by their last write (set back 31 days), or by their events' age under the rules
    // (every event 60 days old; the default rule keeps 30).
    const doomed: string[] = []
    const gone = new Set<number>()
    for (const name of segments) {
      const held = await seqsOf(dir, name)
      if (held.every(s => s < 1200)) {
        doomed.push(name)
        for (const s of held) gone.add(s)
        if (by === 'DELETE_LOGS_OLDER_THAN') age(dir, name, 31)
      }
    }
    t.ok(doomed.length >= 40, `${by}: ${doomed.length} segments to delete`)
    const settings = by === 'DELETE_LOGS_OLDER_THAN'
      ? { DELETE_LOGS_OLDER_THAN: '30' }
      : { RETENTION_RULES: 'app=audit:400d', LOG_RETENTION_DAYS: '30', DELETE_LOGS_OLDER_THAN: '0' }
    const c = await startCollector(t, { logDir: dir, env: { ...small, ...settings, JOURNAL_COMPACT: 'on' } })
    const kept = segments.filter(n => !doomed.includes(n))
    await poll(async () => filesOf(dir, doomed).length === 0 && forms(dir).packed.length === kept.length && !(await compaction(c)).running, 25,
      { what: `${by}: retention to delete the doomed segments and compaction the others`, ms: IDLE_MS })
    await passes(c, 2)
    t.same(filesOf(dir, doomed), [], `${by}: no deleted segment is left or came back, in any form`)
    t.same(forms(dir).packed, kept, `${by}: the others are compacted`)
    const s = await compaction(c)
    t.equal(s.errors, 0, `${by}: no compaction failed (last error: ${s.last_error ?? 'none'})`)
    if (by === 'RETENTION_RULES') {
      const removed = ((await retention(c)).rules ?? []).reduce((n, r) => n + r.removed, 0)
      t.equal(removed, gone.size, `${by}: each removed event counted once`)
    }
    // Under the rules no read answers an expired event, deleted or not; by the age of files, what was not deleted stays readable.
    await readsAnswer(t, c, eventsFrom(0, 1500).map(e => e.seq as number).filter(s => by === 'RETENTION_RULES' ? s >= 1200 : !gone.has(s)), by)
    await c.stop()
  }
})

t.test('WORKER_COUNT=2: each worker\'s retention removes its compacted segments, and every worker reads only what is kept', async t => {
  const c = await startCollector(t, { env: { ...small, WORKER_COUNT: '2', JOURNAL_COMPACT: 'on', DELETE_LOGS_OLDER_THAN: '30' } })
  const dirs = ['worker-1', 'worker-2'].map(w => join(c.logDir, w))
  // Events until each worker has compacted four segments of its own (connections are dealt to the workers
  // unevenly at first). The newest segment of each is the one being written.
  let sent = 0
  for (; sent < 600; sent += 10) await post(c, eventsFrom(sent, 10))
  await poll(async () => {
    if (dirs.every(d => existsSync(d) && forms(d).packed.length >= 4)) return true
    if (dirs.some(d => !existsSync(d) || forms(d).packed.length + forms(d).plain.length < 5)) {
      await post(c, eventsFrom(sent, 10))
      sent += 10
    }
    return false
  }, 50, { what: 'each worker to compact four segments', ms: IDLE_MS })
  const gone = new Set<number>()
  const old: Array<{ dir: string, names: string[] }> = []
  for (const dir of dirs) {
    const names = forms(dir).packed.slice(0, 2)
    for (const name of names) for (const s of await seqsOf(dir, name)) gone.add(s)
    age(dir, names, 31) // compacted: each .z has its last write for good
    old.push({ dir, names })
  }
  await poll(() => old.every(o => filesOf(o.dir, o.names).length === 0), 25, { what: 'each worker to delete its aged segments', ms: 60_000 })
  t.pass('each worker deleted its old compacted segments')
  const kept = eventsFrom(0, sent).map(e => e.seq as number).filter(s => !gone.has(s))
  // Connections spread over the workers: each answer must be the same, whichever worker gave it.
  for (let i = 0; i < 4; i++) t.equal(onceEach(await exportAll(c), kept), undefined, `answer ${i}: every kept event once, no deleted one`)
})
