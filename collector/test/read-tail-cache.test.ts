// The tail hub's chunk cache (read/tail.ts) on its own: a chunk is kept until every other client of its
// filter has taken it, and no longer; it is bounded by bytes as well as by count and by age (CHUNK_TTL_MS),
// the newest chunks stay served from memory, an older one is read again, and what a failed or empty read
// leaves is neither kept nor counted.
import t from 'tap'
import { JournalSet } from '../src/read/sources'
import { CACHED_BYTES, CHUNK_TTL_MS, TailHub } from '../src/read/tail'

const own = { dir: '/nonexistent', segments: () => [], end: () => ({ segment: '', offset: 0 }), confirmed: () => undefined }
const hub = new TailHub(new JournalSet(own, 1, false), { maxClients: 5, heartbeatMs: 60_000, siblingPollMs: 20 })
t.teardown(() => hub.close())

const MB = 1024 * 1024
/** Sharers enough that no chunk is taken by all of them in these tests: only the bounds drop it. */
const MANY = 1000
const reads: string[] = []
const chunkOf = (key: string, bytes: number) => async () => {
  reads.push(key)
  return { frames: Buffer.alloc(bytes), next: 0, events: 1 }
}

t.test('the cache keeps the newest chunks up to CACHED_BYTES', async t => {
  const n = CACHED_BYTES / MB * 2
  for (let i = 0; i < n; i++) await hub.chunk(`k${i}`, MANY, chunkOf(`k${i}`, MB))
  t.equal(hub.cachedBytes, CACHED_BYTES, 'a chunk in, the oldest out, past the bound')
  reads.length = 0
  await hub.chunk(`k${n - 1}`, MANY, chunkOf(`k${n - 1}`, MB))
  t.same(reads, [], 'the newest is served from memory')
  await hub.chunk('k0', MANY, chunkOf('k0', MB))
  t.same(reads, ['k0'], 'the oldest was dropped: read again')
  t.equal(hub.cachedBytes, CACHED_BYTES)
})

t.test('a chunk larger than the bound is kept alone', async t => {
  await hub.chunk('big', MANY, chunkOf('big', CACHED_BYTES + MB))
  t.equal(hub.cachedBytes, CACHED_BYTES + MB)
  await hub.chunk('small', MANY, chunkOf('small', MB))
  t.equal(hub.cachedBytes, MB, 'the big one goes first')
})

t.test('failed and empty reads are not kept or counted', async t => {
  const before = hub.cachedBytes
  await hub.chunk('empty', MANY, async () => undefined)
  await t.rejects(hub.chunk('failed', MANY, async () => { throw new Error('EIO') }))
  t.equal(hub.cachedBytes, before)
  reads.length = 0
  await hub.chunk('empty', MANY, chunkOf('empty', MB))
  await hub.chunk('failed', MANY, chunkOf('failed', MB))
  t.same(reads, ['empty', 'failed'], 'the next client reads again')
})

t.test('a chunk is dropped once every other client of its filter has taken it', async t => {
  const before = hub.cachedBytes
  reads.length = 0
  const first = await hub.chunk('shared', 2, chunkOf('shared', MB))
  t.equal(hub.cachedBytes, before + MB, 'kept for the two others')
  t.equal(await hub.chunk('shared', 2, chunkOf('shared', MB)), first, 'the second client gets the same chunk')
  t.equal(hub.cachedBytes, before + MB, 'still kept for the third')
  t.equal(await hub.chunk('shared', 2, chunkOf('shared', MB)), first, 'and the third')
  t.same(reads, ['shared'], 'read once for the three')
  t.equal(hub.cachedBytes, before, 'then dropped: no client is left to ask for it')
  await hub.chunk('shared', 2, chunkOf('shared', MB))
  t.same(reads, ['shared', 'shared'], 'a fourth ask reads again')
  reads.length = 0
  await hub.chunk('alone', 0, chunkOf('alone', MB))
  await hub.chunk('alone', 0, chunkOf('alone', MB))
  t.same(reads, ['alone', 'alone'], 'a client without sharers keeps nothing')
  t.equal(hub.cachedBytes, before + MB, 'only the fourth "shared" read, kept for its two sharers')
})

t.test('clients that ask while a shared chunk is read wait for that read', async t => {
  reads.length = 0
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const slow = async () => { reads.push('slow'); await gate; return { frames: Buffer.alloc(MB), next: 0, events: 1 } }
  const before = hub.cachedBytes
  const asks = [hub.chunk('slow', 2, slow), hub.chunk('slow', 2, slow), hub.chunk('slow', 2, slow)]
  release()
  const got = await Promise.all(asks)
  t.same(reads, ['slow'], 'one read')
  t.ok(got.every(c => c === got[0]), 'one chunk for all three')
  t.equal(hub.cachedBytes, before, 'taken by all: nothing kept')
})

t.test('a chunk no other client takes is dropped CHUNK_TTL_MS after it was read', async t => {
  let now = 0
  const aged = new TailHub(new JournalSet(own, 1, false), { maxClients: 5, heartbeatMs: 60_000, siblingPollMs: 20, now: () => now })
  t.teardown(() => aged.close())
  const read: string[] = []
  const chunk = (key: string) => async () => { read.push(key); return { frames: Buffer.alloc(MB), next: 0, events: 1 } }
  // Sharers that never ask: clients of the same filter standing elsewhere in some journal.
  await aged.chunk('a', 2, chunk('a'))
  now = CHUNK_TTL_MS / 2
  await aged.chunk('b', 2, chunk('b'))
  t.equal(aged.cachedBytes, 2 * MB, 'both kept within their time')
  now = CHUNK_TTL_MS
  await aged.chunk('c', 2, chunk('c'))
  t.equal(aged.cachedBytes, 2 * MB, '"a" dropped when a newer chunk came in its time\'s end')
  await aged.chunk('b', 2, chunk('b'))
  t.same(read, ['a', 'b', 'c'], '"b" still served from memory')
  now = 10 * CHUNK_TTL_MS
  await aged.chunk('d', 2, chunk('d'))
  t.equal(aged.cachedBytes, MB, 'all the old ones dropped at once')
  await aged.chunk('a', 2, chunk('a'))
  t.same(read, ['a', 'b', 'c', 'd', 'a'], 'a chunk dropped is read again')
})
