// A compacted block's template counts (format 3, a fourth stream beside lines, columns and vars: the footer's
// `tcounts`): how many of its lines have each message template, app and level — what a count of a word
// without digits needs from a block that lies whole inside its time window and one histogram bucket.
//
//   compaction:  decoded columns (templates, per line: template, app, level, flags, time) ─► encodeTemplateCounts
//                ─► (brotli, compact-segment.ts) ─► `tcounts`, ~0.6 KB a block against ~12 KB of columns
//   count:       `tcounts` ─► decodeTemplateCounts ─► ColumnQuery.countTemplates: the templates the text
//                matches (as scanTemplates tests them), then their (app, level) counts added up
//
// The counts are of lines the columns decide (HEAD and MESSAGE flags); the others are only counted
// (`undecided`), and a block with any is counted line by line from its columns, as are blocks whose lines'
// apps are not all in place (`noApp`) when the query names apps. So the counts answer exactly what
// scanning the columns would (collector/test/template-counts.test.ts holds them to it).
//
// Layout (little-endian; E entries, T templates, A apps):
//   u32 E │ u32 undecided │ u32 noApp │ u32 T │ u32 textBytes │ u32 A │ f64 minMs │ f64 maxMs
//   │ u32 count ×E │ u32 template ×E │ u16 app ×E (NO_APP: not in place) │ u8 level ×E
//   │ templates (each ending in '\n', textBytes in all) │ apps (u16 byte length + UTF-8 bytes, A of them)
import { CANONICAL_LEVELS } from '../normalise/levels'
import { COL_APP, COL_HEAD, COL_MESSAGE, ColumnsError, NO_APP, type Columns } from './columns'
import { templateStarts } from './templates'

const HEADER_BYTES = 40
/** count u32, template u32, app u16, level u8. */
const ENTRY_BYTES = 11
const LEVELS = CANONICAL_LEVELS.length
const DECIDED = COL_HEAD | COL_MESSAGE

/** A block's template counts, decoded: the entries are read in place (a count reads each once). */
export class TemplateCounts {
  constructor (
    private readonly bytes: Buffer,
    /** How many (template, app, level) entries. */
    readonly entries: number,
    /** Lines without HEAD or MESSAGE: what only the line itself decides. */
    readonly undecided: number,
    /** Decided lines whose app is not in place (no APP flag, or not in the dictionary). */
    readonly noApp: number,
    /** Oldest and newest time of the decided lines (Infinity and -Infinity when there are none). */
    readonly minMs: number,
    readonly maxMs: number,
    /** The templates, each ending in '\n', and where each starts (and, at their count, their length). */
    readonly text: Buffer,
    readonly starts: Uint32Array,
    /** The apps entries index, as their UTF-8 bytes. */
    readonly apps: Buffer[]
  ) {}

  /** Entry k's lines. */
  count (k: number): number {
    return this.bytes.readUInt32LE(HEADER_BYTES + 4 * k)
  }

  template (k: number): number {
    return this.bytes.readUInt32LE(HEADER_BYTES + 4 * this.entries + 4 * k)
  }

  /** Entry k's app: an index into `apps`, or NO_APP. */
  app (k: number): number {
    return this.bytes.readUInt16LE(HEADER_BYTES + 8 * this.entries + 2 * k)
  }

  level (k: number): number {
    return this.bytes[HEADER_BYTES + 10 * this.entries + k]!
  }
}

