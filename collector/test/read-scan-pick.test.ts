// A search's picks in the scan threads (read/scan-worker.ts `pick`, read/scan-pool.ts `session`), over real
// compacted segments and real threads: the lines a thread picks for a candidate — rebuilt one by one from
// the stored lines and the columns — are byte for byte the lines the main thread's own path picks and
// reads (the whole block rebuilt and checked); a footer without the stored bytes' crc (zcrc) is read by
// rebuilding each block whole and checking the original's crc; damage, NDJSON and a gone file answer
// undefined (the main thread reads the candidate its own way and reports the damage); a session closed
// with picks still queued answers them undefined; a thread that dies mid-pick hands its candidate back.
import t from 'tap'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { open } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { FORMAT_VERSION, FORMAT_VERSION_3, FORMAT_VERSION_4, footerBytes, type Footer } from '../src/journal/compacted/format'
import { readFooter } from '../src/journal/segment-file'
import { ColumnReader, pickLines } from '../src/read/column-scan'
import { ColumnQuery } from '../src/read/columns'
import { candidates, journalEvents, type Candidate } from '../src/read/journal-search'
import { parseReadQuery } from '../src/read/query'
import { ScanPool, configureScanPool, scanPool, type ScanItem } from '../src/read/scan-pool'
import { pick, type PickedLines } from '../src/read/scan-worker'
import { blockBuffers } from '../src/read/block-buffers'
import { NOW, compactedCopies, journalOf } from './columns-data'

const WORKER = resolve(__dirname, '..', 'src', 'read', 'scan-worker.ts')
const NL = 10

/** The generated segments, NDJSON and compacted (columns-data.ts). */
async function segments (version?: number): Promise<{ base: string, ndjson: string, cols: string, names: string[] }> {
  return await compactedCopies('maap-scan-pick-', version)
}

const itemOf = (c: Candidate): ScanItem => ({ dir: c.source.index.dir, segment: c.block.segment, start: c.block.start, end: c.block.end, minOffset: c.minOffset })

/** What the main thread's own path picks for `c`: each picked line's text and whether it is undecided. */
async function pickedHere (reader: ColumnReader, cq: ColumnQuery, c: Candidate): Promise<Array<[string, boolean]> | undefined> {
  const spans = await reader.read(c, [])
  if (spans === undefined) return undefined
  const picked = pickLines(c, spans, cq)
  const bytes = await reader.lines(c, spans, picked, blockBuffers)
  const out: Array<[string, boolean]> = []
  for (let s = 0; s < spans.length; s++) {
    const { buf, got, first } = bytes[s]!
    for (const v of picked[s]!) {
      const i = v >> 1
      const from = spans[s]!.cols.starts[i]! - first
      let to = Math.min(spans[s]!.cols.starts[i + 1]! - first, got)
      if (buf[to - 1] === NL) to--
      out.push([buf.toString('utf8', from, to), (v & 1) === 1])
    }
    if (bytes[s]!.lent !== undefined) blockBuffers.give(bytes[s]!.lent!)
  }
  return out
}

function linesOf (p: PickedLines | undefined): Array<[string, boolean]> | undefined {
  if (p === undefined) return undefined
  const out: Array<[string, boolean]> = []
  let from = 0
  for (let k = 0; k < p.ends.length; k++) {
    const end = p.ends[k]!
    out.push([Buffer.from(p.lines).toString('utf8', from, p.lines[end - 1] === NL ? end - 1 : end), p.undecided[k] === 1])
    from = end
  }
  return out
}

/**
 * Writes `bytes` as a new file in place of `path` (a new inode, as any file the collector writes is): a
 * scan thread keeps what it read of a file by path, size, mtime and inode.
 */
function replace (path: string, bytes: Buffer): void {
  writeFileSync(path + '.new', bytes)
  renameSync(path + '.new', path)
}

