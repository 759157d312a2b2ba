// How much a collection holds, for MAX_COLLECTION_SIZE: mongod and FerretDB answer this differently.
import type { Collection, Document } from 'mongodb'
import { codeOf, NAMESPACE_NOT_FOUND } from './server-codes'

export interface CollectionSize {
  /** Bytes of document data (collStats `size`). */
  size: number
  count: number
  avgObjSize: number
}

/**
 * The collection's data size. Uses the `collStats` command's `size`: on mongod the uncompressed BSON size of the
 * documents (indexes excluded); on FerretDB (SQLite) the bytes of the pages that hold the documents, which
 * shrinks as documents are deleted. Falls back to `$collStats: { storageStats }` where the command is not
 * available (on FerretDB v1.24 that `storageStats.size` includes the indexes, so it is only the fallback).
 */
export async function collectionSize (coll: Collection<Document>): Promise<CollectionSize> {
  let stats: Document
  try {
    stats = await coll.db.command({ collStats: coll.collectionName })
  } catch (err) {
    const code = codeOf(err)
    if (code === NAMESPACE_NOT_FOUND) return { size: 0, count: 0, avgObjSize: 0 }
    if (code === undefined) throw err
    try {
      const [doc] = await coll.aggregate([{ $collStats: { storageStats: {} } }]).toArray()
      stats = (doc?.storageStats as Document | undefined) ?? {}
    } catch (aggErr) {
      if (codeOf(aggErr) === NAMESPACE_NOT_FOUND) return { size: 0, count: 0, avgObjSize: 0 }
      throw aggErr
    }
  }
  const size = Number(stats.size ?? 0)
  const count = Number(stats.count ?? 0)
  const avg = Number(stats.avgObjSize ?? 0)
  return { size, count, avgObjSize: avg > 0 ? avg : count > 0 ? size / count : 0 }
}
