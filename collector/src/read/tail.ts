// GET /logs/tail: every acknowledged event that matches, as Server-Sent Events, resumable without loss.
//
//   journal commit ─► hub.notify() ─► each client reads on from its own position ─► frames ─► socket
//                                       (journal files, ≤ TAIL_CHUNK_BYTES a read,   (tail-frames.ts)
//                                        into a buffer lent by the hub's pool)
//
// A client is a reader of the journal with a position of its own, never a queue fed by ingest: a slow or
// stalled client only falls behind on disk (one chunk in flight at most, then it waits for 'drain'), so
// it can neither slow ingest nor grow memory. Clients at the same place with the same filter share one
// read and one encoding (the chunk cache), so twenty tails of the same stream cost about one; a chunk is
// dropped as soon as every other client with its filter has taken it, so tails that keep up hold none.
import { openSegment } from '../journal/segment-file'
import type { JournalPosition } from '../journal/writer'
import { BufferPool } from './block-buffers'
import { LineMatcher } from './line-matcher'
import type { ReadQuery } from './query'
import type { JournalSet, JournalSource } from './sources'
import { FrameWriter } from './tail-frames'
import { decodePosition, encodePosition, positionPart, type TailPosition } from './tail-position'

export const TAIL_CHUNK_BYTES = 256 * 1024
/** Longest wait between a commit and the tails' wake-up: well inside what a person notices. */
const TAIL_COALESCE_MS = 5
/** Chunks kept for clients a little behind the first (oldest dropped first)... */
const CACHED_CHUNKS = 256
/**
 * ...and at most this many bytes of them: under load a chunk is a whole TAIL_CHUNK_BYTES read (~300 KB
 * of frames), and 256 of those were ~75 MB held per process, filling slowly as queries made the chunks
 * larger (issue #24, bench:read-load). A client further behind than this reads its own chunks from disk.
 * A chunk every client of its filter has taken is dropped at once (before that rule, tails that kept up
 * held a full 16 MiB per worker, one commit's frames a chunk, each kept ~4 s: garbage for the old
 * generation's collector, and RSS, at 4 MB/s per worker).
 */
export const CACHED_BYTES = 16 * 1024 * 1024
/**
 * ...and none older than this. A chunk's key holds the client's place in every journal (its frames' ids
 * do), so a chunk read for one client is taken by another only when both stand at the same place in all
 * of them; one whose other clients have moved on elsewhere would wait for them until the bounds above
 * pushed it out. Under bench:read-load (5 tails over two workers) such chunks filled the cache by ~2 MB a
 * minute per worker, towards 16 MiB each. Clients that keep up take a chunk within a wake-up or two.
 */
export const CHUNK_TTL_MS = 1000
const NL = 10
/**
 * Read buffers kept between reads: tails with one filter read each journal once per wake-up whatever their
 * number (the chunk cache), so a few serve every client; more at once are allocated and dropped after.
 */
const READ_BUFFERS_KEPT = 4
/** How often an open tail lists the workers' journals again: a worker that starts later is tailed too. */
const SOURCES_REFRESH_MS = 500
/**
 * How old a listing of a sibling's journal may be for tails at the end of its newest segment: at most one
 * listing per sibling this often, however many tails and wake-ups (about the sibling poll's interval).
 */
const RELIST_MS = 20

export interface TailSink {
  /** Writes; false when the client's buffer is full (then wait for drained()). */
  write: (data: Buffer | string) => boolean
  drained: () => Promise<void>
  /** Resolves when the client went away. */
  closed: Promise<void>
  /** Bytes written but not yet taken by the client. */
  buffered: () => number
  /** Ends the response (the collector is shutting down). */
  end: () => void
}

export interface TailHubOptions {
  maxClients: number
  heartbeatMs: number
  /** How often other workers' journals are looked at while tails are open. */
  siblingPollMs: number
  /** The clock chunks are aged by (tests); Date.now by default. */
  now?: () => number
}

interface Chunk {
  frames: Buffer
  /** Offset after the last whole line read. */
  next: number
  events: number
}

interface CachedChunk {
  chunk: Promise<Chunk | undefined>
  /** The frames' bytes, once read (0 while reading). */
  bytes: number
  /** Other clients that may still ask for it: when the last has, it is dropped. */
  waiting: number
  /** When it was read (the hub's clock): dropped CHUNK_TTL_MS later, taken or not. */
  readAt: number
}

export class TailsFullError extends Error {}

