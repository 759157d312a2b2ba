// Inserts journal batches into MongoDB and sorts every failure into one of three outcomes:
//   stored     — inserted, or a duplicate key on replay (the _id was fixed at ingest, so it is there);
//   rejected   — the server refused that one document for good: dead-lettered, its neighbours kept;
//   transient  — network, no primary, write concern…: thrown as TransientMongoError, the batch is kept.
import { MongoClient, MongoBulkWriteError, type Collection, type Document, type ObjectId } from 'mongodb'
import { lineToDocument } from './documents'
import type { DeadLetterEntry } from './dead-letter'

export interface InsertOutcome {
  stored: number
  duplicates: number
  rejected: DeadLetterEntry[]
}

export interface PreparedBatch {
  docs: Document[]
  /** The journal line of each document, for the dead-letter file. */
  lines: string[]
  rejected: DeadLetterEntry[]
}

export class TransientMongoError extends Error {
  constructor (cause: Error) {
    super(`MongoDB is unreachable or not accepting writes: ${cause.message}`, { cause })
    this.name = 'TransientMongoError'
  }
}

const DUPLICATE_KEY = 11000
// Errors that belong to a document rather than to the server's state: a batch failing with one of these
// is split to find the document, which is then dead-lettered.
const DOCUMENT_ERROR_CODES = new Set([2, 9, 22, 10334, 17419, 17420])

function isDocumentError (err: unknown): boolean {
  const e = err as { name?: string, code?: unknown }
  if (e.name === 'BSONError' || e.name === 'MongoInvalidArgumentError' || e.name === 'BSONVersionError') return true
  return typeof e.code === 'number' && DOCUMENT_ERROR_CODES.has(e.code)
}

export class MongoSink {
  readonly client: MongoClient
  readonly collection: Collection<Document>

  constructor (uri: string, dbName: string, collectionName: string) {
    // A flush waiting on an unreachable server should fail within seconds, not the driver's 30 s;
    // a value in the URI wins.
    const uriSetsTimeout = /[?&]serverSelectionTimeoutMS=/i.test(uri)
    this.client = new MongoClient(uri, { appName: 'maap-collector', ...(uriSetsTimeout ? {} : { serverSelectionTimeoutMS: 5000 }) })
    this.collection = this.client.db(dbName).collection(collectionName)
  }

  private connecting: Promise<unknown> | undefined

  /**
   * Connects once; after a failed attempt the next call tries again. (The driver closes its topology
   * when the first connect fails, and every operation then fails with "Topology is closed" until
   * connect() is called again; once connected, it reconnects by itself.)
   */
  async connect (): Promise<void> {
    this.connecting ??= this.client.connect().catch((err: Error) => {
      this.connecting = undefined
      throw new TransientMongoError(err)
    })
    await this.connecting
  }

  /** Turns journal lines into documents; a line that cannot be read is rejected right away. */
  prepare (lines: readonly string[]): PreparedBatch {
    const batch: PreparedBatch = { docs: [], lines: [], rejected: [] }
    for (const line of lines) {
      try {
        batch.docs.push(lineToDocument(line))
        batch.lines.push(line)
      } catch (err) {
        batch.rejected.push({ line, reason: `unreadable journal line: ${(err as Error).message}`, code: 'journal' })
      }
    }
    return batch
  }

  /** Inserts a prepared batch; throws TransientMongoError when it must be retried later. */
  async insert (batch: PreparedBatch): Promise<InsertOutcome> {
    await this.connect()
    const outcome: InsertOutcome = { stored: 0, duplicates: 0, rejected: [...batch.rejected] }
    await this.insertDocs(batch.docs, batch.lines, outcome)
    return outcome
  }

  private async insertDocs (docs: Document[], lines: string[], outcome: InsertOutcome): Promise<void> {
    if (docs.length === 0) return
    try {
      await this.collection.insertMany(docs, { ordered: false })
      outcome.stored += docs.length
    } catch (err) {
      if (err instanceof MongoBulkWriteError && err.writeErrors !== undefined && !err.writeConcernError) {
        const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]
        if (writeErrors.length > 0) {
          const present = await this.storedIds(writeErrors.filter(we => we.code === DUPLICATE_KEY).map(we => docs[we.index]!._id as ObjectId))
          let duplicates = 0
          for (const we of writeErrors) {
            if (we.code === DUPLICATE_KEY && present.has(String(docs[we.index]!._id))) {
              duplicates++
            } else {
              outcome.rejected.push({ line: lines[we.index]!, reason: we.errmsg ?? 'rejected by MongoDB', code: we.code })
            }
          }
          outcome.duplicates += duplicates
          outcome.stored += docs.length - writeErrors.length + duplicates
          return
        }
      }
      if (isDocumentError(err)) {
        if (docs.length === 1) {
          const e = err as { message: string, code?: number }
          outcome.rejected.push({ line: lines[0]!, reason: e.message, code: e.code })
          return
        }
        const half = docs.length >> 1
        await this.insertDocs(docs.slice(0, half), lines.slice(0, half), outcome)
        await this.insertDocs(docs.slice(half), lines.slice(half), outcome)
        return
      }
      throw new TransientMongoError(err as Error)
    }
  }

  /**
   * Which of these _ids are already in the collection. A duplicate-key error on replay means "already
   * stored" only when it is the _id that collided; another unique index colliding is a real rejection,
   * and not every server names the index in its message, so ask.
   */
  private async storedIds (ids: ObjectId[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const found = await this.collection.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()
    return new Set(found.map(d => String(d._id)))
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}
