// The indexes on the collector's real collection, listed (never changed): the read indexes and the
// retention index on timestamp. A missing one is created at start; one of the same name on another key,
// or another name on the same key, makes the collector's createIndexes fail at every retry.
import type { Collection, Document } from 'mongodb'
import { READ_INDEXES } from '../read/mongo-indexes'
import { codeOf, NAMESPACE_NOT_FOUND } from '../retention/server-codes'
import { failed, fallback, ok, type CheckResult } from './check'

interface IndexInfo { name: string, key: Document }

const keyText = (key: Document): string => Object.entries(key).map(([field, dir]) => `${field}:${Number(dir)}`).join(',')

/** `indexes` undefined: the collection does not exist yet. */
export function readIndexesVerdict (indexes: IndexInfo[] | undefined, ns: string): CheckResult {
  if (indexes === undefined) return ok('read_indexes', `${ns} does not exist yet: the collector creates it, and its indexes, at start`)
  const present: string[] = []
  const missing: string[] = []
  const conflicts: string[] = []
  for (const wanted of READ_INDEXES) {
    const byName = indexes.find(ix => ix.name === wanted.name)
    const byKey = indexes.find(ix => keyText(ix.key) === keyText(wanted.key))
    if (byName !== undefined && keyText(byName.key) === keyText(wanted.key)) present.push(wanted.name)
    else if (byName !== undefined) conflicts.push(`${wanted.name} is on {${keyText(byName.key)}}`)
    else if (byKey !== undefined) conflicts.push(`${byKey.name} has ${wanted.name}'s key {${keyText(wanted.key)}}`)
    else missing.push(wanted.name)
  }
  const retention = indexes.find(ix => keyText(ix.key) === 'timestamp:1')
  if (retention !== undefined) present.push(`${retention.name} (retention)`)
  else missing.push('an index on timestamp (retention)')
  if (conflicts.length > 0) {
    return fallback('read_indexes', `on ${ns}: ${conflicts.join('; ')}`,
      'the collector\'s createIndexes is refused and retried every minute (a warning each time), so the read indexes it lacks stay missing and filtered reads are slower: drop or rename that index')
  }
  if (missing.length > 0) return ok('read_indexes', `on ${ns}: ${present.length > 0 ? `${present.join(', ')} present; ` : ''}missing ${missing.join(', ')}`, 'the collector creates the missing ones at start')
  return ok('read_indexes', `on ${ns}: ${present.join(', ')} present`)
}

export async function checkReadIndexes (real: Collection<Document>, ns: string): Promise<CheckResult> {
  let indexes: IndexInfo[] | undefined
  try {
    indexes = await real.listIndexes().toArray() as IndexInfo[]
  } catch (err) {
    if (codeOf(err) !== NAMESPACE_NOT_FOUND) {
      return failed('read_indexes', err, 'listIndexes', ns, 'the collector could not check its retention index, and retention would not run')
    }
  }
  return readIndexesVerdict(indexes, ns)
}