export class TailHub {
  private readonly clients = new Set<TailClient>()
  private waiters: Array<() => void> = []
  private notifyScheduled = false
  private poll: NodeJS.Timeout | undefined
  /** The chunks read last, by reader state (filter, journal, position): identical readers share them. */
  private readonly cache = new Map<string, CachedChunk>()
  private cachedTotal = 0
  /** Open clients by filter: how many may ask for a chunk one of them read. */
  private readonly clientsByFilter = new Map<string, number>()
  /** What chunks are read into, lent for one read at a time: not a fresh TAIL_CHUNK_BYTES buffer per read. */
  readonly readBuffers = new BufferPool(TAIL_CHUNK_BYTES, READ_BUFFERS_KEPT)
  /** Where every chunk's frames are written (synchronously, one chunk at a time). */
  readonly frameWriter = new FrameWriter()
  delivered = 0

  constructor (readonly journals: JournalSet, private readonly opts: TailHubOptions) {}

  get size (): number {
    return this.clients.size
  }

  get maxClients (): number {
    return this.opts.maxClients
  }

  /**
   * The journal has more: wake every waiting client, at most once per TAIL_COALESCE_MS however many
   * commits came meanwhile, so that under load tails read and write fewer, larger chunks.
   */
  notify (): void {
    if (this.notifyScheduled) return
    this.notifyScheduled = true
    setTimeout(() => {
      this.notifyScheduled = false
      const waiters = this.waiters
      this.waiters = []
      for (const w of waiters) w()
    }, TAIL_COALESCE_MS).unref()
  }

  changed (): Promise<void> {
    return new Promise(resolve => this.waiters.push(resolve))
  }

  /** Starts a tail; rejects with TailsFullError past MAX_TAIL_CLIENTS, or a bad Last-Event-ID. */
  async open (q: ReadQuery, lastEventId: string | undefined, sink: TailSink): Promise<void> {
    if (this.clients.size >= this.opts.maxClients) throw new TailsFullError()
    const client = new TailClient(this, q, sink)
    this.clients.add(client) // before any await: concurrent opens cannot pass the cap together
    this.clientsByFilter.set(client.filterKey, (this.clientsByFilter.get(client.filterKey) ?? 0) + 1)
    const resume = lastEventId === undefined ? undefined : decodePosition(lastEventId)
    const sources = await this.journals.sources()
    // With WORKER_COUNT > 1 the siblings are polled even when none is listed yet: a tail opened before the
    // other workers have written (their directories do not exist yet) must still pick them up.
    if (this.journals.readsSiblings && this.poll === undefined) {
      this.poll = setInterval(() => this.notify(), this.opts.siblingPollMs).unref()
    }
    void client.run(sources, resume, this.opts.heartbeatMs).finally(() => {
      this.clients.delete(client)
      const left = this.clientsByFilter.get(client.filterKey)! - 1
      if (left === 0) this.clientsByFilter.delete(client.filterKey)
      else this.clientsByFilter.set(client.filterKey, left)
      if (this.clients.size === 0 && this.poll !== undefined) {
        clearInterval(this.poll)
        this.poll = undefined
      }
    })
  }

  /** Bytes the collector holds for tail clients that have not read them yet: one chunk each at most. */
  get bufferedBytes (): number {
    let sum = 0
    for (const c of this.clients) sum += c.buffered
    return sum
  }

  /** Clients with this filter other than the one asking: those that may want the chunk it reads. */
  sharers (filterKey: string): number {
    return (this.clientsByFilter.get(filterKey) ?? 1) - 1
  }

  /**
   * The chunk at a reader state: read once, even by clients that ask while it is being read. `sharers`
   * other clients may ask for it too; it is kept until they all have (or the bounds push it out).
   */
  chunk (key: string, sharers: number, read: () => Promise<Chunk | undefined>): Promise<Chunk | undefined> {
    const cached = this.cache.get(key)
    if (cached !== undefined) {
      if (--cached.waiting <= 0) this.forget(key)
      return cached.chunk
    }
    const reading = read()
    if (sharers <= 0) return reading
    const entry: CachedChunk = { chunk: reading, bytes: 0, waiting: sharers, readAt: this.now() }
    this.remember(key, entry)
    // A failed or empty read is not kept: the next client tries again. One dropped meanwhile is not counted.
    reading.then(c => {
      if (this.cache.get(key) !== entry) return
      if (c === undefined) {
        this.forget(key)
        return
      }
      entry.bytes = c.frames.length
      this.cachedTotal += entry.bytes
      while (this.cachedTotal > CACHED_BYTES && this.cache.size > 1) this.forget(this.cache.keys().next().value!)
    }, () => { if (this.cache.get(key) === entry) this.forget(key) })
    return reading
  }

