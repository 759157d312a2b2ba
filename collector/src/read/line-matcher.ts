// The matching lines of a buffer of whole journal lines: prefilter (match.ts), then what the fixed head
// tells (time window, cursor, level) without parsing, then — when the query asks only for text in the
// message and an app — app_name and message read in place (head-fields.ts), else JSON.parse and the
// exact test. Search and the tail both use it; a tail without filters needs no parse at all. With RETENTION_RULES, lines past their
// rule's age are skipped here too (expiry.ts), so no reader answers an expired event.
//
// Keyed (a search, which orders by timestamp and _id): each line passed on comes with its key in `ts` and
// `id`, from the head and the line's fixed tail (line-tail.ts) — which also gives received_at for the
// snapshot and lets the cursor be tested in place — so a line whose test the head, the tail and
// app_name/message in place decide is answered without JSON.parse; any other takes the parse.
//
// One app at some levels, no text (the dashboard's "newest errors of app X"), over a block read whole whose
// per-app level counts are known (block-index.ts): the lines are found by their exact head bytes,
// `","level":"ERROR","app_name":"X"` at the head's fixed offset, one native search per level instead of
// the app prefilter's ~10 % of lines. Sound only when that finds as many lines as the counts say (every
// such line is one the counts took as X at that level; equal numbers mean none was missed): else the block
// is scanned the usual way.
import { LEVEL_START, TS_LENGTH, TS_START, hasHead } from '../journal/line-head'
import type { AppLevels } from './block-index'
import { CANONICAL_LEVELS } from '../normalise/levels'
import { comesBefore } from './cursor'
import type { ExpiryFilter } from './expiry'
import { HeadVerdict, testHeadFields, type HeadFieldTest } from './head-fields'
import { ID_LENGTH, RECEIVED_FROM_ID, RECEIVED_LENGTH, tailAt } from './line-tail'
import { candidateLines, matchEvent, prefilterFor, type Prefilter, type SequenceMemo, type StoredEvent } from './match'
import type { ReadQuery } from './query'

const NL = 10

/** Where a line's `","level":"` starts: its head's timestamp, then that key (line-head.ts). */
const LEVEL_KEY_AT = TS_START + TS_LENGTH

/** The head bytes of one app's lines at one level (see the file's comment), and that level's index. */
interface HeadNeedle { level: number, needle: Buffer }

/** Each level's head bytes for `app` alone, or undefined when its JSON is not its bytes as they are. */
function headNeedles (app: string, levels: readonly string[]): HeadNeedle[] | undefined {
  if (JSON.stringify(app) !== `"${app}"`) return undefined
  const out: HeadNeedle[] = []
  for (const name of levels) {
    const level = CANONICAL_LEVELS.indexOf(name as never)
    if (level === -1) return undefined
    out.push({ level, needle: Buffer.from(`","level":"${name}","app_name":"${app}"`, 'utf8') })
  }
  return out
}

/** A matching line buf[start, end); `event` is the line parsed, when a parse was needed or asked for. */
export type OnLine = (start: number, end: number, event: StoredEvent | undefined) => void

export class LineMatcher {
  private readonly prefilter: Prefilter | undefined
  private readonly levelBytes: Buffer[] | undefined
  /** Whether the head alone decides (no app, text, field, expression, cursor or snapshot test). */
  private readonly headDecides: boolean
  /** Set when app_name and message, read in place, decide what the head does not (text and app alone). */
  private readonly headFields: HeadFieldTest | undefined

  /** Keyed: whether neither fields nor an expression need the parse (then head, tail and head fields decide). */
  private readonly inPlace: boolean
  private readonly snapshotBytes: Buffer | undefined
  /** One app at some levels and nothing else to find by text: its lines' head bytes (headLines). */
  private readonly heads: { app: string, needles: HeadNeedle[] } | undefined
  /** Blocks scanned by their head bytes, and those whose counts did not agree (scanned the usual way). */
  readonly headScans = { blocks: 0, fellBack: 0 }
  /**
   * Keyed: the timestamp and _id of the line last passed to `onLine` — in `ts` and `id`, or (when `idAt` is
   * not -1) left in place: the timestamp in the line's head, the _id at `idAt` of its buffer, and `ms` the
   * time the caller gave for it (NaN when it had none). Only `admit` leaves them in place, when neither a
   * cursor nor retention needs the key as text: an export orders hundreds of thousands of lines by it.
   */
  ts = ''
  id = ''
  idAt = -1
  ms = NaN

