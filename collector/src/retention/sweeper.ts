// The retention sweeper: LOG_RETENTION_DAYS (or RETENTION_RULES), MAX_DOCUMENTS and MAX_COLLECTION_SIZE in
// MongoDB, every pass.
//
//   rules:   for each rule, first to last, then the default (LOG_RETENTION_DAYS):
//            { what it decides (its conditions, and none of an earlier rule's), timestamp < its cutoff }
//              ─► _ids in chunks ─► deleteMany({ _id: { $in } , …filter })
//   caps:    oldest first among what no rule matches ─► until under MAX_DOCUMENTS / MAX_COLLECTION_SIZE
//
//  - It always runs: it deletes what is older than the retention (the only expiry on servers without TTL,
//    a safety net on the others — mongod's TTL monitor runs once a minute and can fall behind), then trims
//    the oldest documents while the collection holds more than MAX_DOCUMENTS or more than
//    MAX_COLLECTION_SIZE bytes of data. The { timestamp: 1 } index it relies on comes from ttl-index.ts.
//  - Every deletion is bounded: the sweeper fetches at most `chunkSize` _ids (1000 by default) with a query
//    the timestamp index serves, deletes exactly those by `_id: { $in }`, and repeats; it never holds a large
//    array, never asks the server for a big in-memory sort, and never runs one long delete.
//  - RETENTION_RULES: the caps never delete what a rule matches (a rule is a promise to keep those events
//    that long, or to remove them sooner); they remove the oldest of what no rule matches, and when that is
//    not enough the collection stays over the cap and the result says so (`cappedByRules`).
//  - The limits come from the configuration, which validated them (finite, >= 0) and froze them: they are
//    not checked again here.
import type { Collection, Document, ObjectId } from 'mongodb'
import { collectionSize } from './collection-size'
import type { RetentionPolicy } from './policy'
import { TIMESTAMP_KEY } from './server-codes'

export interface RetentionLimits {
  /** LOG_RETENTION_DAYS (fractions allowed); 0 = keep forever. */
  retentionDays: number
  /** MAX_DOCUMENTS, a whole number; 0 = no cap. */
  maxDocuments: number
  /** MAX_COLLECTION_SIZE in bytes of document data; 0 = no cap. */
  maxCollectionSize: number
  /** Most documents fetched and deleted per round trip, a positive integer (default 1000). */
  chunkSize?: number
  /** RETENTION_RULES with LOG_RETENTION_DAYS as their default: replaces `retentionDays` for the age. */
  policy?: RetentionPolicy | undefined
}

export interface SweepResult {
  expired: number
  trimmedByCount: number
  trimmedBySize: number
  /** With rules: documents deleted by each rule, in RetentionPolicy.labels order (the default last). */
  removedByRule?: number[]
  /** With rules: a cap could not be met because the rest is what rules keep. */
  cappedByRules?: boolean
}

export const DEFAULT_CHUNK_SIZE = 1000

const DAY_MS = 86_400_000

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
async function oldestIds (coll: Collection<Document>, n: number, filter: Document): Promise<ObjectId[]> {
  const head = await coll.find<SortKeyed>(filter, { projection: { _id: 1, timestamp: 1 } }).sort(TIMESTAMP_KEY).limit(n).toArray()
  if (head.length < n) return head.map(d => d._id) // n covers the whole collection
  const last = head[head.length - 1]!.timestamp
  let tieStart = head.length - 1
  while (tieStart > 0 && sameTimestamp(head[tieStart - 1]!.timestamp, last)) tieStart--
  // Every document with an earlier timestamp is in head[0, tieStart); the rest of the chunk is the k
  // smallest _ids among all documents with timestamp == last (there may be more of them beyond the chunk).
  const k = n - tieStart
  const ties = await coll.find<SortKeyed>({ ...filter, timestamp: last ?? null }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(k).toArray()
  return [...head.slice(0, tieStart).map(d => d._id), ...ties.map(d => d._id)]
}

/** Deletes up to `n` oldest documents that match `filter`, in chunks; returns how many were deleted. */
async function deleteOldest (coll: Collection<Document>, n: number, chunk: number, filter: Document): Promise<number> {
  let deleted = 0
  while (deleted < n) {
    const ids = await oldestIds(coll, Math.min(chunk, n - deleted), filter)
    const got = await deleteIds(coll, ids)
    deleted += got
    if (got === 0) break // empty collection (or everything we picked vanished meanwhile): nothing to chase
  }
  return deleted
}

/** Deletes every document that matches `scope` with a timestamp before `cutoff`, in chunks. */
async function expire (coll: Collection<Document>, cutoff: Date, chunk: number, scope: Document = {}): Promise<number> {
  let expired = 0
  for (;;) {
    const filter = { ...scope, timestamp: { $lt: cutoff } }
    const ids = (await coll.find<SortKeyed>(filter, { projection: { _id: 1 } }).limit(chunk).toArray()).map(d => d._id)
    if (ids.length === 0) break
    // The filter again: a document whose timestamp changed since it was read is not deleted by mistake.
    const got = (await coll.deleteMany({ _id: { $in: ids }, ...filter })).deletedCount
    expired += got
    if (ids.length < chunk || got === 0) break
  }
  return expired
}

async function trimBySize (coll: Collection<Document>, maxSize: number, chunk: number, filter: Document): Promise<number> {
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
    const got = await deleteOldest(coll, n, chunk, filter)
    trimmed += got
    if (got === 0) break
  }
  return trimmed
}

