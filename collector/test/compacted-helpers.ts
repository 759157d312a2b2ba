// What the compacted-segment tests with real collector processes share: numbered events, ingest, the three
// ways to read everything back (search pages through `next`, the NDJSON export, a tail from an id), and
// /status.journal.compaction. Every read answers the events' `seq`s, so "each exactly once" is a comparison.
// A collector's journal directory is looked at only once compaction is idle (closedWhenIdle, ageWhenIdle):
// a segment mid-compaction is in both forms for a moment, and its NDJSON's last write is copied to the `.z`.
// Also what the damaged-block tests over files share (damagedBlockReads).
import { readdirSync, utimesSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { open } from 'node:fs/promises'
import { catSegment, readFooter, type SegmentFile } from '../src/journal/segment-file'
import type { Footer, FooterBlock } from '../src/journal/compacted/format'
import { collectorStatus, freshRequest, poll, type RunningCollector } from '../../test/support'

const DAY = 86_400_000
const BASE = Date.parse('2026-03-01T00:00:00.000Z')
const APPS = ['api', 'web', 'billing']
const LEVELS = ['debug', 'info', 'warn', 'error']
/** A loaded CI machine may be slow to answer an export of thousands of events. */
const READ_TIMEOUT_MS = 120_000
/** How long compaction may take to finish with every closed segment before a test gives up (it runs every 2 s). */
export const IDLE_MS = 120_000

/** Events `from` … `from + n - 1`; a later seq has a later timestamp, so newest first is seq descending. */
export function eventsFrom (from: number, n: number, at = BASE): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => {
    const seq = from + k
    return {
      seq,
      app_name: APPS[seq % 3],
      level: LEVELS[seq % 4],
      timestamp: new Date(at + seq * 1000).toISOString(),
      message: `request ${seq} served`,
      ctx: { n: seq, tag: `t${seq % 7}` }
    }
  })
}

