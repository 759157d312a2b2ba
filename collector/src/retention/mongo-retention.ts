// Retention in MongoDB: LOG_RETENTION_DAYS, MAX_DOCUMENTS and MAX_COLLECTION_SIZE.
//
// Design (works on mongod and on FerretDB):
//  - The collection is an ordinary collection — never capped. Modern mongod refuses a TTL index on a
//    capped collection, and FerretDB's embedded build never trims capped collections.
//  - A TTL index on { timestamp: 1 } (expireAfterSeconds = LOG_RETENTION_DAYS) where the server supports it,
//    so mongod expires documents by itself. Servers without TTL (FerretDB answers 238 NotImplemented) get a
//    plain { timestamp: 1 } index instead, which the sweeper's queries use.
//  - A periodic sweeper (sweepCollection) that always runs: it deletes what is older than the retention
//    (the only expiry on servers without TTL, a safety net on the others — mongod's TTL monitor runs once a
//    minute and can fall behind), then trims the oldest documents while the collection holds more than
//    MAX_DOCUMENTS or more than MAX_COLLECTION_SIZE bytes of data.
//  - Every deletion is bounded: the sweeper fetches at most `chunkSize` _ids (1000 by default) with a query
//    the timestamp index serves, deletes exactly those by `_id: { $in }`, and repeats; it never holds a large
//    array, never asks the server for a big in-memory sort, and never runs one long delete.
import { MongoServerError, type Collection, type Document, type ObjectId } from 'mongodb'

export interface RetentionLimits {
  /** LOG_RETENTION_DAYS (fractions allowed); 0 = keep forever. */
  retentionDays: number
  /** MAX_DOCUMENTS; 0 = no cap. */
  maxDocuments: number
  /** MAX_COLLECTION_SIZE in bytes of document data; 0 = no cap. */
  maxCollectionSize: number
  /** Most documents fetched and deleted per round trip (default 1000). */
  chunkSize?: number
}

export interface IndexSetupResult {
  /** Whether a TTL index now expires documents; false → the sweeper is the only expiry. */
  ttl: boolean
  /** Why there is no TTL index, when ttl is false. */
  reason?: string
  /** What was done to the { timestamp: 1 } index this time. */
  action?: 'unchanged' | 'created' | 'modified' | 'recreated'
  /** Name of the { timestamp: 1 } index that is in place. */
  index?: string
}

export interface SweepResult {
  expired: number
  trimmedByCount: number
  trimmedBySize: number
}

export const TTL_INDEX_NAME = 'maap_ttl_timestamp'
/** Name of the plain index created when there is no TTL (retention 0, or a server without TTL). */
export const PLAIN_INDEX_NAME = 'maap_timestamp'
export const DEFAULT_CHUNK_SIZE = 1000

const DAY_SECONDS = 86_400
const DAY_MS = DAY_SECONDS * 1000
/** mongod's upper bound for expireAfterSeconds (a 32-bit int; about 68 years). */
const MAX_EXPIRE_AFTER_SECONDS = 2_147_483_647
const TIMESTAMP_KEY = { timestamp: 1 } as const

// Server error codes.
const NAMESPACE_NOT_FOUND = 26
const INDEX_NOT_FOUND = 27
const INDEX_OPTIONS_CONFLICT = 85
const INDEX_KEY_SPECS_CONFLICT = 86
const INDEX_ALREADY_EXISTS = 68
/** Codes with which a server refuses a TTL index as such: FerretDB 238 NotImplemented; mongod 72 InvalidOptions
 * (capped or time-series collection), 67 CannotCreateIndex; 115 CommandNotSupported. */
const TTL_REFUSED = new Set([238, 72, 67, 115])
/** Codes that mean another process changed the indexes under us: re-read and try again. */
const RACE = new Set([INDEX_NOT_FOUND, INDEX_OPTIONS_CONFLICT, INDEX_KEY_SPECS_CONFLICT, INDEX_ALREADY_EXISTS, 276, 12587])

function codeOf (err: unknown): number | undefined {
  return err instanceof MongoServerError && typeof err.code === 'number' ? err.code : undefined
}

function describe (err: unknown): string {
  if (err instanceof MongoServerError) return `code ${String(err.code)}${err.codeName ? ` ${err.codeName}` : ''}: ${err.message}`
  return (err as Error).message
}

