// The tail hub's chunk cache (read/tail.ts) on its own: it is bounded by bytes as well as by count, the
// newest chunks stay served from memory, an older one is read again, and what a failed or empty read
// leaves is neither kept nor counted.
import t from 'tap'
import { JournalSet } from '../src/read/sources'
import { CACHED_BYTES, TailHub } from '../src/read/tail'

const own = { dir: '/nonexistent', segments: () => [], end: () => ({ segment: '', offset: 0 }), confirmed: () => undefined }
const hub = new TailHub(new JournalSet(own, 1, false), { maxClients: 5, heartbeatMs: 60_000, siblingPollMs: 20 })
t.teardown(() => hub.close())

const MB = 1024 * 1024
const reads: string[] = []
const chunkOf = (key: string, bytes: number) => async () => {
  reads.push(key)
  return { frames: Buffer.alloc(bytes), next: 0, events: 1 }
}

t.test('the cache keeps the newest chunks up to CACHED_BYTES', async t => {
  const n = CACHED_BYTES / MB * 2
  for (let i = 0; i < n; i++) await hub.chunk(`k${i}`, chunkOf(`k${i}`, MB))
  t.equal(hub.cachedBytes, CACHED_BYTES, 'a chunk in, the oldest out, past the bound')
  reads.length = 0
  await hub.chunk(`k${n - 1}`, chunkOf(`k${n - 1}`, MB))
  t.same(reads, [], 'the newest is served from memory')
  await hub.chunk('k0', chunkOf('k0', MB))
  t.same(reads, ['k0'], 'the oldest was dropped: read again')
  t.equal(hub.cachedBytes, CACHED_BYTES)
})

t.test('a chunk larger than the bound is kept alone', async t => {
  await hub.chunk('big', chunkOf('big', CACHED_BYTES + MB))
  t.equal(hub.cachedBytes, CACHED_BYTES + MB)
  await hub.chunk('small', chunkOf('small', MB))
  t.equal(hub.cachedBytes, MB, 'the big one goes first')
})

t.test('failed and empty reads are not kept or counted', async t => {
  const before = hub.cachedBytes
  await hub.chunk('empty', async () => undefined)
  await t.rejects(hub.chunk('failed', async () => { throw new Error('EIO') }))
  t.equal(hub.cachedBytes, before)
  reads.length = 0
  await hub.chunk('empty', chunkOf('empty', MB))
  await hub.chunk('failed', chunkOf('failed', MB))
  t.same(reads, ['empty', 'failed'], 'the next client reads again')
})