  /** The bytes at a position never change, so a chunk read there serves every later client there too. */
  private remember (key: string, entry: CachedChunk): void {
    // The map keeps insertion order, so the chunks past their time are at its start.
    for (const [old, e] of this.cache) {
      if (entry.readAt - e.readAt < CHUNK_TTL_MS) break
      this.forget(old)
    }
    if (this.cache.size >= CACHED_CHUNKS) this.forget(this.cache.keys().next().value!)
    this.cache.set(key, entry)
  }

  private now (): number {
    return this.opts.now?.() ?? Date.now()
  }

  private forget (key: string): void {
    this.cachedTotal -= this.cache.get(key)?.bytes ?? 0
    this.cache.delete(key)
  }

  /** Bytes of frames the chunk cache holds (at most CACHED_BYTES, or one chunk when that alone is more). */
  get cachedBytes (): number {
    return this.cachedTotal
  }

  /** Ends every tail (shutdown). */
  close (): void {
    for (const c of this.clients) c.stop()
    for (const w of this.waiters) w()
    this.waiters = []
  }
}

/** The end of the journal now, for a tail that starts there. */
async function endOf (source: JournalSource): Promise<JournalPosition | undefined> {
  const segments = await source.segments()
  const last = segments.at(-1)
  return last === undefined ? undefined : { segment: last, offset: await source.readableEnd(last) }
}

class TailClient {
  private stopped = false
  private readonly matcher: LineMatcher
  readonly filterKey: string
  /** Ends the wait in progress (see until), if any. */
  private wake: (() => void) | undefined

  constructor (private readonly hub: TailHub, q: ReadQuery, private readonly sink: TailSink) {
    this.matcher = new LineMatcher(q, undefined, false, hub.journals.expiry)
    this.filterKey = JSON.stringify([q.apps, q.levels, q.text, q.fields, q.from, q.to])
    void sink.closed.then(() => this.stop())
  }

  stop (): void {
    this.stopped = true
    this.wake?.()
  }

  /**
   * Resolves when `event` settles or the client goes (or went), whichever is first. Not Promise.race with
   * a promise that lives as long as the client: each race leaves a reaction on it that only its settling
   * frees, and a tail waits hundreds of times a second (issue #24: a heap snapshot of bench:read-load
   * showed ~28,000 such reactions, promises and closures more a minute per worker, ~5 MB of old generation).
   */
  private async until (event: Promise<void>): Promise<void> {
    if (this.stopped) return
    await new Promise<void>(resolve => {
      this.wake = resolve
      event.then(resolve, resolve)
    })
    this.wake = undefined
  }

  get buffered (): number {
    return this.sink.buffered()
  }

  async run (listed: JournalSource[], resume: TailPosition | undefined, heartbeatMs: number): Promise<void> {
    let sources = listed
    let listedAt = Date.now()
    // Every journal the id names keeps its place, also one not listed yet (a sibling whose directory this
    // process has not seen so far): when it is, the tail goes on from there, not from its start.
    const pos: TailPosition = new Map(resume ?? [])
    for (const s of sources) {
      if (pos.has(s.key)) continue
      const at = await endOf(s)
      if (at !== undefined) pos.set(s.key, at)
    }
    const heartbeat = setInterval(() => { if (!this.stopped) this.sink.write(': keep-alive\n\n') }, heartbeatMs).unref()
    try {
      this.sink.write(`retry: 1000\nevent: ready\nid: ${encodePosition(pos)}\ndata: {}\n\n`)
      while (!this.stopped) {
        const woken = this.hub.changed()
        if (this.hub.journals.readsSiblings && Date.now() - listedAt >= SOURCES_REFRESH_MS) {
          // A journal listed now and not before is read from where the id left it, else from its start (step):
          // then all of it came after the tail opened.
          sources = await this.hub.journals.sources()
          listedAt = Date.now()
        }
        let moved = false
        for (const source of sources) {
          if (this.stopped) break
          if (await this.step(source, pos)) moved = true
        }
        if (!moved) await this.until(woken)
      }
    } finally {
      clearInterval(heartbeat)
      this.sink.end()
    }
  }

