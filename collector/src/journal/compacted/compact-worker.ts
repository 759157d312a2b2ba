// The compaction worker thread: one segment at a time, as the main thread asks.
//
//   main ──{ id, dir, name }──► compactSegment ──{ id, bytesIn, bytesOut } or { id, error }──► main
import { parentPort } from 'node:worker_threads'
import { compactSegment } from './compact-segment'

export interface CompactRequest {
  id: number
  dir: string
  name: string
}

export type CompactReply = { id: number, bytesIn: number, bytesOut: number, blocks: number } | { id: number, error: string }

parentPort?.on('message', (req: CompactRequest) => {
  compactSegment(req.dir, req.name).then(
    r => parentPort!.postMessage({ id: req.id, ...r } satisfies CompactReply),
    (err: Error) => parentPort!.postMessage({ id: req.id, error: err.message } satisfies CompactReply)
  )
})