function checkLimits (limits: RetentionLimits): void {
  for (const key of ['retentionDays', 'maxDocuments', 'maxCollectionSize'] as const) {
    const v = limits[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`retention: ${key} must be a finite number >= 0, got ${String(v)}`)
  }
  if (limits.chunkSize !== undefined && !(Number.isSafeInteger(limits.chunkSize) && limits.chunkSize >= 1)) {
    throw new RangeError(`retention: chunkSize must be a positive integer, got ${String(limits.chunkSize)}`)
  }
}

// ─── Index setup ──────────────────────────────────────────────────────────────────────────────────────────

interface IndexInfo extends Document { name: string, key: Document, expireAfterSeconds?: number }

/** Index description fields that carry no behaviour; any other field (unique, sparse, partialFilterExpression,
 * collation, hidden, …) is an option we did not ask for. */
const NEUTRAL_FIELDS = new Set(['v', 'key', 'name', 'ns', 'background', 'expireAfterSeconds'])

function isTimestampKey (key: Document | undefined): boolean {
  if (key === undefined || key === null) return false
  const fields = Object.keys(key)
  return fields.length === 1 && fields[0] === 'timestamp' && Number(key.timestamp) === 1
}

function hasOtherOptions (ix: IndexInfo): boolean {
  return Object.keys(ix).some(f => !NEUTRAL_FIELDS.has(f))
}

function ttlOf (ix: IndexInfo): number | undefined {
  return ix.expireAfterSeconds === undefined || ix.expireAfterSeconds === null ? undefined : Number(ix.expireAfterSeconds)
}

async function listIndexes (coll: Collection<Document>): Promise<IndexInfo[]> {
  try {
    return await coll.listIndexes().toArray() as IndexInfo[]
  } catch (err) {
    if (codeOf(err) === NAMESPACE_NOT_FOUND) return [] // the collection does not exist yet
    throw err
  }
}

async function dropIndexIfPresent (coll: Collection<Document>, name: string): Promise<void> {
  try {
    await coll.dropIndex(name)
  } catch (err) {
    if (codeOf(err) !== INDEX_NOT_FOUND && codeOf(err) !== NAMESPACE_NOT_FOUND) throw err
  }
}

/** Creates the wanted index on a collection that has no { timestamp: 1 } index; falls back to a plain one when
 * the server refuses TTL. */
async function createWanted (coll: Collection<Document>, ttlSeconds: number | undefined, noTtlReason: string,
  action: 'created' | 'recreated'): Promise<IndexSetupResult> {
  if (ttlSeconds !== undefined) {
    try {
      await coll.createIndex(TIMESTAMP_KEY, { name: TTL_INDEX_NAME, expireAfterSeconds: ttlSeconds })
      return { ttl: true, action, index: TTL_INDEX_NAME }
    } catch (err) {
      const code = codeOf(err)
      if (code === undefined || !TTL_REFUSED.has(code)) throw err
      noTtlReason = ttlRefusedReason(err)
    }
  }
  await coll.createIndex(TIMESTAMP_KEY, { name: PLAIN_INDEX_NAME })
  return { ttl: false, reason: noTtlReason, action, index: PLAIN_INDEX_NAME }
}

function ttlRefusedReason (err: unknown): string {
  return `the server refused a TTL index (${describe(err)}); the periodic sweeper enforces LOG_RETENTION_DAYS`
}