  /** Reads on in one journal; whether the position moved. */
  private async step (source: JournalSource, pos: TailPosition): Promise<boolean> {
    // Inside a segment the last listing holds, a tail reads on without listing the journal again (for a
    // sibling's journal, a directory listing, which every tail asked for at every wake-up): it asks for a
    // new one only at the end of the newest segment it knows, or when its segment has gone (retention).
    const known = pos.get(source.key)
    let fresh: readonly string[] | undefined
    if (known !== undefined) {
      const listed = source.listed()
      const i = listed.indexOf(known.segment)
      if (i !== -1) {
        const end = await source.readableEnd(known.segment)
        if (known.offset < end) {
          if (await this.readOn(source, pos, known, end)) return true
        } else if (end > 0 && i + 1 < listed.length) {
          pos.set(source.key, { segment: listed[i + 1]!, offset: 0 })
          return true
        } else if (end > 0) {
          // All of the newest segment known is read: nothing more, unless a newer one has appeared since.
          // Every tail asks at every wake-up (a commit, a sibling poll), so a listing up to
          // RELIST_MS old answers: a sibling's new segment is seen that much later at most.
          fresh = await source.segmentsWithin(RELIST_MS)
          if (fresh.at(-1) === known.segment) return false
        }
      }
    }
    let at = pos.get(source.key)
    const segments = fresh ?? await source.segments()
    if (segments.length === 0) return false
    if (at === undefined) {
      // A journal that had no segment when the tail started (a worker that came up later): from its start.
      at = { segment: segments[0]!, offset: 0 }
      pos.set(source.key, at)
    }
    if (!segments.includes(at.segment)) {
      const later = segments.find(s => s > at!.segment)
      if (later === undefined) return false
      if (at.segment < segments[0]!) this.sink.write(`: events before ${segments[0]} were deleted by retention\n\n`)
      pos.set(source.key, { segment: later, offset: 0 })
      return true
    }
    const end = await source.readableEnd(at.segment)
    if (at.offset >= end) {
      const i = segments.indexOf(at.segment)
      const next = segments[i + 1]
      if (next === undefined) return false
      pos.set(source.key, { segment: next, offset: 0 })
      return true
    }
    return await this.readOn(source, pos, at, end)
  }

  /** Reads the next chunk of `at`'s segment (up to `end`) and sends it; whether the position moved. */
  private async readOn (source: JournalSource, pos: TailPosition, at: JournalPosition, end: number): Promise<boolean> {
    const [before, after] = this.idAround(source.key, pos)
    const key = `${this.filterKey}|${source.key}|${at.segment}|${at.offset}|${before}|${after}`
    const chunk = await this.hub.chunk(key, this.hub.sharers(this.filterKey), async () => await this.read(source, at, end, before, after))
    if (chunk === undefined) return false
    pos.set(source.key, { segment: at.segment, offset: chunk.next })
    if (chunk.frames.length > 0) {
      this.hub.delivered += chunk.events
      if (!this.sink.write(chunk.frames)) await this.until(this.sink.drained())
    }
    return true
  }

  /** The parts of the SSE id that stand for the other journals (they do not move while this one is read). */
  private idAround (key: string, pos: TailPosition): [string, string] {
    // Every journal with a place, listed or not yet: an id that dropped one would send a reconnecting
    // client back to that journal's start.
    const parts = [...pos.keys()]
    const i = parts.indexOf(key)
    const render = (keys: string[]): string => keys.map(k => positionPart(k, pos.get(k)!)).join('_')
    const before = render(parts.slice(0, i))
    const after = render(parts.slice(i + 1))
    return [before === '' ? '' : before + '_', after === '' ? '' : '_' + after]
  }

  private async read (source: JournalSource, at: JournalPosition, end: number, before: string, after: string): Promise<Chunk | undefined> {
    let fh
    try {
      fh = await openSegment(source.index.dir, at.segment)
    } catch {
      return undefined
    }
    const pooled = this.hub.readBuffers.take()
    try {
      let buf = pooled
      let lastNl = -1
      try {
        // At least one whole line: a line longer than a chunk is read again into a larger buffer of its own.
        for (let want = Math.min(TAIL_CHUNK_BYTES, end - at.offset); ; want = Math.min(want * 2, end - at.offset)) {
          if (want > buf.length) buf = Buffer.allocUnsafe(want)
          const bytesRead = await fh.read(buf, 0, want, at.offset)
          lastNl = bytesRead === 0 ? -1 : buf.lastIndexOf(NL, bytesRead - 1)
          if (lastNl !== -1 || want >= end - at.offset || bytesRead < want) break
        }
      } finally {
        await fh.close()
      }
      if (lastNl === -1) return undefined
      const whole = lastNl + 1
      const core = at.segment.slice(5, -7)
      const idHead = `id: ${before}${source.key === '' ? '' : source.key + '~'}${core}.`
      const { frames, events } = this.hub.frameWriter.frames(this.matcher, buf, whole, at.offset, idHead, after)
      return { frames, next: at.offset + whole, events }
    } finally {
      // The frames are a copy: the read buffer is free again once they are written.
      this.hub.readBuffers.give(pooled)
    }
  }
}
