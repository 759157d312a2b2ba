// The columns' fast paths end to end, with real collector processes: events with escapes, non-ASCII, İ, K,
// messages that are not strings, more apps than a block summary keeps, and RETENTION_RULES expiring some,
// are counted, histogrammed, searched and exported by a collector over NDJSON; the same LOG_DIR compacted
// (JOURNAL_COMPACT=on, columns in every block) answers exactly the same.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { readFooter } from '../src/journal/segment-file'
import { collectorStatus, freshRequest, poll, startCollector, type RunningCollector } from '../../test/support'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const MESSAGES = ['upstream timeout after 30s', 'TIMEOUT', 'say "timeout"', 'back\\slash timeout', 'Café timeout', 'İstanbul timeout',
  'ki\u212aled', 'emoji 🙂 timeout', 'request served', 'kilo', 'TimeOut in Kiel', 'unicode \\u0041 timeout']
const APPS = ['api', 'web', 'billing', 'caf\u00e9', 'we"b']

function events (from: number, n: number, now: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => {
    const seq = from + k
    // Whole hours and a half back from `now`, so RETENTION_RULES' cut-offs (days) never fall near an event
    // while the two collectors start seconds apart.
    const e: Record<string, unknown> = {
      seq,
      timestamp: new Date(now - ((seq * 37) % 200) * HOUR - HOUR / 2).toISOString(),
      level: ['debug', 'info', 'warn', 'error'][seq % 4],
      app_name: seq % 600 < 120 ? `many-${seq % 97}` : APPS[seq % APPS.length],
      message: MESSAGES[(seq * 7) % MESSAGES.length],
      ctx: { tag: `t${seq % 3}` }
    }
    if (seq % 29 === 0) e.msg = 'timeout in msg, not message'
    return e
  })
}

async function json (c: RunningCollector, path: string): Promise<any> {
  const res = await freshRequest(c, 'GET', path)
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`)
  return JSON.parse(res.text)
}

const WINDOW = (now: number): string => `from=${new Date(now - 10 * DAY).toISOString()}&to=${new Date(now).toISOString()}`
const QUERIES = ['q=timeout', 'q=ki', 'q=i', 'q=timeout&app_name=api,many-5', 'q=timeout&level=warn', 'app_name=billing&level=error',
  'q=%22timeout%22', 'q=caf%C3%A9', 'q=timeout&f.ctx.tag=t1', '']

async function answers (c: RunningCollector, now: number): Promise<unknown[]> {
  const out: unknown[] = []
  for (const query of QUERIES) {
    const hist = await json(c, `/logs/histogram?buckets=7&${WINDOW(now)}&${query}`)
    const count = await json(c, `/logs/histogram?buckets=1&${WINDOW(now)}&${query}`)
    const page = await json(c, `/logs?limit=50&${query}`)
    const exported = (await freshRequest(c, 'GET', `/logs?${query}`, { headers: { accept: 'application/x-ndjson' } })).text
    out.push({ query, levels: hist.levels, total: hist.total, count: count.total, page: page.events.map((e: any) => e.seq), exported })
  }
  return out
}

t.test('a compacted LOG_DIR with columns answers as its NDJSON did', async t => {
  const now = Math.floor(Date.now() / HOUR) * HOUR
  const env = { JOURNAL_SEGMENT_BYTES: '65536', RETENTION_RULES: 'app=api:3d, level=DEBUG:5d', LOG_RETENTION_DAYS: '30' }
  const first = await startCollector(t, { env: { ...env, JOURNAL_COMPACT: 'off' } })
  for (let i = 0; i < 2400; i += 200) {
    const res = await freshRequest(first, 'POST', '/logs', { body: events(i, 200, now).map(e => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
    if (res.status !== 200) throw new Error(`ingest: ${res.status} ${res.text}`)
  }
  const before = await answers(first, now)
  await first.stop()
  // A restart opens a new segment: every segment the first one wrote is closed then.
  const closed = readdirSync(first.logDir).filter(f => f.endsWith('.ndjson')).length
  t.ok(closed >= 4, `${closed} closed segments`)

  const again = await startCollector(t, { logDir: first.logDir, env: { ...env, JOURNAL_COMPACT: 'on' } })
  await poll(async () => ((await collectorStatus(again)) as any).journal.compaction.segments === closed, 50)
  const packed = readdirSync(again.logDir).filter(f => f.endsWith('.ndjson.z'))
  t.equal(packed.length, closed, 'every closed segment compacted')
  for (const f of packed) {
    const fh = await open(join(again.logDir, f), 'r')
    const footer = await readFooter(fh, join(again.logDir, f))
    await fh.close()
    t.ok(footer.blocks.every(b => b.cols !== undefined), `${f}: columns in every block`)
  }
  const after = await answers(again, now)
  for (let i = 0; i < before.length; i++) t.same(after[i], before[i], `the same answers to ${QUERIES[i] || '(no filter)'}`)
  t.ok((before as Array<{ count: number }>)[0]!.count > 100, 'the word is counted')
})
