// Retention of the collector's own journal segments: naming, the age rule, confirmation by MongoDB, embedded
// mode, and that nothing else in LOG_DIR is ever touched. Real files in a temp dir; `now` is injected.
import t from 'tap'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanupSegments, type CleanupOptions } from '../src/retention/file-cleanup'

/** Every case here expects each due segment to be deletable. */
const cleanup = async (opts: Omit<CleanupOptions, 'onError'>): Promise<string[]> =>
  await cleanupSegments({ ...opts, onError: (name, err) => { throw new Error(`could not delete ${name}: ${err.message}`) } })
import { SEGMENT_NAME, parseSegmentName, segmentName } from '../src/journal/segment-name'

type Teardown = { teardown: (fn: () => unknown) => void }

const DAY = 86_400_000
const NOW = new Date('2026-11-27T08:00:00.000Z')
const daysAgo = (d: number): Date => new Date(NOW.getTime() - d * DAY)

async function tempDir (t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'maap-cleanup-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Writes a file and sets its mtime (its last write). */
async function put (dir: string, name: string, lastWrite: Date, body = '{"message":"x"}\n'): Promise<void> {
  await writeFile(join(dir, name), body)
  await utimes(join(dir, name), lastWrite, lastWrite)
}

async function listing (dir: string): Promise<string[]> {
  return (await readdir(dir)).sort()
}

t.test('segment names', async t => {
  const opened = new Date('2026-03-04T05:06:07.890Z')
  const name = segmentName(opened, 42)
  t.equal(name, 'maap-20260304T050607Z-000042.ndjson')
  t.match(name, SEGMENT_NAME)
  t.same(parseSegmentName(name), { openedAt: new Date('2026-03-04T05:06:07.000Z'), seq: 42 })
  t.equal(segmentName(new Date('0099-12-31T23:59:59Z'), 0), 'maap-00991231T235959Z-000000.ndjson', 'years before 100 keep four digits')
  t.same(parseSegmentName('maap-00991231T235959Z-000000.ndjson')?.openedAt, new Date('0099-12-31T23:59:59Z'))
  t.equal(segmentName(opened, 1_000_007), 'maap-20260304T050607Z-000007.ndjson', 'sequence wraps at six digits')

  // Names sort by opening time, then sequence.
  const names = [
    segmentName(new Date('2026-01-02T00:00:00Z'), 1),
    segmentName(new Date('2025-12-31T23:59:59Z'), 900000),
    segmentName(new Date('2026-01-02T00:00:00Z'), 2),
    segmentName(new Date('2026-01-01T10:00:00Z'), 3)
  ]
  t.same([...names].sort().map(n => parseSegmentName(n)!.openedAt.toISOString() + '/' + parseSegmentName(n)!.seq), [
    '2025-12-31T23:59:59.000Z/900000', '2026-01-01T10:00:00.000Z/3', '2026-01-02T00:00:00.000Z/1', '2026-01-02T00:00:00.000Z/2'
  ])

  for (const other of [
    'app.log', 'maap-checkpoint.json', 'maap-20260304T050607Z-000042.ndjson.tmp', 'xmaap-20260304T050607Z-000042.ndjson',
    'maap-20260304T050607Z-42.ndjson', 'maap-20260304T050607-000042.ndjson', 'maap-20261304T050607Z-000042.ndjson',
    'maap-20260230T050607Z-000042.ndjson', 'maap-20260304T246007Z-000042.ndjson', 'maap-20260304T050660Z-000042.ndjson',
    'maap-20260304T050607Z-000042.ndjson\n'
  ]) {
    t.equal(parseSegmentName(other), undefined, `not a segment: ${JSON.stringify(other)}`)
  }
  t.throws(() => segmentName(new Date(Number.NaN), 1), RangeError)
  t.throws(() => segmentName(opened, -1), RangeError)
  t.throws(() => segmentName(opened, 1.5), RangeError)
  t.throws(() => segmentName(new Date('+010000-01-01T00:00:00Z'), 1), RangeError)
})

// A journal as the writer leaves it: each segment written until just before the next one was opened.
// s3 was opened 35 days ago but written until 20 days ago, when s4 was opened: it is only 20 days old.
interface Journal { dir: string, s: string[], foreign: string[] }
async function journal (t: Teardown): Promise<Journal> {
  const dir = await tempDir(t)
  const opened = [daysAgo(60), daysAgo(45), daysAgo(35), daysAgo(20), daysAgo(1)]
  const s = opened.map((d, i) => segmentName(d, i + 1))
  for (let i = 0; i < s.length; i++) {
    const lastWrite = i + 1 < s.length ? new Date(opened[i + 1]!.getTime() - 60_000) : NOW
    await put(dir, s[i]!, lastWrite)
  }
  // Other files in LOG_DIR, all very old: never touched.
  const ancient = daysAgo(400)
  await put(dir, 'app.log', ancient)
  await put(dir, 'maap-checkpoint.json', ancient, '{"segment":"x","offset":0}')
  await put(dir, `${segmentName(daysAgo(300), 7)}.tmp`, ancient)
  await put(dir, 'maap-20251301T000000Z-000001.ndjson', ancient) // not a real date
  await mkdir(join(dir, 'old-dir'))
  await mkdir(join(dir, segmentName(daysAgo(399), 8))) // a directory that looks like a segment
  await utimes(join(dir, 'old-dir'), ancient, ancient)
  await utimes(join(dir, segmentName(daysAgo(399), 8)), ancient, ancient)
  const foreign = ['app.log', 'maap-checkpoint.json', `${segmentName(daysAgo(300), 7)}.tmp`,
    'maap-20251301T000000Z-000001.ndjson', 'old-dir', segmentName(daysAgo(399), 8)]
  return { dir, s, foreign }
}

t.test('MongoDB configured: deletes only old segments confirmed in MongoDB', async t => {
  const { dir, s, foreign } = await journal(t)
  const base = { dir, olderThanDays: 30, mongoConfigured: true, current: s[4]!, now: NOW }

  t.same(await cleanup({ ...base, confirmedBefore: undefined }), [], 'nothing confirmed yet: nothing deleted')
  t.same(await listing(dir), [...s, ...foreign].sort())

  t.same(await cleanup({ ...base, confirmedBefore: s[1] }), [s[0]], 'only segments strictly before the confirmed one')
  t.same(await listing(dir), [...s.slice(1), ...foreign].sort())

  // Everything confirmed up to the current segment: s2 (written until 35 days ago) goes; s3 was opened 35 days
  // ago but written until 20 days ago, so it stays, like s4 and the current one.
  t.same(await cleanup({ ...base, confirmedBefore: s[4] }), [s[1]])
  t.same(await listing(dir), [...s.slice(2), ...foreign].sort(), 'foreign files, s3, s4 and the current segment are kept')

  // Later, s3 has aged past 30 days since its last write.
  t.same(await cleanup({ ...base, confirmedBefore: s[4], now: new Date(NOW.getTime() + 11 * DAY) }), [s[2]])
  t.same(await cleanup({ ...base, confirmedBefore: s[4], now: new Date(NOW.getTime() + 1000 * DAY) }), [s[3]],
    'the current segment is never deleted, however old')
  t.same(await listing(dir), [s[4], ...foreign].sort())
})

t.test('embedded mode (no MongoDB): age alone decides', async t => {
  const { dir, s, foreign } = await journal(t)
  const deleted = await cleanup({ dir, olderThanDays: 30, mongoConfigured: false, current: s[4]!, now: NOW })
  t.same(deleted, [s[0], s[1]])
  t.same(await listing(dir), [...s.slice(2), ...foreign].sort())

  // s2 was last written a minute before s3 was opened, 20 days ago: older than 20 days by that minute.
  const aMinuteEarlier = new Date(NOW.getTime() - 61_000)
  t.same(await cleanup({ dir, olderThanDays: 20, mongoConfigured: false, current: s[4]!, now: aMinuteEarlier }), [], 'not older than 20 days a minute earlier')
  t.same(await cleanup({ dir, olderThanDays: 20, mongoConfigured: false, current: s[4]!, now: NOW }), [s[2]])

  t.same(await cleanup({ dir, olderThanDays: 19.5, mongoConfigured: false, current: s[4]!, now: NOW }), [],
    'fractional days; s4 was opened 20 days ago but written until a day ago — only its last write counts')
  t.same(await listing(dir), [s[3], s[4], ...foreign].sort())
})

t.test('olderThanDays 0 never deletes', async t => {
  const { dir, s, foreign } = await journal(t)
  t.same(await cleanup({ dir, olderThanDays: 0, mongoConfigured: false, current: s[4]!, now: NOW }), [])
  t.same(await cleanup({ dir, olderThanDays: 0, mongoConfigured: true, confirmedBefore: s[4], current: s[4]!, now: NOW }), [])
  t.same(await listing(dir), [...s, ...foreign].sort())
})

t.test('the age of a segment is measured from its last write', async t => {
  // The newest segment has no successor: its mtime is its last write.
  const dir = await tempDir(t)
  const oldIdle = segmentName(daysAgo(90), 1) // opened 90 days ago, last written 40 days ago
  const oldBusy = segmentName(daysAgo(80), 2) // opened 80 days ago, written until 2 days ago (collector stopped)
  await put(dir, oldIdle, daysAgo(40))
  await put(dir, oldBusy, daysAgo(2))
  const current = segmentName(NOW, 3) // not created yet
  t.same(await cleanup({ dir, olderThanDays: 30, mongoConfigured: false, current, now: NOW }), [oldIdle],
    'a segment whose successor was opened long ago goes; the newest, written 2 days ago, stays')
  t.same(await listing(dir), [oldBusy])
  const later = (days: number): Date => new Date(NOW.getTime() + days * DAY)
  t.same(await cleanup({ dir, olderThanDays: 30, mongoConfigured: false, current, now: later(27.9) }), [],
    'opened 108 days ago, but last written 29.9 days ago')
  t.same(await listing(dir), [oldBusy])
  t.same(await cleanup({ dir, olderThanDays: 30, mongoConfigured: false, current, now: later(28.1) }), [oldBusy])
  t.same(await listing(dir), [])
})

t.test('a segment written after its successor was opened (mtime later) is kept until its mtime is old enough', async t => {
  const dir = await tempDir(t)
  const a = segmentName(daysAgo(90), 1)
  const b = segmentName(daysAgo(60), 2)
  const current = segmentName(daysAgo(1), 3)
  await put(dir, a, daysAgo(10)) // e.g. restored from a backup: its successor says 60 days, its mtime 10
  await put(dir, b, daysAgo(1))
  await put(dir, current, NOW)
  t.same(await cleanup({ dir, olderThanDays: 30, mongoConfigured: false, current, now: NOW }), [],
    'a: its successor was opened 60 days ago, but it was written 10 days ago')
  t.same(await listing(dir), [a, b, current].sort())
  t.same(await cleanup({ dir, olderThanDays: 30, mongoConfigured: false, current, now: new Date(NOW.getTime() + 21 * DAY) }), [a])
})

t.test('the current segment is never deleted, even when it is the only, ancient, confirmed one', async t => {
  const dir = await tempDir(t)
  const only = segmentName(daysAgo(100), 1)
  await put(dir, only, daysAgo(100))
  t.same(await cleanup({ dir, olderThanDays: 1, mongoConfigured: false, current: only, now: NOW }), [])
  t.same(await cleanup({ dir, olderThanDays: 1, mongoConfigured: true, confirmedBefore: segmentName(NOW, 9), current: only, now: NOW }), [])
  t.same(await listing(dir), [only])
})

t.test('a missing LOG_DIR is not an error', async t => {
  const dir = join(await tempDir(t), 'does-not-exist')
  t.same(await cleanup({ dir, olderThanDays: 1, mongoConfigured: false, current: segmentName(NOW, 1), now: NOW }), [])
})

t.test('defaults now to the current time', async t => {
  const dir = await tempDir(t)
  const old = segmentName(new Date(Date.now() - 10 * DAY), 1)
  const current = segmentName(new Date(Date.now() - 5 * DAY), 2)
  await put(dir, old, new Date(Date.now() - 6 * DAY))
  await put(dir, current, new Date())
  t.same(await cleanup({ dir, olderThanDays: 3, mongoConfigured: false, current }), [old])
})
