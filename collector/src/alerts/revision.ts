// What both stores (store-file.ts, store-mongo.ts) decide the same way: a new definition's id and times, an
// update's revision, and how long an alert's history gets.
//
//   create ─► revision 1, active_since = now
//   update ─► query or condition changed, or enabled false → true: revision + 1, active_since = now
//             anything else (name, channels, windows, disabling): revision and active_since kept
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import type { AlertDefinition, AlertInput, Notification, SavedSearch, SearchInput } from './model'

/** Notifications kept per alert in the history: the newest; older ones are removed as new ones come. */
export const HISTORY_PER_ALERT = 1000

export function newId (): string {
  return randomUUID()
}

export function newSearch (input: SearchInput, now: Date): SavedSearch {
  const at = now.toISOString()
  return { id: newId(), name: input.name, query: input.query, created_at: at, updated_at: at }
}

export function updatedSearch (previous: SavedSearch, input: SearchInput, now: Date): SavedSearch {
  return { ...previous, name: input.name, query: input.query, updated_at: now.toISOString() }
}

export function newAlert (input: AlertInput, now: Date): AlertDefinition {
  const at = now.toISOString()
  return { id: newId(), ...input, revision: 1, active_since: at, created_at: at, updated_at: at }
}

/** True when `input` makes `previous` start again: it then sees only events received from now on. */
export function startsAgain (previous: AlertDefinition, input: AlertInput): boolean {
  return previous.query !== input.query ||
    !isDeepStrictEqual(previous.condition, input.condition) ||
    (!previous.enabled && input.enabled)
}

export function updatedAlert (previous: AlertDefinition, input: AlertInput, now: Date): AlertDefinition {
  const at = now.toISOString()
  const again = startsAgain(previous, input)
  return {
    ...input,
    id: previous.id,
    revision: again ? previous.revision + 1 : previous.revision,
    active_since: again ? at : previous.active_since,
    created_at: previous.created_at,
    updated_at: at
  }
}

/** A notification as the history holds it: without its channels (they hold secrets). */
export function historyEntry (n: Notification): Omit<Notification, 'channels'> {
  const { channels: _channels, ...entry } = n
  return entry
}
