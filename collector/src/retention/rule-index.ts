// The index that serves RETENTION_RULES' deletes on mongod: a rule's filter is app_name $in, level $in and
// timestamp $lt (rules by app alone or level alone are served by the read indexes, read/mongo-indexes.ts,
// and the default by the { timestamp: 1 } index). Created once, when there are rules; FerretDB accepts it.
import type { Collection, Document } from 'mongodb'

export const RULE_INDEX = { key: { app_name: 1, level: 1, timestamp: 1 }, name: 'maap_retention_app_level_time' } as const

export async function ensureRuleIndex (coll: Collection<Document>): Promise<void> {
  await coll.createIndex({ ...RULE_INDEX.key }, { name: RULE_INDEX.name })
}
