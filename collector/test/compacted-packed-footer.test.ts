// The footer caches keep footers packed (packed-footer.ts): what comes back when a file is opened is what
// was put in, every field, for blocks with and without each optional part, and for footers read from files
// of every format version.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactSegment } from '../src/journal/compacted/compact-segment'
import { FORMAT_VERSION, storedFooter, type StoredFooter } from '../src/journal/compacted/format'
import { packFooter, unpackFooter } from '../src/journal/compacted/packed-footer'
import { readFooter } from '../src/journal/segment-file'

const CRC_HIGH = 0xfffffffe // above 2^31: a number V8 would box in an object, exact in the pack

t.test('every field of every kind of block comes back', async t => {
  const footer: StoredFooter = {
    size: 9_007_199_254_740_000,
    blocks: [
      // Version 1: no zcrc, no cut, no streams.
      { start: 0, end: 100, at: 8, length: 40, codec: 1, crc: CRC_HIGH, zcrc: undefined, cut: undefined, cols: undefined, vars: undefined, tcounts: undefined, pieces: undefined },
      // Columns written before they had a zcrc.
      { start: 100, end: 250, at: 48, length: 50, codec: 2, crc: 0, zcrc: 7, cut: undefined, cols: { at: 98, length: 10, codec: 1, size: 30, crc: 1, zcrc: undefined }, vars: undefined, tcounts: undefined, pieces: undefined },
      // Everything, at the largest values a field takes.
      {
        start: 250, end: 4_294_967_296 + 250, at: 108, length: 2 ** 31, codec: 2, crc: CRC_HIGH, zcrc: 0xffffffff, cut: 0,
        cols: { at: 1, length: 2, codec: 2, size: 3, crc: 4, zcrc: 0xffffffff },
        vars: { at: 5, length: 6, codec: 1, size: 7, crc: 8, zcrc: 0 },
        tcounts: { at: 9, length: 10, codec: 1, size: 11, crc: 12, zcrc: 13 },
        pieces: 3
      }
    ]
  }
  const back = unpackFooter(packFooter(footer))
  t.strictSame(back, footer)
  t.notOk(Object.is(unpackFooter(packFooter(footer)).blocks[0], back.blocks[0]), 'each open gets its own objects')
})

t.test('footers of files in every format version come back as storedFooter makes them', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-packed-'))
  const levels = ['DEBUG', 'INFO', 'WARNING', 'ERROR']
  for (let version = 1; version <= FORMAT_VERSION; version++) {
    const name = `maap-20260101T000000Z-00000${version}.ndjson`
    const lines: string[] = []
    for (let i = 0; i < 600; i++) {
      lines.push(JSON.stringify({ timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), level: levels[i % 4], app_name: `app-${i % 3}`, message: `request ${i} took ${i % 97} ms`, _id: String(i) }))
    }
    writeFileSync(join(dir, name), lines.join('\n') + '\n')
    await compactSegment(dir, name, 4096, version > 1, version)
    const fh = await open(join(dir, `${name}.z`), 'r')
    const stored = storedFooter(await readFooter(fh, name))
    await fh.close()
    t.ok(stored.blocks.length > 3, `version ${version}: ${stored.blocks.length} blocks`)
    t.same(unpackFooter(packFooter(stored)), stored, `version ${version}`)
  }
})
