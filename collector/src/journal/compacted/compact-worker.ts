// The compaction worker thread: one segment at a time, as the main thread asks.
//
//   main ──{ id, dir, name }──► compactSegment ──► full collection ──{ id, bytesIn, bytesOut, heldBytes }
//                                                                     or { id, error, code, heldBytes }──► main
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parentPort } from 'node:worker_threads'
import { compactSegment } from './compact-segment'

export interface CompactRequest {
  id: number
  dir: string
  name: string
}

/**
 * `code`: the error's errno code, if any (ENOENT: the segment is gone, e.g. retention deleted it).
 * `heldBytes`: the thread's ArrayBuffer memory once the segment is done and collected, which is what it
 * keeps while idle (tests hold it flat from segment to segment).
 */
export type CompactReply = ({ id: number, bytesIn: number, bytesOut: number, blocks: number, gone?: true } | { id: number, error: string, code?: string }) & { heldBytes?: number }

/**
 * A full collection after each segment (issue #24). A segment's blocks allocate ~17 MB of Buffers for a
 * 38 MB segment; the ones that outlive a scavenge wait for a full collection, which V8 starts only when
 * external memory has grown by tens of MB. So the thread went from ~8 MB idle to 25–50 MB while it
 * worked, and a collector's RSS swung by that much with when its segments closed. Collected after each
 * segment, the thread holds ~4 MB of buffers working or idle (a harness compacting one 38 MB read-load
 * segment over and over: a process at 35–40 MB of anonymous RSS against 75–91 MB). The two collections
 * take ~20 ms; with the memory given back and touched again, a segment costs this thread ~13 % more CPU
 * (1,070–1,094 ms against 945–956): ~1 % of a core per worker at 20,000 events/s, off the ingest path.
 * `gc` is exposed only long enough to take it, and only in a context of its own (as jest's leak detector does).
 * Twice: V8 frees the dead Buffers' memory on a background thread after a collection, and the next one
 * waits for that, so after the second `heldBytes` is what the thread keeps, not what it is still freeing
 * (a few ms more: the first left nothing to mark).
 */
function fullCollection (): () => void {
  setFlagsFromString('--expose-gc')
  try {
    return runInNewContext('gc') as () => void
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
}
const collect = fullCollection()

parentPort?.on('message', (req: CompactRequest) => {
  compactSegment(req.dir, req.name).then(
    r => ({ id: req.id, ...r }),
    (err: NodeJS.ErrnoException) => ({ id: req.id, error: err.message, ...(err.code === undefined ? {} : { code: err.code }) })
  ).then(reply => {
    collect()
    collect()
    parentPort!.postMessage({ ...reply, heldBytes: process.memoryUsage().arrayBuffers } satisfies CompactReply)
  })
})