  /**
   * `keyed` (a search's): every line passed on has its key in `ts` and `id`, and is parsed only when that
   * is needed to decide it (`alwaysParse` is then false).
   */
  constructor (private readonly q: ReadQuery, private readonly snapshot: string | undefined, alwaysParse: boolean,
    private readonly expiry?: ExpiryFilter, private readonly keyed = false) {
    this.prefilter = prefilterFor(q)
    this.levelBytes = q.levels?.map(l => Buffer.from(l + '"', 'latin1'))
    this.inPlace = keyed && q.fields.length === 0 && q.expr === undefined
    this.snapshotBytes = snapshot === undefined ? undefined : Buffer.from(snapshot, 'latin1')
    this.headDecides = !alwaysParse && snapshot === undefined && q.after === undefined &&
      q.apps === undefined && q.text === undefined && q.fields.length === 0 && q.expr === undefined
    const inPlace = !alwaysParse && snapshot === undefined && q.after === undefined && q.fields.length === 0 &&
      q.expr === undefined && !this.headDecides
    this.headFields = inPlace || this.inPlace ? { text: q.text, apps: q.apps?.map(a => Buffer.from(a, 'utf8')) } : undefined
    const needles = q.apps?.length === 1 && q.levels !== undefined && q.text === undefined && q.fields.length === 0 && q.expr === undefined
      ? headNeedles(q.apps[0]!, q.levels)
      : undefined
    this.heads = needles === undefined ? undefined : { app: q.apps![0]!, needles }
  }

  /**
   * Passes on the line buf[start, end) (it has the head) that the columns showed to match the query's
   * text, window, levels and apps (column-scan.ts): only the expiry, snapshot and cursor are left to test,
   * and the key is read in place. Keyed only; a line they cannot settle takes the whole test. The caller
   * refreshes the expiry (once a block, as `scan` does).
   */
  admit (buf: Buffer, start: number, end: number, onLine: OnLine, ms = NaN): void {
    const id = this.inPlace ? tailAt(buf, start, end) : -1
    if (id === -1) {
      this.consider(buf, start, end, onLine)
      return
    }
    if (this.expiry === undefined && this.q.after === undefined) {
      if (!this.received(buf, id)) return
      this.idAt = id
      this.ms = ms
      onLine(start, end, undefined)
      return
    }
    const ts = buf.latin1Slice(start + TS_START, start + TS_START + TS_LENGTH)
    if (this.expiry?.expiredLine(buf, start, end, ts) === true) return
    if (this.keyAllows(buf, id, ts)) onLine(start, end, undefined)
  }

  /** Snapshot and cursor for the line whose _id starts at `id` (its tail read), with timestamp `ts`; sets the key. */
  private keyAllows (buf: Buffer, id: number, ts: string): boolean {
    if (!this.received(buf, id)) return false
    const key = buf.latin1Slice(id, id + ID_LENGTH)
    const after = this.q.after
    if (after !== undefined && !comesBefore(after.timestamp, after.id, ts, key)) return false
    this.ts = ts
    this.id = key
    this.idAt = -1
    return true
  }

  /** Whether the line whose _id starts at `id` was received by the snapshot (if any). */
  private received (buf: Buffer, id: number): boolean {
    const snap = this.snapshotBytes
    const received = id + RECEIVED_FROM_ID
    // Printable ASCII on both sides: comparing bytes is comparing the strings, as matchEvent does.
    return snap === undefined || buf.compare(snap, 0, snap.length, received, received + RECEIVED_LENGTH) <= 0
  }

  /**
   * Calls `onLine` for each matching line of `buf[0, length)` that starts at or after `skipBelow`;
   * `memo` and `counts`, when the buffer is one whole journal block, are that block's (see SequenceMemo;
   * Block.apps, its lines per app and level, when known).
   */
  scan (buf: Buffer, length: number, skipBelow: number, onLine: OnLine, memo?: SequenceMemo, counts?: AppLevels): void {
    this.expiry?.refresh()
    if (this.heads !== undefined && counts !== undefined) {
      const starts = this.headLines(buf, length, counts)
      if (starts !== undefined) {
        for (const start of starts) {
          if (start < skipBelow) continue
          const nl = buf.indexOf(NL, start)
          this.consider(buf, start, nl === -1 || nl > length ? length : nl, onLine)
        }
        return
      }
    }
    if (this.prefilter !== undefined) {
      for (const start of candidateLines(buf, length, this.prefilter, memo)) {
        if (start < skipBelow) continue
        const nl = buf.indexOf(NL, start)
        this.consider(buf, start, nl === -1 || nl > length ? length : nl, onLine)
      }
      return
    }
    for (let start = Math.max(skipBelow, 0); start < length;) {
      let end = buf.indexOf(NL, start)
      if (end === -1 || end > length) end = length
      this.consider(buf, start, end, onLine)
      start = end + 1
    }
  }

