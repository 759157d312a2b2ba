// The journals a collector process reads from. One process: its own journal. With WORKER_COUNT > 1 each
// worker journals in LOG_DIR/worker-<i>, so a worker also reads its siblings' directories (read-only) to
// see every event the service acknowledged. Its own journal is read up to the writer's committed end; a
// sibling's up to its last whole line (a sibling writes a group before acknowledging it, so a search may
// see an event a moment before its sender gets the ack).
import { readdir } from 'node:fs/promises'
import type { Collection, Document } from 'mongodb'
import { basename, dirname, join } from 'node:path'
import { Checkpoint } from '../journal/checkpoint'
import { listSegments, type JournalPosition } from '../journal/writer'
import { ClosedSizes } from '../journal/closed-sizes'
import { WORKER_DIR } from '../journal/worker-dirs'
import { BlockIndex } from './block-index'
import type { ExpiryFilter } from './expiry'
import { FreshRun } from './fresh-run'

/** Where an answer came from. */
export type ReadSource = 'mongodb' | 'journal'

export interface MongoReadSide {
  collection: Collection<Document>
  /** Whether the drain last reached MongoDB: when not, searches go to the journal at once. */
  connected: () => boolean
}

export interface JournalSource {
  /** Names this journal in tail positions: '' for a single process, the worker id otherwise. */
  readonly key: string
  readonly index: BlockIndex
  /** Segment names, oldest first. */
  segments: () => Promise<readonly string[]>
  /**
   * The names `segments()` last gave (a sibling's: its last directory listing), without listing again:
   * what a tail reading on inside a segment it already knows needs.
   */
  listed: () => readonly string[]
  /**
   * The names as of a listing that started at most `maxAgeMs` ago: the last one if it is that recent, else
   * a new one (what tails at the end of a sibling's newest segment ask for at every wake-up).
   */
  segmentsWithin: (maxAgeMs: number) => Promise<readonly string[]>
  /** The end up to which `segment` may be read (0 for one that is gone). */
  readableEnd: (segment: string) => Promise<number>
  /** How far MongoDB has confirmed this journal (undefined: nothing confirmed, or no MongoDB). */
  confirmed: () => Promise<JournalPosition | undefined>
  /**
   * The segment still being written, as of the last `segments()` (always NDJSON: the scan threads are not
   * asked to pick from it); undefined when unknown.
   */
  writing?: () => string | undefined
}

export interface OwnJournal {
  dir: string
  segments: () => readonly string[]
  end: () => JournalPosition
  confirmed: () => JournalPosition | undefined
}

function ownSource (key: string, own: OwnJournal): JournalSource {
  const index = new BlockIndex(own.dir)
  const sizes = new ClosedSizes(own.dir)
  return {
    key,
    index,
    segments: async () => {
      const names = own.segments()
      index.retain(names)
      sizes.retain(names)
      return names
    },
    listed: () => own.segments(),
    segmentsWithin: async () => own.segments(),
    readableEnd: async segment => {
      const end = own.end()
      return segment === end.segment ? end.offset : await sizes.of(segment, true)
    },
    confirmed: async () => own.confirmed(),
    writing: () => own.end().segment
  }
}

function siblingSource (key: string, dir: string, mongo: boolean, failed: () => void): JournalSource {
  const index = new BlockIndex(dir)
  const checkpoint = new Checkpoint(dir)
  const sizes = new ClosedSizes(dir)
  // Tails at the end of the sibling's newest segment ask for a listing at every wake-up (one up to 20 ms old
  // answers them, tail.ts), searches for every read: callers at once share one listing (fresh-run.ts).
  const listing = new FreshRun(async () => await listSegments(dir))
  let names: readonly string[] = []
  /** When the listing `names` holds was asked for (it started then or later). */
  let askedAt = -Infinity
  const segments = async (): Promise<readonly string[]> => {
    const asked = Date.now()
    try {
      names = await listing.get()
    } catch {
      // A search answers with what it can read; a count alert must know that it could not (failures).
      names = []
      failed()
    }
    askedAt = asked
    index.retain(names)
    sizes.retain(names)
    return names
  }
  return {
    key,
    index,
    segments,
    listed: () => names,
    segmentsWithin: async maxAgeMs => Date.now() - askedAt <= maxAgeMs ? names : await segments(),
    // Only whole lines are ever read, so a group being written is not half-read.
    readableEnd: async segment => await sizes.of(segment, segment !== names.at(-1)),
    confirmed: async () => mongo ? await checkpoint.load().catch(() => undefined) : undefined,
    writing: () => names.at(-1)
  }
}

/**
 * Every journal this process should read: its own, and with `workerId` set (a WORKER_COUNT worker, whose
 * LOG_DIR is <base>/worker-<id>) every other worker directory under <base>, found again on each call so a
 * worker added later is seen too.
 */
export class JournalSet {
  private readonly own: JournalSource
  private readonly siblings = new Map<string, JournalSource>()
  /** The workers' directory, listed for every read: shared by reads that ask at once (fresh-run.ts). */
  private readonly workerDirs: FreshRun<string[]>
  /** Listings that failed (the workers' directory, or a sibling's journal): a count read across one is incomplete. */
  failures = 0

  /** `expiry`: RETENTION_RULES, which every journal read applies (undefined: no rules, nothing is filtered). */
  constructor (private readonly ownJournal: OwnJournal, private readonly workerId: number | undefined, private readonly mongo: boolean,
    readonly expiry?: ExpiryFilter) {
    this.own = ownSource(workerId === undefined ? '' : String(workerId), ownJournal)
    this.workerDirs = new FreshRun(async () => await readdir(dirname(ownJournal.dir)))
  }

  /** Whether other workers' journals are read too (WORKER_COUNT > 1): their number can grow after a read starts. */
  get readsSiblings (): boolean {
    return this.workerId !== undefined
  }

  async sources (): Promise<JournalSource[]> {
    if (this.workerId === undefined) return [this.own]
    const base = dirname(this.ownJournal.dir)
    const ownName = basename(this.ownJournal.dir)
    let names: string[] = []
    try {
      names = await this.workerDirs.get()
    } catch {
      this.failures++
    }
    for (const name of names) {
      const m = WORKER_DIR.exec(name)
      if (m === null || name === ownName || this.siblings.has(m[1]!)) continue
      this.siblings.set(m[1]!, siblingSource(m[1]!, join(base, name), this.mongo, () => { this.failures++ }))
    }
    return [this.own, ...[...this.siblings.values()].sort((a, b) => Number(a.key) - Number(b.key))]
  }
}
