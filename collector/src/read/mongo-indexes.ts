// Indexes that serve the read API's queries (newest first, by app, by level), created at start. On
// mongod they make a filtered page a matter of milliseconds; FerretDB accepts them (design.md says what
// they do there). Failing to create them never stops the collector: it is retried until it succeeds.
import type { Collection, Document } from 'mongodb'

export const READ_INDEXES = [
  { key: { timestamp: -1, _id: -1 }, name: 'maap_read_time' },
  { key: { app_name: 1, timestamp: -1, _id: -1 }, name: 'maap_read_app_time' },
  { key: { level: 1, timestamp: -1, _id: -1 }, name: 'maap_read_level_time' }
] as const

export async function createReadIndexes (collection: Collection<Document>): Promise<void> {
  await collection.createIndexes(READ_INDEXES.map(i => ({ key: { ...i.key }, name: i.name })))
}