  /**
   * The starts, in order, of the lines of buf[0, length) (a whole block) that have the head with the app
   * and one of the levels right after it, as the head bytes say; undefined when they are fewer than the
   * block's counts for that app at those levels (a line of another layout: the caller scans the usual way).
   */
  private headLines (buf: Buffer, length: number, counts: AppLevels): number[] | undefined {
    const { app, needles } = this.heads!
    const perLevel = counts.levelsOf(app)
    const starts: number[] = []
    let expected = 0
    const view = buf.subarray(0, length)
    for (const { level, needle } of needles) {
      expected += perLevel?.[level] ?? 0
      if (perLevel === undefined || perLevel[level] === 0) continue
      for (let at = view.indexOf(needle); at !== -1; at = view.indexOf(needle, at + needle.length)) {
        const start = at - LEVEL_KEY_AT
        // Only at a line's head: the same bytes elsewhere (a nested object) are no line's app and level.
        if (start < 0 || (start > 0 && buf[start - 1] !== NL)) continue
        const nl = buf.indexOf(NL, at)
        if (!hasHead(buf, start, nl === -1 || nl > length ? length : nl)) continue
        starts.push(start)
      }
    }
    this.headScans.blocks++
    if (starts.length !== expected) {
      this.headScans.fellBack++
      return undefined
    }
    return needles.length > 1 ? starts.sort((a, b) => a - b) : starts
  }

  /** The whole test of the line buf[start, end) (no newline). */
  test (buf: Buffer, start: number, end: number, onLine: OnLine): void {
    this.consider(buf, start, end, onLine)
  }

  private consider (buf: Buffer, start: number, end: number, onLine: OnLine): void {
    if (end <= start) return
    const q = this.q
    const head = hasHead(buf, start, end)
    if (head) {
      const ts = buf.toString('latin1', start + TS_START, start + TS_START + TS_LENGTH)
      if ((q.from !== undefined && ts < q.from) || (q.to !== undefined && ts >= q.to)) return
      if (q.after !== undefined && ts > q.after.timestamp) return
      if (this.levelBytes !== undefined &&
        !this.levelBytes.some(l => buf.compare(l, 0, l.length, start + LEVEL_START, start + LEVEL_START + l.length) === 0)) return
      if (this.expiry?.expiredLine(buf, start, end, ts) === true) return
      if (this.keyed) {
        // The key comes from the tail or the parse; the rest is decided in place only when the tail is there.
        const id = this.inPlace ? tailAt(buf, start, end) : -1
        if (id !== -1) {
          if (!this.keyAllows(buf, id, ts)) return
          const verdict = q.text === undefined && q.apps === undefined ? HeadVerdict.Match : testHeadFields(buf, start, end, this.headFields!)
          if (verdict === HeadVerdict.NoMatch) return
          if (verdict === HeadVerdict.Match) {
            onLine(start, end, undefined)
            return
          }
        }
      } else if (this.headDecides) {
        onLine(start, end, undefined)
        return
      } else if (this.headFields !== undefined) {
        const verdict = testHeadFields(buf, start, end, this.headFields)
        if (verdict === HeadVerdict.NoMatch) return
        if (verdict === HeadVerdict.Match) {
          onLine(start, end, undefined)
          return
        }
      }
    }
    const line = buf.toString('utf8', start, end)
    let event: StoredEvent
    try {
      event = JSON.parse(line) as StoredEvent
    } catch {
      return // not a journal line (the collector writes none such)
    }
    if (typeof event.timestamp !== 'string' || typeof event._id !== 'string') return
    if (!head && this.expiry?.expiredEvent(event) === true) return
    if (!matchEvent(event, q, this.snapshot)) return
    if (q.after !== undefined && !comesBefore(q.after.timestamp, q.after.id, event.timestamp, event._id)) return
    this.ts = event.timestamp
    this.id = event._id
    this.idAt = -1
    onLine(start, end, event)
  }
}
