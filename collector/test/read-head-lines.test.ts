// One app at some levels over NDJSON blocks whose per-app counts are known (line-matcher.ts headLines): the
// lines found by their head bytes are those the usual scan (the app prefilter, then each line's test)
// passes on, block for block, over generated journals that mix the collector's lines with older ones,
// escapes and more apps than a block keeps counts of; where a block holds a line of another layout, its
// counts disagree and it is scanned the usual way.
import t from 'tap'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { LineMatcher } from '../src/read/line-matcher'
import { parseReadQuery } from '../src/read/query'
import { AppLevels, type Block } from '../src/read/block-index'
import { APPS, NOW, compactedCopies, journalOf } from './columns-data'

type Found = Array<[number, string]>

function scanOf (m: LineMatcher, buf: Buffer, block: Block, counts: boolean): Found {
  const out: Found = []
  m.scan(buf, buf.length, 0, (start, end) => { out.push([start, buf.toString('utf8', start, end)]) }, undefined, counts ? block.apps : undefined)
  return out
}

t.test('lines found by their head bytes are the usual scan\'s, block for block; blocks whose counts disagree are scanned as before', async t => {
  const { base, ndjson, names } = await compactedCopies('maap-head-lines-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const [source] = await journalOf(ndjson, names).sources()
  const blocks: Array<{ block: Block, buf: Buffer }> = []
  for (const segment of names) {
    const file = readFileSync(join(ndjson, segment))
    for (const block of await source!.index.blocks(segment, file.length)) blocks.push({ block, buf: file.subarray(block.start, block.end) })
  }
  t.ok(blocks.some(b => b.block.apps !== undefined), 'some blocks have their per-app counts')
  let fast = 0
  let fellBack = 0
  let lines = 0
  for (const app of [...APPS, 'many-215', 'nobody']) {
    for (const level of ['error', 'info', 'trace', 'critical']) {
      const q = parseReadQuery({ app_name: app, level }, { now: NOW })
      for (const keyed of [true, false]) {
        const heads = new LineMatcher(q, undefined, false, undefined, keyed)
        const usual = new LineMatcher(q, undefined, false, undefined, keyed)
        for (const { block, buf } of blocks) {
          const want = scanOf(usual, buf, block, false)
          t.same(scanOf(heads, buf, block, true), want, `${app} at ${level}+ (keyed ${String(keyed)}), block at ${block.start} of ${block.segment}`)
          lines += want.length
        }
        fast += heads.headScans.blocks - heads.headScans.fellBack
        fellBack += heads.headScans.fellBack
        t.equal(usual.headScans.blocks, 0, 'without counts no block is scanned by its head bytes')
      }
    }
  }
  t.ok(lines > 0, `${lines} lines matched in all`)
  t.ok(fast > 0, `${fast} blocks answered by their head bytes`)
  t.ok(fellBack > 0, `${fellBack} blocks whose counts disagreed (an older line, an escape) scanned as before`)
})

t.test('a line of the app and level in another layout makes the counts disagree: it is still found', async t => {
  const head = (ts: string, level: string, rest: string): string => `{"timestamp":"${ts}","level":"${level}",${rest}`
  const text = [
    head('2026-12-01T00:00:00.000Z', 'ERROR', '"app_name":"billing","message":"a","_id":"1","received_at":"2026-12-01T00:00:00.000Z"}'),
    // The same app and level, but a field between them: no head bytes to find it by.
    head('2026-12-01T00:00:01.000Z', 'ERROR', '"seq":1,"app_name":"billing","message":"b","_id":"2","received_at":"2026-12-01T00:00:01.000Z"}'),
    // The head bytes inside a nested object: no line's app and level.
    head('2026-12-01T00:00:02.000Z', 'INFO', '"app_name":"web","ctx":{"x":"","level":"ERROR","app_name":"billing"},"_id":"3","received_at":"2026-12-01T00:00:02.000Z"}')
  ].join('\n') + '\n'
  const buf = Buffer.from(text)
  const q = parseReadQuery({ app_name: 'billing', level: 'ERROR' }, { now: NOW })
  const block = { apps: AppLevels.of([['billing', [0, 0, 0, 0, 2, 0]], ['web', [0, 0, 1, 0, 0, 0]]]) } as unknown as Block
  const m = new LineMatcher(q, undefined, false, undefined, true)
  const found = scanOf(m, buf, block, true).map(([, line]) => (JSON.parse(line) as { _id: string })._id)
  t.same(found, ['1', '2'], 'both lines of billing at ERROR, none of web')
  t.same(m.headScans, { blocks: 1, fellBack: 1 }, 'found one by its head bytes of the two counted: scanned the usual way')
  // Counts that say one line: the head bytes find it, and the block is answered so.
  const one = { apps: AppLevels.of([['billing', [0, 0, 0, 0, 1, 0]]]) } as unknown as Block
  const onlyFirst = Buffer.from(text.split('\n')[0] + '\n' + text.split('\n')[2] + '\n')
  const m2 = new LineMatcher(q, undefined, false, undefined, true)
  t.same(scanOf(m2, onlyFirst, one, true).map(([, line]) => (JSON.parse(line) as { _id: string })._id), ['1'])
  t.same(m2.headScans, { blocks: 1, fellBack: 0 })
})