async function reconcile (coll: Collection<Document>, ttlSeconds: number | undefined, noTtlReason: string): Promise<IndexSetupResult> {
  const indexes = await listIndexes(coll)
  const onTimestamp = indexes.filter(ix => isTimestampKey(ix.key))
  const matching = onTimestamp.find(ix => !hasOtherOptions(ix) && ttlOf(ix) === ttlSeconds)
  if (matching !== undefined) {
    return ttlSeconds !== undefined
      ? { ttl: true, action: 'unchanged', index: matching.name }
      : { ttl: false, reason: noTtlReason, action: 'unchanged', index: matching.name }
  }

  if (ttlSeconds !== undefined && onTimestamp.length === 1 && !hasOtherOptions(onTimestamp[0]!)) {
    const existing = onTimestamp[0]!
    // Only the expiry differs (a changed LOG_RETENTION_DAYS, or a plain index to become TTL): collMod changes
    // it in place, without rebuilding the index (mongod 5.1+ also turns a plain index into a TTL index).
    try {
      await coll.db.command({ collMod: coll.collectionName, index: { keyPattern: TIMESTAMP_KEY, expireAfterSeconds: ttlSeconds } })
      return { ttl: true, action: 'modified', index: existing.name }
    } catch (collModErr) {
      if (ttlOf(existing) === undefined) {
        // Before dropping a good plain index, find out whether the server takes a TTL index at all: a server
        // without TTL would otherwise lose and rebuild its index on every start. Asking for the TTL index
        // next to the plain one is answered with a refusal (no TTL) or a conflict (TTL works, the plain
        // index is in the way).
        try {
          await coll.createIndex(TIMESTAMP_KEY, { name: TTL_INDEX_NAME, expireAfterSeconds: ttlSeconds })
          // Accepted next to the plain one (a server that allows it): the plain one is now redundant.
          await dropIndexIfPresent(coll, existing.name)
          return { ttl: true, action: 'recreated', index: TTL_INDEX_NAME }
        } catch (probeErr) {
          const code = codeOf(probeErr)
          if (code !== undefined && TTL_REFUSED.has(code)) {
            return { ttl: false, reason: ttlRefusedReason(probeErr), action: 'unchanged', index: existing.name }
          }
          if (code !== INDEX_OPTIONS_CONFLICT && code !== INDEX_KEY_SPECS_CONFLICT) throw probeErr
          // TTL is supported but collMod could not convert the index (an older mongod): drop and create below.
        }
      } else if (codeOf(collModErr) === undefined) {
        throw collModErr // not a server answer (network): let the caller retry later
      }
    }
  }

  // Anything else — other options (unique, sparse, partial, collation), a TTL index where none is wanted, or a
  // server whose collMod failed — is replaced: drop every { timestamp: 1 } variant and create the wanted one.
  for (const ix of onTimestamp) await dropIndexIfPresent(coll, ix.name)
  // Our names on some other key would block the create: they are ours, so they go too.
  for (const ix of indexes) {
    if ((ix.name === TTL_INDEX_NAME || ix.name === PLAIN_INDEX_NAME) && !isTimestampKey(ix.key)) await dropIndexIfPresent(coll, ix.name)
  }
  return await createWanted(coll, ttlSeconds, noTtlReason, onTimestamp.length > 0 ? 'recreated' : 'created')
}

/**
 * Creates { timestamp: 1 } as a TTL index (expireAfterSeconds = retentionDays*86400, name 'maap_ttl_timestamp')
 * where the server supports it; on servers without TTL (FerretDB answers code 238 NotImplemented) creates a plain
 * { timestamp: 1 } index ('maap_timestamp') instead and says why. An existing index on { timestamp: 1 } with
 * other options is brought in line (collMod, or drop+create). retentionDays 0 = keep forever (no TTL).
 * Idempotent; safe when several collectors start at once (a lost race is re-read and retried).
 */
export async function ensureRetentionIndexes (coll: Collection<Document>, limits: RetentionLimits): Promise<IndexSetupResult> {
  checkLimits(limits)
  let ttlSeconds: number | undefined
  let noTtlReason = ''
  if (limits.retentionDays === 0) {
    noTtlReason = 'LOG_RETENTION_DAYS is 0: documents are kept forever'
  } else {
    const seconds = Math.max(1, Math.round(limits.retentionDays * DAY_SECONDS))
    if (seconds > MAX_EXPIRE_AFTER_SECONDS) {
      noTtlReason = `LOG_RETENTION_DAYS ${limits.retentionDays} is beyond what a TTL index can express ` +
        `(${Math.floor(MAX_EXPIRE_AFTER_SECONDS / DAY_SECONDS)} days); the periodic sweeper enforces it`
    } else {
      ttlSeconds = seconds
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await reconcile(coll, ttlSeconds, noTtlReason)
    } catch (err) {
      const code = codeOf(err)
      if (attempt >= 3 || code === undefined || !RACE.has(code)) throw err
    }
  }
}

// ─── Sweeper ──────────────────────────────────────────────────────────────────────────────────────────────

interface SortKeyed { _id: ObjectId, timestamp?: unknown }

function sameTimestamp (a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (a === null || a === undefined) return b === null || b === undefined
  return a === b
}

async function deleteIds (coll: Collection<Document>, ids: ObjectId[]): Promise<number> {
  if (ids.length === 0) return 0
  const res = await coll.deleteMany({ _id: { $in: ids } })
  return res.deletedCount
}

/** _ids of the `n` oldest documents, by timestamp then _id, n ≤ chunk size. Both queries are served by the
 * { timestamp: 1 } index on mongod (no blocking sort over the collection): the first reads the n oldest in
 * index order; documents that share the n-th timestamp are then ordered by _id among themselves. */
