// `each` alerts: one reader of this process's own journal evaluates every enabled `each` alert over every
// committed line, after the commit (ingest never waits for it).
//
//   journal 'committed' ─► (coalesced) read ≤ CHUNK_BYTES from the lowest alert position
//        ─► per line: head level + app_name bytes pick candidate alerts (no parse) ─► JSON.parse once if any
//        ─► evaluate() per candidate ─► group (each-group.ts) ─► closed: outbox.add(n, position), synced
//   caught up ─► groups whose window the journal's clock (settledThrough) has passed close too
//
// Each alert revision's position lives in the outbox: everything before it is in a notification or matched
// nothing. After a crash the reader starts again from the stored positions; a group that was open is rebuilt
// from its first event, so it becomes the same notification with the same id.
import { openSegmentIfExists, segmentSize } from '../journal/segment-file'
import { hasHead, LEVEL_START } from '../journal/line-head'
import { parseSegmentName } from '../journal/segment-name'
import type { JournalPosition, JournalWriter } from '../journal/writer'
import type { ServiceLogger } from '../logger'
import type { Expr } from '../query/ast'
import { evaluate } from '../query/evaluate'
import { impliedBy } from '../query/implied'
import { parseQuery } from '../query/parse'
import { groupNotification, joinGroup, notificationEvent, startGroup, type Group } from './each-group'
import { LineKeys, screenFor, type Screen } from './line-screen'
import type { AlertDefinition, AlertPosition } from './model'
import type { FileOutbox } from './outbox'

const CHUNK_BYTES = 1024 * 1024
const COALESCE_MS = 10
/** A position with no group open is stored once it moved this far, or this long ago (saves a rescan on restart). */
const PERSIST_BYTES = 8 * 1024 * 1024
const PERSIST_MS = 10_000
/** Recent (end read to, time) marks, at most one per MARK_EVERY_MS: where a revision learned late starts. */
const MARKS = 256
const MARK_EVERY_MS = 100
const RETRY_MS = 1000
/**
 * Ingest first, for a while. Above BUSY_LOOP of event-loop utilisation (net of evaluation) — a burst that
 * saturates the collector — evaluation takes at most BUSY_SHARE of the thread, so alerts fall behind (on
 * disk, not in memory) instead of slowing ingest, and catch up at full speed once it eases. They fall at
 * most MAX_LAG_MS behind this way: past it evaluation takes what it needs, since a load that never eases
 * must not silence alerts.
 */
const BUSY_LOOP = 0.5
const BUSY_SHARE = 0.05
const MAX_LAG_MS = 30_000
const NL = 10
const QUOTE = 34
const APP_NAME = Buffer.from('app_name')

/** What the evaluator needs of the outbox: the Outbox seam plus stored positions. */
export type EvaluatorOutbox = Pick<FileOutbox, 'add' | 'advance' | 'position'>

export interface EachEvaluatorOptions {
  journal: JournalWriter
  /** The journal's directory (config.logDir of this process). */
  dir: string
  /** '' in a single process, `<i>` for cluster worker i (read/sources.ts's keys, as in tail ids). */
  journalKey: string
  /** The journal's identity (journal-id.ts): notification ids made from it differ from any other journal's. */
  journalId: string
  outbox: EvaluatorOutbox
  publicUrl: string
  log: ServiceLogger
  /** The wall clock received_at is stamped with (tests drive it). */
  now?: () => number
  chunkBytes?: number
  /** false: every alert is a candidate for every line (the slow path the prefilter is held to in tests). */
  prefilter?: boolean
}

interface Run {
  def: AlertDefinition
  expr: Expr
  /** The app_names a match must have (the query's top-level ANDs); undefined: any. */
  apps: string[] | undefined
  /** levelCode()s of the levels a match may have; undefined: any. */
  levels: Set<number> | undefined
  /** What the line's bytes must show (line-screen.ts); undefined: nothing known. */
  screen: Screen | undefined
  /** Its place among the runs: candidates are evaluated in this order whichever list offered them. */
  order: number
  activeSince: number
  /** Lines before this are done for this alert. */
  next: JournalPosition
  group: Group | undefined
  stored: JournalPosition | undefined
  storedBytes: number
  storedAt: number
}

