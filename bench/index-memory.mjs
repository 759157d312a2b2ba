// The heap a reading collector keeps for each block it has stored (issue #24, "reads under load": RSS grew
// with the data stored, ~4 KB per MiB block in the main thread and ~2 KB in each scan thread). Measured on
// the compacted LOG_DIR that bench:count makes, after a full GC, for this build and, side by side, for a
// baseline build when BENCH_BASELINE_ROOT names one (a checkout with its collector/dist built).
//
//   per build (a child process, --expose-gc): every segment ─► BlockIndex.blocks (main thread: the index and
//   the footer cache it fills) ─► heap delta / blocks
//                                             ─► each footer as a scan thread keeps it (packed, storedFooter
//   or the whole parsed footer: what that build's scan-worker.ts kept) ─► heap delta / blocks
// The heap counted is V8's and the ArrayBuffers outside it (a packed footer's numbers are there).
//
// BENCH_DIR (the bench:count directory; its logs/ must be compacted), BENCH_BASELINE_ROOT (optional).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))

async function measure (root, logs) {
  const require = createRequire(join(root, 'collector', 'package.json'))
  const { BlockIndex } = require(join(root, 'collector', 'dist', 'read', 'block-index.js'))
  const segmentFile = require(join(root, 'collector', 'dist', 'journal', 'segment-file.js'))
  const format = require(join(root, 'collector', 'dist', 'journal', 'compacted', 'format.js'))
  const packedFile = join(root, 'collector', 'dist', 'journal', 'compacted', 'packed-footer.js')
  const packed = existsSync(packedFile) ? require(packedFile) : undefined
  const names = readdirSync(logs).filter(f => f.endsWith('.z')).map(f => f.slice(0, -2)).sort()
  const heap = () => {
    globalThis.gc()
    globalThis.gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }

  const sizes = []
  for (const n of names) {
    const f = await segmentFile.openSegment(logs, n, { cacheFooter: false })
    sizes.push(f.size)
    await f.close()
  }
  const before = heap()
  const index = new BlockIndex(logs)
  let blocks = 0
  for (let i = 0; i < names.length; i++) blocks += (await index.blocks(names[i], sizes[i])).length
  const main = heap() - before

  const kept = []
  const start = heap()
  for (const n of names) {
    // Parsed here, not through a cache the index above may have filled: the thread's own copy.
    const path = join(logs, `${n}.z`)
    const bytes = readFileSync(path)
    const trailer = bytes.length - format.TRAILER_BYTES
    const length = bytes.readUInt32LE(trailer)
    const footer = format.parseFooter(path, bytes.subarray(trailer - length, trailer), bytes.readUInt32LE(trailer + 4), bytes.length, bytes[bytes.length - 1])
    const stored = format.storedFooter === undefined ? footer : format.storedFooter(footer)
    kept.push(packed === undefined ? stored : packed.packFooter(stored))
  }
  const thread = heap() - start
  return { segments: names.length, blocks, mainKB: main / blocks / 1024, threadKB: thread / blocks / 1024, keep: [index, kept.length] }
}

if (process.argv[2] === '--child') {
  const r = await measure(process.argv[3], process.argv[4])
  delete r.keep
  process.stdout.write(JSON.stringify(r))
} else {
  const dir = process.env.BENCH_DIR ?? join(tmpdir(), 'bench-count-500000')
  const logs = join(dir, 'logs')
  const builds = [['this build', resolve(HERE, '..')]]
  if (process.env.BENCH_BASELINE_ROOT !== undefined) builds.unshift(['baseline', resolve(process.env.BENCH_BASELINE_ROOT)])
  const scanThreads = 2
  console.log(`LOG_DIR ${logs}`)
  for (const [label, root] of builds) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', root, logs], { encoding: 'utf8' })
    const r = JSON.parse(out)
    const perBlock = r.mainKB + scanThreads * r.threadKB
    console.log(`${label.padEnd(10)}  ${r.blocks} blocks in ${r.segments} segments: main thread ${r.mainKB.toFixed(2)} KB a block (index + footer cache), ` +
      `a scan thread ${r.threadKB.toFixed(2)} KB; with ${scanThreads} scan threads ${perBlock.toFixed(2)} KB a block = ${perBlock.toFixed(1)} MB of heap per GiB stored`)
  }
}