/** The footer of `path`, and a function that writes the file back with another footer. */
async function footerOf (path: string): Promise<{ footer: Footer, rewrite: (f: Footer) => void }> {
  const fh = await open(path, 'r')
  const footer = structuredClone(await readFooter(fh, path))
  await fh.close()
  const bytes = readFileSync(path)
  const jsonLength = bytes.readUInt32LE(bytes.length - 16)
  const dataEnd = bytes.length - 16 - jsonLength
  // Rewritten in the file's own version (its header's last byte).
  return { footer, rewrite: f => replace(path, Buffer.concat([bytes.subarray(0, dataEnd), footerBytes(f, bytes[7])])) }
}

const QUERIES = [{ q: 'timeout' }, { q: 'ki', level: 'warn' }, { q: 'i', app_name: 'api,web' }, { q: '"timeout"' },
  { q: 'TIME', from: new Date(NOW - 6 * 86_400_000).toISOString(), to: new Date(NOW - 2 * 86_400_000 - 1234).toISOString() }]

t.test('a thread picks, line for line, what the main thread picks and reads (format 4 files too: vars without lengths, brotli columns)', async t => {
  for (const version of [FORMAT_VERSION, FORMAT_VERSION_4]) await t.test(`format ${version}`, async t => { await threadAsHere(t, version) })
})

async function threadAsHere (t: Tap.Test, version: number): Promise<void> {
  const { base, cols, names } = await segments(version)
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const reader = new ColumnReader()
  t.teardown(async () => await reader.close())
  let lines = 0
  let undecided = 0
  for (const params of QUERIES) {
    const q = parseReadQuery(params, { now: NOW })
    const cq = ColumnQuery.of(q)!
    const blocks = await candidates(await journalOf(cols, names).sources(), q, false)
    t.ok(blocks.length > 5, `${JSON.stringify(params)}: ${blocks.length} candidates`)
    for (const c of blocks) {
      const want = await pickedHere(reader, cq, c)
      const got = linesOf(pick(cq, itemOf(c)))
      t.same(got, want, `${JSON.stringify(params)} ${c.block.segment} at ${c.block.start}`)
      lines += want?.length ?? 0
      undecided += want?.filter(([, u]) => u).length ?? 0
    }
  }
  t.ok(lines > 500, `${lines} lines picked`)
  t.ok(undecided > 0, `${undecided} of them left to the exact test`)
}

t.test('a footer without zcrc: blocks rebuilt whole and checked by the original\'s crc; damage and absence answer undefined', async t => {
  // Footers without zcrc were written in format 3 (lines in one stream); format 4's pieces need them.
  const { base, ndjson, cols, names } = await segments(FORMAT_VERSION_3)
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const q = parseReadQuery({ q: 'timeout' }, { now: NOW })
  const cq = ColumnQuery.of(q)!
  const blocks = (await candidates(await journalOf(cols, names).sources(), q, false)).filter(c => c.block.segment === names[0])
  const before = blocks.map(c => linesOf(pick(cq, itemOf(c))))
  t.ok(before.every(p => p !== undefined) && before.some(p => p!.length > 0), 'picked with zcrc')
  const plain = (await candidates(await journalOf(ndjson, names).sources(), q, false))[0]!
  // The thread keeps the file it read last open, with its footer (compacted files never change): a pick
  // elsewhere makes it open the file rewritten here afresh.
  const afresh = (): void => { t.equal(pick(cq, itemOf(plain)), undefined, 'an NDJSON segment: handed back') }
  const path = join(cols, names[0]! + '.z')
  const { footer, rewrite } = await footerOf(path)
  const victim = footer.blocks[1]!
  const older = structuredClone(footer)
  for (const b of older.blocks) {
    delete b.zcrc
    delete b.cols!.zcrc
  }
  rewrite(older)
  afresh()
  t.same(blocks.map(c => linesOf(pick(cq, itemOf(c)))), before, 'the same lines without zcrc')
  // The original's crc catches stored lines that decode but are not the block's (no zcrc to catch them first).
  rewrite({ ...older, blocks: older.blocks.map(b => b === older.blocks[1] ? { ...b, crc: (b.crc + 1) >>> 0 } : b) })
  afresh()
  const inVictim = blocks.filter(c => c.block.start < victim.end && c.block.end > victim.start)
  t.ok(inVictim.length > 0)
  const wrong = inVictim.map(c => pick(cq, itemOf(c)))
  t.ok(wrong.some(p => p === undefined), 'a block whose original does not match its crc: handed back')
  // With zcrc: a flipped byte in the stored lines fails it before anything is decoded.
  rewrite(footer)
  const bytes = readFileSync(path)
  bytes[victim.at + 5] = bytes[victim.at + 5]! ^ 0xff
  replace(path, bytes)
  afresh()
  const picks = inVictim.map(c => pick(cq, itemOf(c)))
  t.ok(picks.some(p => p === undefined), 'damaged stored lines: handed back')
  t.equal(pick(cq, { ...itemOf(plain), segment: 'maap-00000000T000000Z-000000.ndjson' }), undefined, 'a segment that is gone: handed back')
})