interface Mark {
  end: JournalPosition
  at: number
}

export interface EachEvaluatorStats {
  alerts: number
  open_groups: number
  lines: number
  parsed: number
  notifications: number
  evaluation_ms: number
  /** Pauses taken to leave a busy thread to ingest while reading a backlog. */
  yields: number
  /** Segments deleted (by retention) before the alerts had read them to their end. */
  skipped_segments: number
}

export function comparePositions (a: JournalPosition, b: JournalPosition): number {
  if (a.segment !== b.segment) return a.segment < b.segment ? -1 : 1
  return a.offset - b.offset
}

export class EachEvaluator {
  private readonly runs = new Map<string, Run>()
  private pendingDefs: AlertDefinition[] | undefined
  private readonly marks: Mark[] = []
  private readonly now: () => number
  private readonly chunkBytes: number
  private readonly prefilter: boolean
  private pumping: Promise<void> | undefined
  private again = false
  private timer: NodeJS.Timeout | undefined
  private started = false
  private stopped = false
  private bytesRead = 0
  private readonly counts = { lines: 0, parsed: 0, notifications: 0, evaluationMs: 0, yields: 0, skippedSegments: 0 }
  private readonly onCommitted = (): void => this.schedule(COALESCE_MS)
  /** Candidate alerts of the line being looked at (reused: no allocation per line). */
  private readonly candidates: Run[] = []
  private readonly byApp = new Map<string, Run[]>()
  private anyApp: Run[] = []
  private loopMark = performance.eventLoopUtilization()
  /** When the reader last reached the journal's committed end. */
  private caughtUpAt = performance.now()
  private evaluatedAtMark = 0
  /** Time spent awaiting closes (notifications written to the outbox) within chunks, in all. */
  private closingMs = 0
  private pause: NodeJS.Timeout | undefined
  private endPause: () => void = () => {}
  /** Whether some run needs the line's keys (an app it requires, or a screen). */
  private needKeys = false
  /** The keys of the line being screened (read once per line, and only when some run has a screen). */
  private readonly keys = new LineKeys()

  constructor (private readonly opts: EachEvaluatorOptions) {
    this.now = opts.now ?? Date.now
    this.chunkBytes = opts.chunkBytes ?? CHUNK_BYTES
    this.prefilter = opts.prefilter ?? true
  }

  start (): void {
    this.started = true
    this.opts.journal.on('committed', this.onCommitted)
    this.schedule(0)
  }

  /** Swaps the definitions: enabled `each` alerts are evaluated, every other is dropped (an open group with it). */
  setAlerts (defs: readonly AlertDefinition[]): void {
    this.pendingDefs = defs.filter(d => d.enabled && d.condition.type === 'each')
    if (this.started) this.schedule(0)
  }

