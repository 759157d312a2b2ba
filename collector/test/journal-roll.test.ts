// A segment that closes (the writer rolls to a new one) is announced — 'segment-closed', with its name,
// once its bytes are all written — and the collector compacts it then, without waiting for the
// compactor's next look (service.ts).
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JournalWriter } from '../src/journal/writer'
import type { CollectorService } from '../src/service'
import { poll } from '../../test/support'
import { buildTestApp } from './helpers'

t.test('the writer says which segment closed, once it holds every byte written to it', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-roll-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const writer = new JournalWriter({ dir, fsync: 'off', segmentMaxBytes: 1024 })
  const closed: Array<{ name: string, bytes: number }> = []
  writer.on('segment-closed', (name: string) => closed.push({ name, bytes: readFileSync(join(dir, name)).length }))
  await writer.open()
  t.teardown(() => writer.close())
  t.same(closed, [], 'opening the first segment closes none')
  const line = JSON.stringify({ message: 'x'.repeat(600) }) + '\n'
  const segments: string[] = []
  for (let i = 0; i < 6; i++) {
    await writer.append(line, 1)
    segments.push(writer.end.segment)
  }
  // A segment rolls at the first append once it holds 1 KiB (two lines here): the segments written before the last one are closed, in order.
  const written = [...new Set(segments)]
  t.ok(written.length >= 3, `${written.length} segments written`)
  t.same(closed.map(c => c.name), written.slice(0, -1))
  for (const c of closed) t.ok(c.bytes > 0 && c.bytes % line.length === 0, `${c.name}: whole lines only when announced (${c.bytes} bytes)`)
})

t.test('a collector compacts a segment when it closes, not at the compactor\'s next look', async t => {
  const { app } = await buildTestApp(t, { JOURNAL_COMPACT: 'on', JOURNAL_SEGMENT_BYTES: '4096' })
  await app.ready() // the service has started: its compactor's timer is set
  const service = (app as unknown as { collector: CollectorService }).collector
  // The compactor's own look for work, every 2 s, is stopped: only a segment closing can start a compaction.
  clearInterval((service.compactor as unknown as { timer: NodeJS.Timeout }).timer)
  const at = Date.now()
  for (let i = 0; i < 3; i++) {
    const body = Array.from({ length: 20 }, (_, k) => JSON.stringify({ timestamp: new Date(at + i * 100 + k).toISOString(), level: 'info', app_name: 'roll', message: `event ${i}-${k} ${'y'.repeat(200)}` })).join('\n')
    const res = await app.inject({ method: 'POST', url: '/logs', headers: { 'content-type': 'application/x-ndjson' }, payload: body })
    t.equal(res.statusCode, 200)
  }
  await poll(() => (service.compactor!.status().segments >= 1), 25, { ms: 60_000, what: 'a closed segment compacted' })
  t.ok(service.compactor!.status().segments >= 1, 'compacted with the compactor\'s timer stopped')
})
