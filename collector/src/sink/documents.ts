// Journal lines back to MongoDB documents: the journal keeps `_id` as hex and dates as ISO strings so
// that it stays plain, human-readable NDJSON.
import { ObjectId, type Document } from 'mongodb'

export function lineToDocument (line: string): Document {
  const doc = JSON.parse(line) as Document
  if (typeof doc._id !== 'string' || typeof doc.timestamp !== 'string' || typeof doc.received_at !== 'string') {
    throw new Error('not a collector journal line (_id, timestamp or received_at missing)')
  }
  doc._id = ObjectId.createFromHexString(doc._id)
  doc.timestamp = new Date(doc.timestamp)
  doc.received_at = new Date(doc.received_at)
  return doc
}
