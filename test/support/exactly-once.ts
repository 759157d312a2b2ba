// The fault suite's measure: which `seq` values (load.ts) are in MongoDB, and how often — and the same
// for any field, for the end-to-end tests that number their records.
import type { Collection } from 'mongodb'

/** seq → how many documents carry it. */
export async function seqCounts (coll: Collection): Promise<Map<number, number>> {
  return await fieldCounts<number>(coll, 'seq')
}

/**
 * Value of `field` → how many documents carry it, in one scan of the collection. FerretDB counts by
 * scanning too (countDocuments, even estimatedDocumentCount), so one pass that yields the total (the sum),
 * the distinct values (the size) and each value's count costs what a single countDocuments costs.
 */
export async function fieldCounts<V = unknown> (coll: Collection, field: string): Promise<Map<V, number>> {
  const counts = new Map<V, number>()
  for await (const d of coll.find({}, { projection: { _id: 0, [field]: 1 } })) counts.set(d[field] as V, (counts.get(d[field] as V) ?? 0) + 1)
  return counts
}

/** How many documents a fieldCounts() map stands for. */
export function totalOf (counts: Map<unknown, number>): number {
  let n = 0
  for (const c of counts.values()) n += c
  return n
}

/** Every acknowledged seq is stored, and no seq is stored twice. */
export function assertExactlyOnce (t: { equal: (found: unknown, wanted: unknown, message: string) => void }, acked: Set<number>, counts: Map<number, number>): void {
  let missing = 0
  let duplicated = 0
  for (const seq of acked) {
    const n = counts.get(seq) ?? 0
    if (n === 0) missing++
    if (n > 1) duplicated++
  }
  for (const n of counts.values()) if (n > 1) duplicated++
  t.equal(missing, 0, `every one of ${acked.size} acknowledged events is stored`)
  t.equal(duplicated, 0, 'no event is stored twice')
}
