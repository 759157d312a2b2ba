// Index setup for retention in MongoDB (LOG_RETENTION_DAYS), once per start; the sweeper (sweeper.ts) does the rest.
//
// Design (works on mongod and on FerretDB):
//  - The collection is an ordinary collection — never capped. Modern mongod refuses a TTL index on a
//    capped collection, and FerretDB's embedded build never trims capped collections.
//  - A TTL index on { timestamp: 1 } (expireAfterSeconds = LOG_RETENTION_DAYS) where the server supports it,
//    so mongod expires documents by itself. Servers without TTL (FerretDB answers 238 NotImplemented) get a
//    plain { timestamp: 1 } index instead, which the sweeper's queries use.
import type { Collection, Document } from 'mongodb'
import {
  codeOf, describe, INDEX_ALREADY_EXISTS, INDEX_KEY_SPECS_CONFLICT, INDEX_NOT_FOUND, INDEX_OPTIONS_CONFLICT,
  NAMESPACE_NOT_FOUND, TIMESTAMP_KEY
} from './server-codes'
import type { RetentionLimits } from './sweeper'

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

export const TTL_INDEX_NAME = 'maap_ttl_timestamp'
/** Name of the plain index created when there is no TTL (retention 0, or a server without TTL). */
export const PLAIN_INDEX_NAME = 'maap_timestamp'

const DAY_SECONDS = 86_400
/** mongod's upper bound for expireAfterSeconds (a 32-bit int; about 68 years). */
const MAX_EXPIRE_AFTER_SECONDS = 2_147_483_647

/** Codes with which a server refuses a TTL index as such: FerretDB 238 NotImplemented; mongod 72 InvalidOptions
 * (capped or time-series collection), 67 CannotCreateIndex; 115 CommandNotSupported. */
const TTL_REFUSED = new Set([238, 72, 67, 115])
/** Codes that mean another process changed the indexes under us: re-read and try again. */
const RACE = new Set([INDEX_NOT_FOUND, INDEX_OPTIONS_CONFLICT, INDEX_KEY_SPECS_CONFLICT, INDEX_ALREADY_EXISTS, 276, 12587])

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
export async function ensureRetentionIndexes (coll: Collection<Document>, limits: Pick<RetentionLimits, 'retentionDays'>): Promise<IndexSetupResult> {
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