t.test('a session through real threads: picks in order, closed with picks queued, a thread that dies', async t => {
  const { base, cols, names } = await segments()
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const q = parseReadQuery({ q: 'timeout' }, { now: NOW })
  const cq = ColumnQuery.of(q)!
  const blocks = await candidates(await journalOf(cols, names).sources(), q, false)
  // The process's pool: the next test searches through it (threads that load the TypeScript take seconds to start).
  configureScanPool(2, WORKER)
  const pool = scanPool()!
  const session = pool.session({ text: q.text, from: q.from, to: q.to, levels: q.levels, apps: q.apps })
  const got = await Promise.all(blocks.map(async c => linesOf(await session.pick(itemOf(c)))))
  t.same(got, blocks.map(c => linesOf(pick(cq, itemOf(c)))), 'each candidate\'s lines, as picked in this thread')
  const s = pool.status()
  t.equal(s.started, 2, 'both threads ran')
  t.ok(s.blocks >= blocks.length, `${s.blocks} blocks picked in the threads`)
  // Many picks, then the session closes: those still queued answer undefined, none is left hanging.
  const many = Array.from({ length: 20 }, () => blocks).flat().map(async c => await session.pick(itemOf(c)))
  session.close()
  const after = await Promise.all(many)
  t.ok(after.some(p => p === undefined), `${after.filter(p => p === undefined).length} of ${after.length} answered undefined once closed`)
  t.equal(await session.pick(itemOf(blocks[0]!)), undefined, 'a closed session picks nothing')
  // A pool whose thread dies mid-pick: the candidate comes back undefined, for the main thread to read.
  const dying = join(base, 'dying.js')
  writeFileSync(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(3))\n")
  const broken = new ScanPool(1, dying)
  t.teardown(async () => await broken.close())
  const lost = broken.session({ text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined })
  t.equal(await lost.pick(itemOf(blocks[0]!)), undefined, 'the dead thread\'s candidate handed back')
  t.ok(broken.status().failures >= 1, 'the death counted')
  lost.close()
  // A thread holds the pick it runs and the next: one that dies holding two hands both back.
  const dies = new ScanPool(1, dying)
  t.teardown(async () => await dies.close())
  const both = dies.session({ text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined })
  t.same(await Promise.all([both.pick(itemOf(blocks[0]!)), both.pick(itemOf(blocks[1]!))]), [undefined, undefined], 'both candidates handed back')
  both.close()
})

