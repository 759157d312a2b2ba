// The compaction thread keeps no garbage between segments: it collects after each one, so what it holds
// idle is what it held after the first segment, not the Buffers of every block it compacted since.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { CompactReply, CompactRequest } from '../src/journal/compacted/compact-worker'

const WORKER = resolve(__dirname, '..', 'dist', 'journal', 'compacted', 'compact-worker.js')
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']
const MIB = 1024 * 1024

/** ~2 MiB of journal lines (the head first), words varied so blocks compress as real ones do. */
function segmentBytes (seed: number): Buffer {
  const lines: string[] = []
  for (let i = 0; lines.length < 12_000; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i * 10)).toISOString()
    const n = (i * 7919 + seed * 104_729) % 100_003
    lines.push(`{"timestamp":"${ts}","level":"${LEVELS[n % 6]!}","app_name":"app-${n % 7}","message":"request ${n} took ${n % 977} ms for user ${n % 313}","_id":"${seed}-${i}","trace":{"id":"${n.toString(16)}","span":${n % 61}}}\n`)
  }
  return Buffer.from(lines.join(''))
}

t.test('the thread holds as little after four segments as after the first', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-compact-mem-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const names: string[] = []
  for (let i = 1; i <= 4; i++) {
    const name = `maap-20260101T000000Z-${String(i).padStart(6, '0')}.ndjson`
    writeFileSync(join(dir, name), segmentBytes(i))
    names.push(name)
  }
  const worker = new Worker(WORKER, { resourceLimits: { maxYoungGenerationSizeMb: 8 } })
  t.teardown(() => worker.terminate())
  const held: number[] = []
  for (const [i, name] of names.entries()) {
    const reply = await new Promise<CompactReply>(resolve => {
      worker.once('message', resolve)
      worker.postMessage({ id: i, dir, name } satisfies CompactRequest)
    })
    t.notOk('error' in reply, `${name} compacted`)
    held.push(reply.heldBytes!)
  }
  t.ok(held.every(b => b <= held[0]! + MIB), `held (MiB): ${held.map(b => (b / MIB).toFixed(1)).join(', ')}`)
})