/**
 * RETENTION_RULES in MongoDB: each rule deletes what it decides (its conditions, and no earlier rule's: first
 * match wins) older than its age, then the default what no rule matches older than LOG_RETENTION_DAYS. On
 * mongod `{ app_name, level, timestamp }` (rule-index.ts) and the read indexes serve the rules' filters.
 */
async function expireByRule (coll: Collection<Document>, policy: RetentionPolicy, now: Date, chunk: number): Promise<number[]> {
  const cutoffs = policy.cutoffs(now.getTime())
  const removed: number[] = []
  for (let i = 0; i < cutoffs.length; i++) {
    const cutoff = new Date(cutoffs[i]!)
    // Forever, or an age longer than dates reach back: nothing is that old.
    removed.push(Number.isFinite(cutoff.getTime()) ? await expire(coll, cutoff, chunk, policy.filterOf(i)) : 0)
  }
  return removed
}

/**
 * One pass: delete documents with timestamp older than now - retentionDays (skipped when 0); then, if the
 * collection holds more than maxDocuments (0 = no cap), delete the oldest (by timestamp, then _id) so it holds
 * maxDocuments; then, while its data size exceeds maxCollectionSize (0 = no cap), delete the oldest, estimating
 * how many from the average document size and re-checking. All deletes go in chunks of at most `chunkSize`
 * _ids. Documents without a Date timestamp never expire by age, and sort first (oldest) for the caps.
 */
export async function sweepCollection (coll: Collection<Document>, limits: RetentionLimits, now: Date = new Date()): Promise<SweepResult> {
  const chunk = limits.chunkSize ?? DEFAULT_CHUNK_SIZE
  const result: SweepResult = { expired: 0, trimmedByCount: 0, trimmedBySize: 0 }

  const policy = limits.policy
  if (policy !== undefined) {
    result.removedByRule = await expireByRule(coll, policy, now, chunk)
    result.expired = result.removedByRule.reduce((a, b) => a + b, 0)
  } else if (limits.retentionDays > 0) {
    const cutoff = new Date(now.getTime() - limits.retentionDays * DAY_MS)
    // A retention longer than dates reach back (valid, e.g. 1e9 days) has no cutoff: nothing is that old.
    if (Number.isFinite(cutoff.getTime())) result.expired = await expire(coll, cutoff, chunk)
  }

  // What the caps may delete: everything without rules; with rules, only what no rule matches.
  const unprotected = policy === undefined || policy.rules.length === 0 ? {} : policy.filterOf(policy.rules.length)
  if (limits.maxDocuments > 0) {
    // The count from collection metadata (no scan); documents inserted meanwhile are left to the next pass.
    const excess = await coll.estimatedDocumentCount() - limits.maxDocuments
    if (excess > 0) {
      result.trimmedByCount = await deleteOldest(coll, excess, chunk, unprotected)
      if (policy !== undefined && result.trimmedByCount < excess) result.cappedByRules = true
    }
  }

  if (limits.maxCollectionSize > 0) {
    result.trimmedBySize = await trimBySize(coll, limits.maxCollectionSize, chunk, unprotected)
    if (policy !== undefined && (await collectionSize(coll)).size > limits.maxCollectionSize) result.cappedByRules = true
  }
  return result
}
