// The generated segments and queries that hold the columns' fast paths to the slow paths
// (read-columns.test.ts) and the scan threads to the main thread (read-scan-pool.test.ts): seeded, so the
// same lines every run — escapes, \u, non-ASCII, İ, K, lines without the head, messages absent or not
// strings, more apps than a block summary keeps, every level.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { FORMAT_VERSION } from '../src/journal/compacted/format'
import { normaliseEvent } from '../src/normalise/normalise'
import { histogram, histogramRange } from '../src/read/aggregate'
import { ExpiryFilter } from '../src/read/expiry'
import { journalEvents } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import { JournalSet } from '../src/read/sources'
import { CANONICAL_LEVELS } from '../src/normalise/levels'

export const DAY = 86_400_000
export const NOW = Date.parse('2026-12-06T12:00:00.000Z')
export const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }

/** A small seeded generator: the same segments every run. */
export function random (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

export const MESSAGES = ['Upstream timeout after 30s', 'TIMEOUT', 'say "timeout"', 'back\\slash timeout', 'tab\there timeout', 'Café timeout',
  'İstanbul', 'ki\u212aled', '\u212aELVIN', 'x\u0130', 'time\u00adout', 'emoji 🙂 timeout', '', 'a b c', 'time out', 'request served',
  'kilo istanbul', 'TimeOut in Kiel', 'line\nbreak timeout', 'ctrl \u0001 timeout', 'unicode \\u0041 timeout',
  // Digit runs in every position (format 3 keeps them apart from the templates): leading, trailing, next to
  // letters, alone, long, beside non-ASCII bytes, and the same template with different runs.
  '42', '007 timeout', 'timeout 30', 'timeout 300', 'req4711x timeout99ms', '12345678901234567890123456789 timeout', 'Café9 timeout 8é',
  '9\u00e9 0', 'a1b2c3 time0out', 'timeout1', 'retry 3/5 at 2026-12-06T12:00:00Z', '0', '🙂7🙂 timeout']
export const APPS = ['api', 'web', 'billing', 'caf\u00e9', 'we"b', 'a\\b', 'K\u212a']
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/** One journal line, most as the collector writes them, some as older collectors or hands did. */
export function line (r: () => number, seq: number, ts: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const timestamp = new Date(ts).toISOString()
  const kind = r()
  const message: unknown = kind < 0.05 ? 42 : kind < 0.08 ? null : kind < 0.1 ? { text: 'timeout' } : pick(MESSAGES)
  // More apps than a block summary keeps (MAX_BLOCK_APPS) in some stretches.
  const app = seq % 1000 < 150 ? `many-${Math.floor(r() * 300)}` : pick(APPS)
  const e: Record<string, unknown> = { timestamp, level: pick(LEVELS), app_name: app, message, seq, ctx: { tag: `t${seq % 5}` } }
  if (kind > 0.97) delete e.message
  if (kind > 0.95 && kind <= 0.97) delete e.app_name
  if (kind > 0.9 && kind <= 0.92) e.app_name = 7
  if (r() < 0.03) {
    // An older collector's line: no head (keys in another order). Its level is canonical, as older collectors
    // wrote them: a block summary counts an unknown level as INFO where the line path drops it.
    const { level, timestamp: t0, ...rest } = e
    return JSON.stringify({ _id: `old${seq}`, level: CANONICAL_LEVELS[LEVELS.indexOf(level as string)], ...rest, timestamp: t0 })
  }
  if (r() < 0.005) return `{"timestamp":"2026-13-45T99:99:99.999Z","level":"INFO","app_name":"api","message":"bad time timeout","_id":"b${seq}"}`
  if (r() < 0.005) return `{"timestamp":"${timestamp}","level":"INFO","app_name":"api","message":"no id timeout"}`
  if (r() < 0.003) return 'not json timeout'
  if (typeof e.app_name !== 'string' || typeof e.message !== 'string') {
    // What ingest refuses today but a hand or an older version wrote: the head, then no app or another type.
    const { timestamp: t0, level, ...rest } = e
    return JSON.stringify({ timestamp: t0, level: CANONICAL_LEVELS[LEVELS.indexOf(level as string)], ...rest, _id: `h${seq}` })
  }
  // The collector's own line; now and then spliced from the client's text (message not right after app_name).
  const text = r() < 0.1 ? JSON.stringify({ seq: e.seq, message: e.message, app_name: e.app_name, level: e.level, timestamp }) : undefined
  const out = normaliseEvent(structuredClone(e), { limits, receivedAt: timestamp }, text)
  if (!out.ok) throw new Error(out.error)
  return out.line
}

/**
 * Lines per segment. 350 hold every kind of line above (the rarest, a line that is not JSON or has a bad
 * time, a few times each; read-columns.test.ts asserts that they are there), a stretch with more apps than
 * a block summary keeps, and four or more 16 KiB blocks a segment; more lines only made each of the
 * hundreds of queries in answers() slower.
 */
export const SEGMENT_LINES = 350

/**
 * The segments of writeSegments as NDJSON in `ndjson`, and the same compacted (with columns, 16 KiB
 * blocks; in format `version`) in `cols`, under a new temporary directory `base`: what the scan threads' tests read.
 */
export async function compactedCopies (prefix: string, version = FORMAT_VERSION): Promise<{ base: string, ndjson: string, cols: string, names: string[] }> {
  const base = mkdtempSync(join(tmpdir(), prefix))
  const ndjson = join(base, 'ndjson')
  const cols = join(base, 'cols')
  mkdirSync(ndjson)
  mkdirSync(cols)
  const names = writeSegments(ndjson)
  for (const n of names) {
    copyFileSync(join(ndjson, n), join(cols, n))
    await compactSegment(cols, n, 16 * 1024, true, version)
  }
  return { base, ndjson, cols, names }
}

/** Three segments over the 10 days before NOW, mostly in order. */
export function writeSegments (dir: string): string[] {
  const r = random(24)
  const names: string[] = []
  let seq = 0
  for (let s = 0; s < 3; s++) {
    const name = `maap-2026112${s}T000000Z-00000${s + 1}.ndjson`
    const lines: string[] = []
    for (let k = 0; k < SEGMENT_LINES; k++, seq++) {
      const ts = NOW - 10 * DAY + Math.floor((seq / (3 * SEGMENT_LINES)) * 10 * DAY) + Math.floor((r() - 0.5) * 3_600_000)
      lines.push(line(r, seq, ts))
    }
    writeFileSync(join(dir, name), lines.join('\n') + '\n')
    names.push(name)
  }
  return names
}

export function journalOf (dir: string, names: string[], expiry?: ExpiryFilter): JournalSet {
  // Every segment closed: the writer's current segment is one that does not exist.
  return new JournalSet({ dir, segments: () => names, end: () => ({ segment: 'maap-99991231T235959Z-999999.ndjson', offset: 0 }), confirmed: () => undefined },
    undefined, false, expiry)
}

/** One of the many apps, with lines both older and younger than 8 days (read-columns.test.ts's retention rule). */
export const MANY_APP = 'many-215'

export const QUERIES: Array<Record<string, string>> = []
export const EXTRAS = [{}, { app_name: `api,web,${MANY_APP}` }, { level: 'warn' }, { app_name: 'we"b', level: 'error' },
  { from: new Date(NOW - 6 * DAY).toISOString(), to: new Date(NOW - 2 * DAY - 1234).toISOString() }, { 'f.ctx.tag': 't1' }]
for (const q of [undefined, 'timeout', 'ki', 'i', 'café', '"timeout"', 'unicode \\u0041', 'kelvin']) {
  for (const extra of EXTRAS) QUERIES.push({ ...(q === undefined ? {} : { q }), ...extra })
}
for (const q of ['TIME', 'k', 'istanbul', 'a b', 'x']) QUERIES.push({ q }, { q, app_name: 'api' })
// Texts with digits: format 3 answers them from messages rebuilt from templates and vars.
for (const q of ['30', 'timeout 30', '0', '7 t', 'out9', '2026-12', '1234567890123', 't1', 'e9', 'p4']) QUERIES.push({ q }, { q, app_name: 'api' })

export async function answers (journals: JournalSet): Promise<unknown[]> {
  const out: unknown[] = []
  for (const params of QUERIES) {
    const q = parseReadQuery(params, { now: NOW })
    const hist = await histogram(journals, undefined, q, histogramRange(q, 17, NOW))
    const all = { ...q, from: q.from ?? new Date(NOW - 12 * DAY).toISOString() }
    const count = await histogram(journals, undefined, all, histogramRange(all, 1, NOW))
    const hits: string[] = []
    for await (const hit of journalEvents(await journals.sources(), q, { snapshot: undefined, unconfirmedOnly: false, expiry: journals.expiry })) hits.push(hit.line)
    out.push({ params, levels: hist.levels, total: hist.total, count: count.total, hits })
  }
  return out
}

/** The first query whose answers differ, and how; undefined when all agree (a short failure to read). */
export function firstDiff (got: unknown[], want: unknown[]): string | undefined {
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as Record<string, unknown>
    const w = want[i] as Record<string, unknown>
    for (const k of Object.keys(w)) {
      if (JSON.stringify(g[k]) === JSON.stringify(w[k])) continue
      if (k === 'hits') {
        const gh = g[k] as string[]
        const wh = w[k] as string[]
        return `${JSON.stringify(w.params)} hits: ${gh.length} vs ${wh.length}; only got ${JSON.stringify(gh.filter(x => !wh.includes(x)).slice(0, 2))}; only wanted ${JSON.stringify(wh.filter(x => !gh.includes(x)).slice(0, 2))}`
      }
      return `${JSON.stringify(w.params)} ${k}: ${JSON.stringify(g[k])} vs ${JSON.stringify(w[k])}`
    }
  }
  return undefined
}
