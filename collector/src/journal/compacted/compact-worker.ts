// The compaction worker thread: one segment at a time, as the main thread asks.
//
//   main ──{ id, dir, name }──► compactSegment ──{ id, bytesIn, bytesOut } or { id, error, code }──► main
import { parentPort } from 'node:worker_threads'
import { compactSegment } from './compact-segment'

export interface CompactRequest {
  id: number
  dir: string
  name: string
}

/** `code`: the error's errno code, if any (ENOENT: the segment is gone, e.g. retention deleted it). */
export type CompactReply = { id: number, bytesIn: number, bytesOut: number, blocks: number, gone?: true } | { id: number, error: string, code?: string }

parentPort?.on('message', (req: CompactRequest) => {
  compactSegment(req.dir, req.name).then(
    r => parentPort!.postMessage({ id: req.id, ...r } satisfies CompactReply),
    (err: NodeJS.ErrnoException) => parentPort!.postMessage({ id: req.id, error: err.message, ...(err.code === undefined ? {} : { code: err.code }) } satisfies CompactReply)
  )
})