async function oldestIds (coll: Collection<Document>, n: number): Promise<ObjectId[]> {
  const head = await coll.find<SortKeyed>({}, { projection: { _id: 1, timestamp: 1 } }).sort(TIMESTAMP_KEY).limit(n).toArray()
  if (head.length < n) return head.map(d => d._id) // n covers the whole collection
  const last = head[head.length - 1]!.timestamp
  let tieStart = head.length - 1
  while (tieStart > 0 && sameTimestamp(head[tieStart - 1]!.timestamp, last)) tieStart--
  // Every document with an earlier timestamp is in head[0, tieStart); the rest of the chunk is the k
  // smallest _ids among all documents with timestamp == last (there may be more of them beyond the chunk).
  const k = n - tieStart
  const ties = await coll.find<SortKeyed>({ timestamp: last ?? null }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(k).toArray()
  return [...head.slice(0, tieStart).map(d => d._id), ...ties.map(d => d._id)]
}

/** Deletes up to `n` oldest documents in chunks; returns how many were deleted. */
async function deleteOldest (coll: Collection<Document>, n: number, chunk: number): Promise<number> {
  let deleted = 0
  while (deleted < n) {
    const ids = await oldestIds(coll, Math.min(chunk, n - deleted))
    const got = await deleteIds(coll, ids)
    deleted += got
    if (got === 0) break // empty collection (or everything we picked vanished meanwhile): nothing to chase
  }
  return deleted
}

async function expire (coll: Collection<Document>, cutoff: Date, chunk: number): Promise<number> {
  let expired = 0
  for (;;) {
    const filter = { timestamp: { $lt: cutoff } }
    const ids = (await coll.find<SortKeyed>(filter, { projection: { _id: 1 } }).limit(chunk).toArray()).map(d => d._id)
    if (ids.length === 0) break
    // The filter again: a document whose timestamp changed since it was read is not deleted by mistake.
    const got = (await coll.deleteMany({ _id: { $in: ids }, ...filter })).deletedCount
    expired += got
    if (ids.length < chunk || got === 0) break
  }
  return expired
}

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

async function trimBySize (coll: Collection<Document>, maxSize: number, chunk: number): Promise<number> {
  let trimmed = 0
  let previous: number | undefined
  let boost = 1
  for (let round = 0; round < 1000; round++) {
    const { size, count, avgObjSize } = await collectionSize(coll)
    if (size <= maxSize || count === 0) break
    // A size that did not go down after a round of deletes (page-granular accounting, or a stale statistic):
    // delete more next time rather than stopping over the cap; bounded by the collection's count anyway.
    if (previous !== undefined && size >= previous) boost = Math.min(boost * 2, 1 << 20)
    else boost = 1
    previous = size
    const estimate = avgObjSize > 0 ? Math.ceil((size - maxSize) / avgObjSize) : 1
    const n = Math.min(count, Math.max(1, estimate) * boost)
    const got = await deleteOldest(coll, n, chunk)
    trimmed += got
    if (got === 0) break
  }
  return trimmed
}

/**
 * One pass: delete documents with timestamp older than now - retentionDays (skipped when 0); then, if the
 * collection holds more than maxDocuments (0 = no cap), delete the oldest (by timestamp, then _id) so it holds
 * maxDocuments; then, while its data size exceeds maxCollectionSize (0 = no cap), delete the oldest, estimating
 * how many from the average document size and re-checking. All deletes go in chunks of at most `chunkSize`
 * _ids. Documents without a Date timestamp never expire by age, and sort first (oldest) for the caps.
 */
export async function sweepCollection (coll: Collection<Document>, limits: RetentionLimits, now: Date = new Date()): Promise<SweepResult> {
  checkLimits(limits)
  const chunk = limits.chunkSize ?? DEFAULT_CHUNK_SIZE
  const result: SweepResult = { expired: 0, trimmedByCount: 0, trimmedBySize: 0 }

  if (limits.retentionDays > 0) {
    const cutoff = new Date(now.getTime() - limits.retentionDays * DAY_MS)
    if (Number.isFinite(cutoff.getTime())) result.expired = await expire(coll, cutoff, chunk)
  }

  const maxDocuments = Math.floor(limits.maxDocuments)
  if (maxDocuments > 0) {
    // The count from collection metadata (no scan); documents inserted meanwhile are left to the next pass.
    const excess = await coll.estimatedDocumentCount() - maxDocuments
    if (excess > 0) result.trimmedByCount = await deleteOldest(coll, excess, chunk)
  }

  if (limits.maxCollectionSize > 0) result.trimmedBySize = await trimBySize(coll, limits.maxCollectionSize, chunk)
  return result
}