export async function post (c: RunningCollector, events: Array<Record<string, unknown>>): Promise<void> {
  const res = await freshRequest(c, 'POST', '/logs', { body: events.map(e => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
  if (res.status !== 200) throw new Error(`ingest: ${res.status} ${res.text}`)
}

/** `from` … `to - 1`. */
export const seqs = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k)

/** Every page of `GET /logs?limit=…`, newest first, following `next` to the end: the seqs in the order given. */
export async function searchAll (c: RunningCollector, limit: number): Promise<number[]> {
  const got: number[] = []
  for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
    const res = await freshRequest(c, 'GET', `/logs?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { timeoutMs: READ_TIMEOUT_MS })
    if (res.status !== 200) throw new Error(`search: ${res.status} ${res.text}`)
    const page = JSON.parse(res.text) as { events: Array<{ seq: number }>, next: string | null }
    for (const e of page.events) got.push(e.seq)
    cursor = page.next
  }
  return got
}

/** The NDJSON export of everything: the seqs in the order given. */
export async function exportAll (c: RunningCollector): Promise<number[]> {
  const res = await freshRequest(c, 'GET', '/logs', { headers: { accept: 'application/x-ndjson' }, timeoutMs: READ_TIMEOUT_MS })
  if (res.status !== 200) throw new Error(`export: ${res.status} ${res.text}`)
  const text = res.text.trim()
  return text === '' ? [] : text.split('\n').map(l => (JSON.parse(l) as { seq: number }).seq)
}

export interface Tailed { id: string, seq: number }

/**
 * A tail (from `lastEventId`, if given) until `n` events came: their SSE ids and seqs, pushed into `got` as
 * they come (what a tail of a process that is killed received is there).
 */
export async function tail (c: RunningCollector, n: number, lastEventId?: string, got: Tailed[] = []): Promise<Tailed[]> {
  return await new Promise((resolve, reject) => {
    let buffer = ''
    const req = request(`${c.url}/logs/tail`, { headers: { accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) } }, res => {
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (block.includes('event: ready')) continue
          const id = /^id: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (id !== undefined && data !== undefined) got.push({ id, seq: (JSON.parse(data) as { seq: number }).seq })
        }
        if (got.length >= n) {
          req.destroy()
          resolve(got)
        }
      })
      // A collector that is killed ends the stream: 'close' without the events asked for.
      res.on('close', () => { if (got.length < n) reject(new Error(`the tail ended after ${got.length} of ${n} events`)) })
    })
    req.on('error', err => { if (got.length < n) reject(err) })
    req.end()
  })
}

export interface Compaction { segments: number, running: boolean, errors: number, last_error: string | null, recovered: { partial: number, finished: number, corrupt: number } }

export const compaction = async (c: RunningCollector): Promise<Compaction> =>
  ((await collectorStatus(c)) as { journal: { compaction: Compaction } }).journal.compaction

/** /status.journal.segments: the segments the collector lists, the one being written included. */
export const listedSegments = async (c: RunningCollector): Promise<number> =>
  ((await collectorStatus(c)) as { journal: { segments: number } }).journal.segments

/** A journal directory's segment files by form (logical names). */
export function forms (dir: string): { plain: string[], packed: string[], tmp: string[], damaged: string[] } {
  const files = readdirSync(dir)
  return {
    plain: files.filter(f => f.endsWith('.ndjson')).sort(),
    packed: files.filter(f => f.endsWith('.ndjson.z')).map(f => f.slice(0, -2)).sort(),
    tmp: files.filter(f => f.endsWith('.z.tmp')),
    damaged: files.filter(f => f.endsWith('.z.damaged'))
  }
}

/** Each value of `got` exactly once, and nothing else: the first difference, or undefined. */
export function onceEach (got: readonly number[], want: readonly number[]): string | undefined {
  const count = new Map<number, number>()
  for (const s of got) count.set(s, (count.get(s) ?? 0) + 1)
  const twice = [...count].filter(([, n]) => n > 1).map(([s]) => s)
  const wanted = new Set(want)
  const missing = want.filter(s => !count.has(s))
  const extra = got.filter(s => !wanted.has(s))
  if (twice.length + missing.length + extra.length === 0) return undefined
  return `twice: [${twice.slice(0, 10).join(',')}] (${twice.length}), missing: [${missing.slice(0, 10).join(',')}] (${missing.length}), not wanted: [${extra.slice(0, 10).join(',')}] (${extra.length})`
}

/** The seqs segment `name` holds, read in whichever form it is. */
export async function seqsOf (dir: string, name: string): Promise<number[]> {
  let text = ''
  await catSegment(dir, name, new Writable({ write (chunk: Buffer, _enc, done) { text += chunk.toString(); done() } }))
  return text.split('\n').filter(l => l !== '').map(l => (JSON.parse(l) as { seq: number }).seq)
}

/**
 * The closed segments of a single-process collector's journal (logical names, oldest first, each once) from
 * ONE listing, taken once compaction (when on) is idle: not running, and no closed segment left as NDJSON.
 */
export async function closedWhenIdle (c: RunningCollector): Promise<string[]> {
  let last: Compaction | null = null
  return await poll(async () => {
    const { journal } = (await collectorStatus(c)) as { journal: { segment: string, compaction: Compaction | null } }
    last = journal.compaction
    const f = forms(c.logDir)
    if (last !== null && (last.running || f.plain.some(n => n !== journal.segment) || f.tmp.length > 0)) return undefined
    const names = new Set([...f.plain, ...f.packed])
    names.delete(journal.segment)
    return [...names].sort()
  }, 25, { ms: IDLE_MS, get what () { return `compaction to finish with every closed segment (last error: ${last?.last_error ?? 'none'})` } })
}

/** Sets the last write of closed segments `names` to `days` ago, once compaction is idle (see closedWhenIdle). */
export async function ageWhenIdle (c: RunningCollector, names: readonly string[], days: number): Promise<void> {
  await closedWhenIdle(c)
  age(c.logDir, names, days)
}

/**
 * Sets the last write of segments `names` (each form they are in) to `days` ago. For a journal no compaction
 * is changing, or segments already compacted: a `.z` has its final last write once it has its name, and its
 * NDJSON, if still listed, may be gone by the time it is reached (the compactor deleting it).
 */
export function age (dir: string, names: string | readonly string[], days: number): void {
  const then = new Date(Date.now() - days * DAY)
  const f = forms(dir)
  for (const name of typeof names === 'string' ? [names] : names) {
    const packed = f.packed.includes(name)
    if (!packed && !f.plain.includes(name)) throw new Error(`age: no segment ${name} in ${dir}`)
    if (packed) utimesSync(join(dir, name + '.z'), then, then)
    try {
      if (f.plain.includes(name)) utimesSync(join(dir, name), then, then)
    } catch (err) {
      if (!packed || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
}

interface Asserts {
  equal: (found: unknown, wanted: unknown, message?: string) => unknown
  same: (found: unknown, wanted: unknown, message?: string) => unknown
  ok: (value: unknown, message?: string) => unknown
}

/**
 * A damaged block (`blocks[k]`) of open segment `f` reads as blank lines of its original length, and the
 * block after it reads its original bytes (`original`: the segment's NDJSON).
 */
export async function damagedBlockReads (t: Asserts, f: SegmentFile, blocks: readonly FooterBlock[], k: number, original: Buffer): Promise<void> {
  const victim = blocks[k]!
  const into = Buffer.alloc(victim.end - victim.start)
  t.equal(await f.read(into, 0, into.length, victim.start), into.length)
  t.same(into, Buffer.alloc(into.length, 10), 'its lines: blank, of their original length')
  const next = blocks[k + 1]!
  const good = Buffer.alloc(next.end - next.start)
  await f.read(good, 0, good.length, next.start)
  t.ok(good.equals(original.subarray(next.start, next.end)), 'the next block reads')
}

/** The footer of compacted file `path`, read afresh (not from the reader's cache). */
export async function footerOf (path: string): Promise<Footer> {
  const fh = await open(path, 'r')
  try {
    return structuredClone(await readFooter(fh, path))
  } finally {
    await fh.close()
  }
}
