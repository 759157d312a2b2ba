// read/block-buffers.ts and the BlockReader that takes from it: buffers are reused across queries, the
// pool keeps only a few, a buffer is never lent to two readers at once (not even while a read ahead is
// still filling it), and a query that ends however it ends (answered, returned early, stopped by its
// budget) gives its buffers back. Real files, real reads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { BLOCK_BYTES, BlockIndex } from '../src/read/block-index'
import { BufferPool, blockBuffers } from '../src/read/block-buffers'
import { QueryBudget, QueryStoppedError } from '../src/read/budget'
import { BlockReader, journalEvents, type Candidate } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import type { JournalSource } from '../src/read/sources'
import { poll } from '../../test/support/poll'

const dir = mkdtempSync(join(tmpdir(), 'maap-block-buffers-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const SEGMENT = 'maap-20261201T100000Z-000001.ndjson'
// ~3.5 MiB of journal lines, newest last: the index cuts it into several blocks.
const lines: string[] = []
for (let i = 0; i < 14_000; i++) {
  const ts = new Date(Date.UTC(2026, 11, 1, 10, 0, 0) + i).toISOString()
  lines.push(JSON.stringify({ timestamp: ts, level: 'INFO', app_name: 'api', message: `event ${i} ${'x'.repeat(200)}`, _id: i.toString(16).padStart(24, '0'), received_at: ts }))
}
const bytes = Buffer.from(lines.join('\n') + '\n')
writeFileSync(join(dir, SEGMENT), bytes)

function source (): JournalSource {
  return {
    key: '',
    index: new BlockIndex(dir),
    segments: async () => [SEGMENT],
    listed: () => [SEGMENT],
    segmentsWithin: async () => [SEGMENT],
    readableEnd: async () => bytes.length,
    confirmed: async () => undefined
  }
}

async function blocksOf (s: JournalSource): Promise<Candidate[]> {
  return (await s.index.blocks(SEGMENT, bytes.length)).map(block => ({ source: s, block, minOffset: 0 }))
}

/**
 * A BlockReader's read function over `blocks` that copies each block's bytes, except that the read of
 * `heldBlock` waits until `release()`: a read ahead that is certainly still filling its buffer. `events`
 * records each read's start and end by block index.
 */
function heldReads (blocks: Candidate[], heldBlock: number): {
  readInto: (c: Candidate, into: Buffer) => Promise<{ buf: Buffer, length: number }>, release: () => void, events: string[]
} {
  const events: string[] = []
  let release!: () => void
  const held = new Promise<void>(resolve => { release = resolve })
  const readInto = async (c: Candidate, into: Buffer): Promise<{ buf: Buffer, length: number }> => {
    const i = blocks.indexOf(c)
    events.push(`start ${i}`)
    if (i === heldBlock) await held
    const { start, end } = c.block
    bytes.copy(into, 0, start, end)
    events.push(`end ${i}`)
    return { buf: into, length: end - start }
  }
  return { readInto, release, events }
}

t.test('the pool lends a buffer to one taker at a time, reuses what comes back, keeps a few', async t => {
  const pool = new BufferPool(1024, 2)
  const a = pool.take()
  const b = pool.take()
  t.not(a, b, 'two takers, two buffers')
  t.match(pool, { lent: 2, created: 2, idle: 0 })
  pool.give(a)
  t.equal(pool.take(), a, 'a buffer given back is lent again')
  t.equal(pool.created, 2)
  const c = pool.take()
  for (const buf of [a, b, c]) pool.give(buf)
  t.match(pool, { lent: 0, created: 3, idle: 2 }, 'past `keep`, what comes back is left to the garbage collector')
  t.throws(() => pool.give(a), /given back twice/, 'a buffer given back twice would be lent to two')
  t.throws(() => pool.give(Buffer.alloc(10)), /did not lend/)
})

t.test('indexing a segment reads through a pooled buffer, and gives it back', async t => {
  t.equal(blockBuffers.bytes, BLOCK_BYTES * 2, 'room for any block the index cuts')
  const before = { lent: blockBuffers.lent, created: blockBuffers.created }
  const blocks = await blocksOf(source())
  t.ok(blocks.length >= 3)
  t.equal(blockBuffers.lent, before.lent, 'given back once the segment is indexed')
  await blocksOf(source())
  t.ok(blockBuffers.created <= before.created + 1, 'a second index reuses it')
})

t.test('a reader reads the right bytes, in two buffers used in turn, and gives them back', async t => {
  const pool = new BufferPool(blockBuffers.bytes, 4)
  const blocks = await blocksOf(source())
  t.ok(blocks.length >= 3, `${blocks.length} blocks`)
  const seen = new Set<Buffer>()
  {
    using reader = new BlockReader(pool)
    for (let i = 0; i < blocks.length; i++) {
      const { block } = blocks[i]!
      const { buf, length } = await reader.read(blocks[i]!, blocks[i + 1])
      t.equal(length, block.end - block.start)
      t.ok(buf.subarray(0, length).equals(bytes.subarray(block.start, block.end)), `block ${i}'s bytes`)
      seen.add(buf)
    }
    t.equal(seen.size, 2, 'two buffers for every block')
    t.equal(pool.lent, 2)
  }
  t.match(pool, { lent: 0, idle: 2 }, 'disposed: both back')
  {
    using again = new BlockReader(pool)
    const { buf } = await again.read(blocks[0]!, undefined)
    t.ok(seen.has(buf), 'the next query reuses them')
  }
  t.equal(pool.created, 2, 'no buffer allocated for the second query')
})

t.test('a buffer a read ahead is still filling goes back only once that read is done', async t => {
  const pool = new BufferPool(blockBuffers.bytes, 4)
  const blocks = await blocksOf(source())
  // Block 1's read is held until the test lets it go: it is certainly still filling its buffer at dispose.
  const { readInto, release } = heldReads(blocks, 1)
  const reader = new BlockReader(pool, readInto)
  const first = await reader.read(blocks[0]!, blocks[1])
  // The reader leaves with block 1 still being read into its other buffer.
  reader[Symbol.dispose]()
  t.equal(pool.idle, 0, 'neither buffer is free while the read ahead may still write into one')
  const other = pool.take()
  t.not(other, first.buf, 'so another reader gets a buffer of its own')
  pool.give(other)
  release()
  await poll(() => pool.lent === 0)
  t.equal(pool.idle, 3)
})

t.test('a query returned early or stopped by its budget gives its buffers back', async t => {
  const before = blockBuffers.lent
  const q = parseReadQuery({ app_name: 'api' })
  const opts = { snapshot: undefined, unconfirmedOnly: false }
  const early = journalEvents([source()], q, opts)
  t.match((await early.next()).value?.event.message, /^event 13999 /, 'the newest first')
  t.equal(blockBuffers.lent, before + 2, 'reading: two buffers lent')
  await early.return(undefined)
  await poll(() => blockBuffers.lent === before)

  const stopped = journalEvents([source()], q, { ...opts, budget: new QueryBudget(0) })
  let n = 0
  await t.rejects((async () => { for await (const _ of stopped) n++ })(), QueryStoppedError)
  t.ok(n > 0, 'the first block was answered before the budget stopped the scan')
  await poll(() => blockBuffers.lent === before)

  let all = 0
  for await (const _ of journalEvents([source()], q, opts)) all++
  t.equal(all, lines.length, 'answered in full')
  await poll(() => blockBuffers.lent === before)
  t.ok(blockBuffers.created <= 4, `${blockBuffers.created} buffers allocated for three queries`)
})

t.test('a read ahead that is abandoned keeps its buffer until it is done: no later read lands in it meanwhile', async t => {
  // The block read ahead is answered from its columns instead, so the reader is never asked for it; its
  // read goes on writing into the other buffer. The reads after it must not be given that buffer before
  // the abandoned read settles, nor may it go back to the pool before then.
  const pool = new BufferPool(blockBuffers.bytes, 4)
  const blocks = await blocksOf(source())
  t.ok(blocks.length >= 4, `${blocks.length} blocks`)
  const { readInto, release, events } = heldReads(blocks, 1)
  const reader = new BlockReader(pool, readInto)
  const first = await reader.read(blocks[0]!, blocks[1]) // block 1 read ahead…
  t.ok(first.buf.subarray(0, first.length).equals(bytes.subarray(blocks[0]!.block.start, blocks[0]!.block.end)))
  const second = await reader.read(blocks[2]!, undefined) // …and abandoned
  t.ok(second.buf.subarray(0, second.length).equals(bytes.subarray(blocks[2]!.block.start, blocks[2]!.block.end)), 'block 2 read')
  const third = reader.read(blocks[3]!, undefined)
  await new Promise(resolve => setImmediate(resolve))
  t.notOk(events.includes('start 3'), 'block 3 waits: the only free buffer is the one block 1 still writes into')
  release()
  const got = await third
  t.ok(events.indexOf('start 3') > events.indexOf('end 1'), `block 3 read only after block 1's read ended (${events.join(', ')})`)
  t.ok(got.buf.subarray(0, got.length).equals(bytes.subarray(blocks[3]!.block.start, blocks[3]!.block.end)), 'block 3 bytes intact')
  reader[Symbol.dispose]()
  t.equal(pool.lent, 0, 'both back once nothing writes into them')
})

t.test('disposed while an abandoned read ahead still writes: its buffer goes back only once it is done', async t => {
  const pool = new BufferPool(blockBuffers.bytes, 4)
  const blocks = await blocksOf(source())
  const { readInto, release } = heldReads(blocks, 1)
  const reader = new BlockReader(pool, readInto)
  await reader.read(blocks[0]!, blocks[1])
  await reader.read(blocks[2]!, undefined) // block 1 abandoned, still "writing"
  reader[Symbol.dispose]()
  t.equal(pool.lent, 2, 'nothing given back while the abandoned read may still write')
  release()
  await poll(() => pool.lent === 0)
  t.equal(pool.idle, 2)
})
