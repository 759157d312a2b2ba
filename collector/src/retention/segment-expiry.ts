// When every event of a journal segment has expired under RETENTION_RULES, for the embedded store (no
// MongoDB): the segment is deleted then, and not before (file-cleanup.ts).
//
//   segment file ─► 1 MiB reads ─► each line: timestamp + rule (head level, app_name) ─► max(timestamp + age)
//                                                                                   └► events per rule
//
// A segment that mixes kept and expired events stays until its last event expires; reads skip its expired
// ones meanwhile (read/expiry.ts). A closed segment never changes, so its answer is kept (SegmentExpiries)
// and a segment is read once, however many passes look at it.
import { basename, dirname } from 'node:path'
import { openSegment } from '../journal/segment-file'
import { hasHead, LEVEL_START, TS_LENGTH, TS_START } from '../journal/line-head'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { appOf } from '../read/expiry'
import { DAY_MS, type RetentionPolicy } from './policy'

const READ_BYTES = 1024 * 1024
const NL = 10
const LEVEL_BY_FIRST_BYTE = new Map<number, string>(CANONICAL_LEVELS.map(l => [l.charCodeAt(0), l]))

export interface SegmentExpiry {
  /** Epoch ms after which every event in it has expired; Infinity when one is kept forever. */
  expiresAt: number
  /** Events by rule index (RetentionPolicy.labels order): what deleting the segment removes. */
  events: number[]
}

function lineExpiry (policy: RetentionPolicy, buf: Buffer, start: number, end: number, into: SegmentExpiry): void {
  let ts: number
  let rule: number
  if (hasHead(buf, start, end)) {
    ts = Date.parse(buf.toString('latin1', start + TS_START, start + TS_START + TS_LENGTH))
    const app = policy.needsApp ? appOf(buf, start, end) : undefined
    rule = policy.ruleOf(app, LEVEL_BY_FIRST_BYTE.get(buf[start + LEVEL_START]!))
  } else {
    let e: Record<string, unknown>
    try {
      e = JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>
    } catch {
      return // not an event (the collector writes none such): it holds nothing back
    }
    ts = typeof e.timestamp === 'string' ? Date.parse(e.timestamp) : NaN
    rule = policy.ruleOf(typeof e.app_name === 'string' ? e.app_name : undefined, typeof e.level === 'string' ? e.level : undefined)
  }
  into.events[rule]!++
  const days = policy.days[rule]!
  // Forever, or a timestamp that does not read (kept, as reads keep it): never expires.
  const at = days === 0 || Number.isNaN(ts) ? Infinity : ts + days * DAY_MS
  if (at > into.expiresAt) into.expiresAt = at
}

/**
 * Reads the segment at `path` (its logical name, in either form) once: when all of it has expired, and how
 * many events each rule holds there.
 */
export async function segmentExpiry (path: string, policy: RetentionPolicy): Promise<SegmentExpiry> {
  const result: SegmentExpiry = { expiresAt: -Infinity, events: policy.labels.map(() => 0) }
  const fh = await openSegment(dirname(path), basename(path))
  try {
    let buf = Buffer.allocUnsafe(READ_BYTES)
    let held = 0 // bytes of a line carried over from the previous read
    let position = 0
    for (;;) {
      if (held === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2) // one line longer than a read
        buf.copy(bigger, 0, 0, held)
        buf = bigger
      }
      const bytesRead = await fh.read(buf, held, buf.length - held, position)
      position += bytesRead
      const length = held + bytesRead
      let start = 0
      for (let nl = buf.indexOf(NL, 0); nl !== -1 && nl < length; nl = buf.indexOf(NL, start)) {
        if (nl > start) lineExpiry(policy, buf, start, nl, result)
        start = nl + 1
      }
      if (bytesRead === 0) {
        if (length > start) lineExpiry(policy, buf, start, length, result) // a last line without its newline
        break
      }
      buf.copy(buf, 0, start, length)
      held = length - start
    }
  } finally {
    await fh.close()
  }
  return result
}

/** Each closed segment's expiry, read once (a segment is keyed by name, size and mtime: a changed file is read again). */
export class SegmentExpiries {
  private readonly known = new Map<string, { key: string, expiry: SegmentExpiry }>()

  constructor (private readonly policy: RetentionPolicy) {}

  async of (name: string, path: string, size: number, mtimeMs: number): Promise<SegmentExpiry> {
    const key = `${size}:${mtimeMs}`
    const hit = this.known.get(name)
    if (hit !== undefined && hit.key === key) return hit.expiry
    const expiry = await segmentExpiry(path, this.policy)
    this.known.set(name, { key, expiry })
    return expiry
  }

  /** What the segment held by rule, and forgets it (it was deleted). */
  take (name: string): number[] | undefined {
    const hit = this.known.get(name)
    this.known.delete(name)
    return hit?.expiry.events
  }
}