t.test('a thread is given the next pick before it answers this one; a count waits for a thread of its own', async t => {
  const base = mkdtempSync(join(tmpdir(), 'maap-scan-pick-two-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  // A thread that answers nothing until it holds two picks, then both, in order (a count: at once, nothing counted).
  const pairs = join(base, 'pairs.js')
  writeFileSync(pairs, `const { parentPort } = require('node:worker_threads')
const held = []
parentPort.on('message', req => {
  if (req.code === 'count') {
    // Given beside a pick: answered as a failure, which hands the count's items back.
    return parentPort.postMessage(held.length > 0 ? { code: 'error', id: req.id, message: 'a count beside a pick' } : { code: 'done', id: req.id, counts: new Float64Array(0), undecided: [], fallback: [], blocks: 0, fromTemplateCounts: 0 })
  }
  if (req.code !== 'pick') return
  held.push(req.id)
  if (held.length < 2) return
  for (const id of held.splice(0)) parentPort.postMessage({ code: 'picked', id, picked: undefined, blocks: 1 })
})
`)
  const pool = new ScanPool(1, pairs)
  t.teardown(async () => await pool.close())
  const item: ScanItem = { dir: base, segment: 'maap-20260101T000000Z-000001', start: 0, end: 1, minOffset: 0 }
  const session = pool.session({ text: 'timeout', from: undefined, to: undefined, levels: undefined, apps: undefined })
  // With one pick at a time the first would wait forever for a second that is never sent.
  t.same(await Promise.all([session.pick(item), session.pick(item)]), [undefined, undefined], 'both answered: the thread held both')
  t.equal(pool.status().blocks, 2)
  // A count is never given to a thread that holds a pick: it runs across turns of the thread, where a
  // pick's messages would cross it. Here it waits for the thread, which answers once the next pick arrives.
  const first = session.pick(item)
  const range = { fromMs: 0, toMs: Infinity, first: 0, intervalMs: 1, buckets: 1 }
  const counted = pool.count([item], { text: 'x', from: undefined, to: undefined, levels: undefined, apps: undefined }, range, new AbortController().signal)
  const second = session.pick(item)
  t.same(await Promise.all([first, second]), [undefined, undefined])
  t.same((await counted).fallback, [], 'the count answered after the picks')
  session.close()
})

t.test('searches over NDJSON and compacted segments at once answer through the threads as over NDJSON alone', async t => {
  const { base, ndjson, cols, names } = await segments()
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  // The newest segment still NDJSON, as the one being written is: the threads hand it back, it is read here.
  const mixed = join(base, 'mixed')
  mkdirSync(mixed)
  copyFileSync(join(ndjson, names[2]!), join(mixed, names[2]!))
  for (const n of names.slice(0, 2)) copyFileSync(join(cols, n + '.z'), join(mixed, n + '.z'))
  // Text, text with app and level, app and level alone (picked in the threads too), a field (the exact test), a window.
  const queries = [{ q: 'timeout' }, { q: 'i', app_name: 'api,web', level: 'warn' }, { app_name: 'we"b', level: 'error' }, { q: 'ki', 'f.ctx.tag': 't1' },
    { q: 'TIME', from: new Date(NOW - 6 * 86_400_000).toISOString(), to: new Date(NOW - 2 * 86_400_000 - 1234).toISOString() }]
  const hits = async (dir: string): Promise<string[][]> => {
    const out: string[][] = []
    for (const params of queries) {
      const lines: string[] = []
      for await (const hit of journalEvents(await journalOf(dir, names).sources(), parseReadQuery(params, { now: NOW }), { snapshot: undefined, unconfirmedOnly: false })) lines.push(hit.line)
      out.push(lines)
    }
    return out
  }
  // The pool the last test started (threads that load the TypeScript take seconds to start). Over NDJSON
  // alone it hands every segment back: the answer is the main thread's own reading.
  t.ok(scanPool() !== undefined, 'the scan threads are there')
  t.teardown(async () => {
    await scanPool()?.close()
    configureScanPool(0)
  })
  const want = await hits(ndjson)
  t.ok(want.every(lines => lines.length > 0), `every query finds something: ${want.map(l => l.length).join(', ')}`)
  const before = scanPool()!.status().blocks
  t.same(await hits(mixed), want, 'every answer as over NDJSON, in the same order')
  t.ok(scanPool()!.status().blocks > before, 'the threads picked blocks')
})
