// The buffers that searches and counts read journal blocks into, shared by every query of a process:
//
//   BlockReader ──take()──► a free buffer, else a new one ──► blocks read into it, one after another
//        └── the query ends (its reader is disposed) ──give()──► back on the free list (at most `keep`)
//   BlockIndex.extend (indexing what a segment gained) takes one for its reads the same way
//
// A block buffer is 2 MiB. Fresh ones for every query (two per query, a query a second under a
// dashboard) were memory the allocator kept and RSS grew by (issue #24); a few kept here are reused
// instead, and what the admission lets run at once (QUERY_CONCURRENCY, two buffers each) is what is
// usually lent. A buffer is either free here or held by one reader: never lent twice, and given back
// only once its reads are done (journal-search.ts's BlockReader waits for a read ahead to settle).
export class BufferPool {
  private readonly free: Buffer[] = []
  /** Buffers lent and not given back yet. */
  lent = 0
  /** Buffers allocated since start: past the first few, a sign `keep` is too small for the load. */
  created = 0

  constructor (readonly bytes: number, readonly keep: number) {}

  take (): Buffer {
    this.lent++
    const buf = this.free.pop()
    if (buf !== undefined) return buf
    this.created++
    // Slow: its own memory, not a slice of Node's shared pool, so giving it back frees all of it.
    return Buffer.allocUnsafeSlow(this.bytes)
  }

  /** `buf` is no longer used by whoever took it. */
  give (buf: Buffer): void {
    if (buf.length !== this.bytes || this.free.includes(buf)) throw new Error('BufferPool.give: a buffer this pool did not lend, or one given back twice')
    this.lent--
    if (this.free.length < this.keep) this.free.push(buf)
  }

  get idle (): number {
    return this.free.length
  }
}

/**
 * The process's block buffers: room for a block of any size the index cuts (twice block-index.ts's
 * BLOCK_BYTES, which that module cannot be imported for here: it takes its reading buffer from this
 * pool), and four kept, the two each of QUERY_CONCURRENCY's default two queries.
 */
export const blockBuffers = new BufferPool(2 * 1024 * 1024, 4)
