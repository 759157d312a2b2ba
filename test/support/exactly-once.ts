// The fault suite's measure: which `seq` values (load.ts) are in MongoDB, and how often.
import type { Collection } from 'mongodb'

/** seq → how many documents carry it. */
export async function seqCounts (coll: Collection): Promise<Map<number, number>> {
  const counts = new Map<number, number>()
  for await (const d of coll.find({}, { projection: { seq: 1 } })) counts.set(d.seq as number, (counts.get(d.seq as number) ?? 0) + 1)
  return counts
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