/** The template counts of a block's decoded format 3 columns. */
export function encodeTemplateCounts (c: Columns): Buffer {
  const t = c.templates
  if (t === undefined) throw new ColumnsError('template counts need templated columns')
  const templates = t.starts.length - 1
  // One slot per (template, app, level): apps are few (a block's dictionary), NO_APP is slot `apps`.
  const apps = c.apps.length + 1
  const slots = new Map<number, number>()
  let undecided = 0
  let noApp = 0
  let minMs = Infinity
  let maxMs = -Infinity
  for (let i = 0; i < c.n; i++) {
    const f = c.flags[i]!
    if ((f & DECIDED) !== DECIDED) {
      undecided++
      continue
    }
    const inPlace = (f & COL_APP) !== 0 && c.app[i] !== NO_APP
    if (!inPlace) noApp++
    const ms = c.ms[i]!
    if (ms < minMs) minMs = ms
    if (ms > maxMs) maxMs = ms
    const key = (t.index[i]! * apps + (inPlace ? c.app[i]! : apps - 1)) * LEVELS + c.level[i]!
    slots.set(key, (slots.get(key) ?? 0) + 1)
  }
  const appBytes = c.apps.reduce((n, a) => n + 2 + a.length, 0)
  const e = slots.size
  const out = Buffer.alloc(HEADER_BYTES + ENTRY_BYTES * e + t.text.length + appBytes)
  out.writeUInt32LE(e, 0)
  out.writeUInt32LE(undecided, 4)
  out.writeUInt32LE(noApp, 8)
  out.writeUInt32LE(templates, 12)
  out.writeUInt32LE(t.text.length, 16)
  out.writeUInt32LE(c.apps.length, 20)
  out.writeDoubleLE(minMs, 24)
  out.writeDoubleLE(maxMs, 32)
  let k = 0
  for (const [key, count] of [...slots].sort((a, b) => a[0] - b[0])) {
    const level = key % LEVELS
    const rest = (key - level) / LEVELS
    const app = rest % apps
    out.writeUInt32LE(count, HEADER_BYTES + 4 * k)
    out.writeUInt32LE((rest - app) / apps, HEADER_BYTES + 4 * e + 4 * k)
    out.writeUInt16LE(app === apps - 1 ? NO_APP : app, HEADER_BYTES + 8 * e + 2 * k)
    out[HEADER_BYTES + 10 * e + k] = level
    k++
  }
  let at = HEADER_BYTES + ENTRY_BYTES * e
  at += t.text.copy(out, at)
  for (const a of c.apps) {
    out.writeUInt16LE(a.length, at)
    at += 2 + a.copy(out, at + 2)
  }
  return out
}

/** Decodes template counts; throws ColumnsError when they do not hold together. */
export function decodeTemplateCounts (bytes: Buffer): TemplateCounts {
  if (bytes.length < HEADER_BYTES) throw new ColumnsError('template counts shorter than their header')
  const e = bytes.readUInt32LE(0)
  const templates = bytes.readUInt32LE(12)
  const textBytes = bytes.readUInt32LE(16)
  const appCount = bytes.readUInt32LE(20)
  let at = HEADER_BYTES + ENTRY_BYTES * e
  if (at + textBytes > bytes.length) throw new ColumnsError('template counts shorter than their entries')
  const text = bytes.subarray(at, at + textBytes)
  const starts = templateStarts(text, templates)
  at += textBytes
  const apps: Buffer[] = []
  for (let a = 0; a < appCount; a++) {
    if (at + 2 > bytes.length) throw new ColumnsError('template counts shorter than their apps')
    const length = bytes.readUInt16LE(at)
    if (at + 2 + length > bytes.length) throw new ColumnsError('template counts shorter than their apps')
    apps.push(bytes.subarray(at + 2, at + 2 + length))
    at += 2 + length
  }
  if (at !== bytes.length) throw new ColumnsError('template counts longer than what they hold')
  const s = new TemplateCounts(bytes, e, bytes.readUInt32LE(4), bytes.readUInt32LE(8), bytes.readDoubleLE(24), bytes.readDoubleLE(32), text, starts, apps)
  for (let k = 0; k < e; k++) {
    const app = s.app(k)
    if (s.template(k) >= templates || (app !== NO_APP && app >= appCount) || s.level(k) >= LEVELS) throw new ColumnsError(`template count ${k} is out of range`)
  }
  return s
}