  /** Reads to the committed end now and resolves when caught up (the service's wake-ups do the same). */
  async drain (): Promise<void> {
    while (this.pumping !== undefined) await this.pumping
    await this.runPump()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.opts.journal.off('committed', this.onCommitted)
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.pause !== undefined) {
      clearTimeout(this.pause)
      this.endPause()
    }
    while (this.pumping !== undefined) await this.pumping
  }

  stats (): EachEvaluatorStats {
    let open = 0
    for (const r of this.runs.values()) if (r.group !== undefined) open++
    return {
      alerts: this.runs.size,
      open_groups: open,
      lines: this.counts.lines,
      parsed: this.counts.parsed,
      notifications: this.counts.notifications,
      evaluation_ms: Math.round(this.counts.evaluationMs),
      yields: this.counts.yields,
      skipped_segments: this.counts.skippedSegments
    }
  }

  /** Wake-ups run only between start() and stop(); drain() reads on demand either way. */
  private schedule (ms: number): void {
    if (this.stopped || !this.started) return
    if (this.pumping !== undefined) {
      this.again = true
      return
    }
    if (this.timer !== undefined) {
      if (ms > 0) return
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.runPump()
    }, ms).unref()
  }

  private async runPump (): Promise<void> {
    if (this.pumping !== undefined) return await this.pumping
    this.again = false
    this.pumping = this.pump().catch(err => {
      // In-memory groups may hold part of a chunk: start again from what the outbox holds.
      this.opts.log.error({ err }, 'alert evaluation failed; retrying from the stored positions')
      for (const run of this.runs.values()) this.restore(run)
      this.schedule(RETRY_MS)
    }).finally(() => {
      this.pumping = undefined
      if (this.again) this.schedule(COALESCE_MS)
      else this.wakeForDeadline()
    })
    await this.pumping
  }

  /** With a group open and no commit coming, the journal's clock alone closes it: wake when it is due. */
  private wakeForDeadline (): void {
    let soonest = Infinity
    for (const r of this.runs.values()) if (r.group !== undefined && r.group.deadline < soonest) soonest = r.group.deadline
    if (soonest !== Infinity) this.schedule(Math.max(COALESCE_MS, Math.min(RETRY_MS, soonest - this.now() + 1)))
  }

  private async applyDefs (): Promise<void> {
    const defs = this.pendingDefs
    if (defs === undefined) return
    this.pendingDefs = undefined
    const keep = new Set<string>()
    for (const def of defs) {
      keep.add(def.id)
      const run = this.runs.get(def.id)
      if (run !== undefined && run.def.revision === def.revision) {
        run.def = def // name, channels, window, sample: taken as they are when a group closes
        continue
      }
      // A new revision (query or condition changed): the old one's open group goes out now, as it stands,
      // so that the events it holds are not lost with it. (A disabled or deleted alert's is dropped.)
      if (run?.group !== undefined) await this.close(run, run.group.end)
      let expr: Expr
      try {
        expr = parseQuery(def.query)
      } catch (err) {
        this.opts.log.warn({ alert: def.id, err }, 'alert query does not parse; the alert is not evaluated')
        continue
      }
      const implied = impliedBy(expr)
      const fresh: Run = {
        def,
        expr,
        apps: implied.apps,
        levels: implied.levels === undefined ? undefined : new Set(implied.levels.map(l => levelCode(Buffer.from(l, 'latin1'), 0, l.length))),
        screen: screenFor(expr, true),
        order: 0,
        activeSince: Date.parse(def.active_since),
        next: { segment: '', offset: 0 },
        group: undefined,
        stored: undefined,
        storedBytes: this.bytesRead,
        storedAt: this.now()
      }
      this.restore(fresh)
      this.runs.set(def.id, fresh)
    }
    for (const id of [...this.runs.keys()]) if (!keep.has(id)) this.runs.delete(id)
    this.indexRuns()
  }

  /** Runs by the app_name they require, and those that require none: a line is offered to its app's and those. */
  private indexRuns (): void {
    this.byApp.clear()
    this.anyApp = []
    this.needKeys = false
    let order = 0
    for (const run of this.runs.values()) {
      run.order = order++
      if (run.apps !== undefined || run.screen !== undefined) this.needKeys = true
      if (run.apps === undefined) {
        this.anyApp.push(run)
        continue
      }
      for (const app of run.apps) {
        let list = this.byApp.get(app)
        if (list === undefined) this.byApp.set(app, list = [])
        list.push(run)
      }
    }
  }

  /** Sets where `run` reads from: its stored position, or where its active_since falls. */
  private restore (run: Run): void {
    run.group = undefined
    const p = this.opts.outbox.position(run.def.id)
    // The outbox is this journal's own (it moves with it, as when worker 1 adopts a single process's journal).
    if (p !== undefined && p.revision === run.def.revision) {
      run.next = { segment: p.point.segment, offset: p.point.offset }
      run.stored = run.next
      return
    }
    run.stored = undefined
    run.next = this.startOf(run)
  }

  /**
   * The latest place before which every event has received_at < active_since: a mark taken before it, or
   * the start of a segment opened (whole seconds) at least a second before it. Starting earlier only costs
   * a scan (events before active_since are skipped by their received_at); starting later would miss some.
   */
  private startOf (run: Run): JournalPosition {
    const since = run.activeSince
    let best: JournalPosition | undefined
    for (let i = this.marks.length - 1; i >= 0; i--) {
      if (this.marks[i]!.at < since) {
        best = this.marks[i]!.end
        break
      }
    }
    const segments = this.opts.journal.segments
    for (let i = segments.length - 1; i >= 0; i--) {
      const opened = parseSegmentName(segments[i]!)?.openedAt.getTime()
      if (opened !== undefined && opened + 1000 <= since) {
        const p = { segment: segments[i]!, offset: 0 }
        if (best === undefined || comparePositions(p, best) > 0) best = p
        break
      }
    }
    if (best === undefined) {
      this.opts.log.info({ alert: run.def.id, active_since: run.def.active_since },
        'alert revision starts before every retained journal mark: evaluating from the oldest segment')
      return { segment: segments[0] ?? '', offset: 0 }
    }
    return best
  }

  private lowest (): JournalPosition | undefined {
    let low: JournalPosition | undefined
    for (const r of this.runs.values()) if (low === undefined || comparePositions(r.next, low) < 0) low = r.next
    return low
  }

  private async pump (): Promise<void> {
    for (;;) {
      if (this.stopped) return
      await this.applyDefs()
      // Taken before the end is: every event committed after it has received_at >= settled.
      const settled = this.opts.journal.settledThrough()
      const end = this.opts.journal.end
      const from = this.lowest()
      const chunk = from === undefined ? undefined : await this.readChunk(from, end)
      if (chunk === undefined) {
        await this.caughtUp(settled, end)
        return
      }
      const started = performance.now()
      const waitedBefore = this.closingMs
      await this.evaluateChunk(chunk)
      // The chunk's own work: not the time its notifications took to be written, during which this thread
      // served whatever else it had (counted as evaluation, a busy thread read as an idle one: no pause).
      const spent = performance.now() - started - (this.closingMs - waitedBefore)
      this.counts.evaluationMs += spent
      await this.yieldToIngest(spent)
    }
  }

  /** After a chunk, while requests keep this thread busy: a pause that leaves evaluation only the idle part. */
  private async yieldToIngest (spent: number): Promise<void> {
    const loop = performance.eventLoopUtilization(this.loopMark)
    const evaluated = this.counts.evaluationMs - this.evaluatedAtMark
    this.loopMark = performance.eventLoopUtilization()
    this.evaluatedAtMark = this.counts.evaluationMs
    const window = loop.active + loop.idle
    const busy = window > 0 ? (loop.active - evaluated) / window : 0
    if (this.stopped || busy < BUSY_LOOP || performance.now() - this.caughtUpAt > MAX_LAG_MS) return
    this.counts.yields++
    await new Promise<void>(resolve => {
      this.endPause = resolve
      this.pause = setTimeout(resolve, spent * (1 / BUSY_SHARE - 1))
    })
    this.pause = undefined
  }

  private async caughtUp (settled: number, end: JournalPosition): Promise<void> {
    this.caughtUpAt = performance.now()
    const at = this.now()
    for (const run of this.runs.values()) {
      if (comparePositions(run.next, end) < 0) run.next = end
      if (run.group !== undefined && settled >= run.group.deadline) await this.close(run, end)
      await this.maybePersist(run, at)
    }
    const last = this.marks.at(-1)
    if (last === undefined || at - last.at >= MARK_EVERY_MS) {
      if (this.marks.length >= MARKS) this.marks.shift()
      this.marks.push({ end, at })
    } else if (comparePositions(end, last.end) > 0) {
      last.end = end
      last.at = at
    }
  }

  /** Stores a position with no group open once it moved far or long enough; with a group open, its first event. */
  private async maybePersist (run: Run, at: number): Promise<void> {
    const point = run.group?.first ?? run.next
    if (run.stored !== undefined && comparePositions(point, run.stored) <= 0) return
    if (run.stored !== undefined && this.bytesRead - run.storedBytes < PERSIST_BYTES && at - run.storedAt < PERSIST_MS) return
    await this.opts.outbox.advance(this.alertPosition(run, point))
    run.stored = point
    run.storedBytes = this.bytesRead
    run.storedAt = at
  }

  private alertPosition (run: Run, p: JournalPosition): AlertPosition {
    return { alert_id: run.def.id, revision: run.def.revision, point: { journal: this.opts.journalKey, segment: p.segment, offset: p.offset } }
  }

  /** Closes `run`'s group: one synced outbox record holds the notification and moves the position to `next`. */
  private async close (run: Run, next: JournalPosition): Promise<void> {
    const n = groupNotification(run.def, { key: this.opts.journalKey, id: this.opts.journalId }, this.opts.publicUrl, run.group!)
    await this.opts.outbox.add(n, this.alertPosition(run, next))
    run.group = undefined
    run.stored = next
    run.storedBytes = this.bytesRead
    run.storedAt = this.now()
    this.counts.notifications++
  }

  /**
   * The next whole lines from `from` up to the committed end, moving on past closed (or deleted) segments;
   * undefined when there is nothing more to read.
   */
  private async readChunk (from: JournalPosition, end: JournalPosition):
  Promise<{ segment: string, base: number, buf: Buffer, length: number } | undefined> {
    let pos = from
    for (;;) {
      const segments = this.opts.journal.segments
      if (!segments.includes(pos.segment)) {
        // Deleted by retention before the alerts read all of it (a collector stopped for longer than
        // DELETE_LOGS_OLDER_THAN): its position moves to the next segment, and that is said and counted.
        const following = segments.find(s => s > pos.segment)
        if (following === undefined) return undefined
        if (pos.segment !== '' && following !== pos.segment) {
          this.counts.skippedSegments++
          this.opts.log.warn({ segment: pos.segment, offset: pos.offset }, 'a journal segment was deleted before the alerts read it to its end; its unread events are not notified')
        }
        pos = { segment: following, offset: 0 }
      }
      const isOpen = pos.segment === end.segment
      const limit = isOpen ? end.offset : await segmentSize(this.opts.dir, pos.segment)
      if (pos.offset < limit) {
        const got = await readLines(this.opts.dir, pos.segment, pos.offset, limit, this.chunkBytes)
        if (got !== undefined) return { segment: pos.segment, base: pos.offset, ...got }
      }
      if (isOpen) return undefined
      // A closed segment read to its last newline: move on (bytes after it were never acknowledged).
      const following = segments.find(s => s > pos.segment)
      if (following === undefined) return undefined
      pos = { segment: following, offset: 0 }
    }
  }

  private async evaluateChunk (chunk: { segment: string, base: number, buf: Buffer, length: number }): Promise<void> {
    const { segment, base, buf, length } = chunk
    const all = [...this.runs.values()]
    // Per run, the chunk offset below which its lines are done (Infinity: the whole chunk is).
    const skip = new Map<Run, number>()
    for (const run of all) skip.set(run, run.next.segment === segment ? run.next.offset - base : run.next.segment > segment ? Infinity : 0)
    const cands = this.candidates
    const keys = this.keys
    for (let start = 0; start < length;) {
      const nl = buf.indexOf(NL, start)
      const end = nl === -1 || nl >= length ? length : nl
      const lineStart = start
      start = end + 1
      if (end === lineStart) continue
      this.counts.lines++
      cands.length = 0
      if (!this.prefilter) {
        for (const run of all) if (lineStart >= skip.get(run)!) cands.push(run)
      } else {
        const level = hasHead(buf, lineStart, end) ? levelCode(buf, lineStart + LEVEL_START, end) : -1
        // One pass over the line's keys gives its top-level app_name and what the screens read; a line with
        // an escaped key is not screened (its key bytes are not its names).
        let screened = false
        let app: string | undefined
        if (this.needKeys) {
          keys.load(buf, lineStart, end)
          screened = !keys.escapedKey
          app = keys.topLevelString(APP_NAME)
        }
        const offer = (runs: readonly Run[]): void => {
          for (const run of runs) {
            if (lineStart < skip.get(run)!) continue
            if (level !== -1 && run.levels !== undefined && !run.levels.has(level)) continue
            if (screened && run.screen !== undefined && !run.screen(keys)) continue
            cands.push(run)
          }
        }
        if (app === undefined) offer(all)
        else {
          offer(this.anyApp)
          const byApp = this.byApp.get(app)
          if (byApp !== undefined && cands.length > 0) {
            offer(byApp)
            // Two lists: back in the runs' order, so closes (and so the outbox) come in the order the slow path has.
            cands.sort((a, b) => a.order - b.order)
          } else if (byApp !== undefined) offer(byApp)
        }
      }
      if (cands.length === 0) continue
      let event: Record<string, unknown>
      try {
        event = JSON.parse(buf.toString('utf8', lineStart, end)) as Record<string, unknown>
      } catch {
        continue // not a journal line (the collector writes none such)
      }
      this.counts.parsed++
      if (typeof event.received_at !== 'string') continue
      const received = Date.parse(event.received_at)
      const at = { segment, offset: base + lineStart }
      const after = { segment, offset: base + start }
      // Copied: close() awaits, and the next line reuses `cands`.
      for (const run of cands.slice()) {
        if (!(received >= run.activeSince) || !evaluate(run.expr, event)) continue
        if (run.group !== undefined && received >= run.group.deadline) {
          const closing = performance.now()
          await this.close(run, at)
          this.closingMs += performance.now() - closing
        }
        if (run.group === undefined) run.group = startGroup(run.def, notificationEvent(event), received, at, after)
        else joinGroup(run.group, run.def.sample, event, after)
      }
    }
    this.bytesRead += length
    const done = { segment, offset: base + length }
    for (const run of this.runs.values()) if (comparePositions(run.next, done) < 0) run.next = done
  }
}

/** A small number standing for a level's name (first letter and length): equal names, equal codes. */
function levelCode (buf: Buffer, at: number, end: number): number {
  let len = 0
  while (at + len < end && buf[at + len] !== QUOTE && len < 32) len++
  return buf[at]! * 32 + len
}

/** Whole lines from `offset`, at most about `chunk` bytes (more when one line is longer); undefined when none end before `limit`. */
async function readLines (dir: string, segment: string, offset: number, limit: number, chunk: number): Promise<{ buf: Buffer, length: number } | undefined> {
  const fh = await openSegmentIfExists(dir, segment)
  if (fh === undefined) return undefined
  try {
    let want = Math.min(chunk, limit - offset)
    for (;;) {
      const buf = Buffer.allocUnsafe(want)
      const bytesRead = await fh.read(buf, 0, want, offset)
      const last = buf.lastIndexOf(NL, bytesRead - 1)
      if (last !== -1 && bytesRead > 0) return { buf, length: last + 1 }
      if (bytesRead < want || offset + want >= limit) return undefined
      want = Math.min(want * 2, limit - offset)
    }
  } finally {
    await fh.close()
  }
}
