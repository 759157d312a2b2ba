// What the MongoDB server answered, as retention needs it: the codes it reacts to and a readable reason.
import { MongoServerError } from 'mongodb'

export const NAMESPACE_NOT_FOUND = 26
export const INDEX_NOT_FOUND = 27
export const INDEX_OPTIONS_CONFLICT = 85
export const INDEX_KEY_SPECS_CONFLICT = 86
export const INDEX_ALREADY_EXISTS = 68

/** The one index key retention works with, for TTL and for the sweeper's oldest-first queries. */
export const TIMESTAMP_KEY = { timestamp: 1 } as const

/** The server's error code; undefined for anything that is not a server answer (a network error). */
export function codeOf (err: unknown): number | undefined {
  return err instanceof MongoServerError && typeof err.code === 'number' ? err.code : undefined
}

export function describe (err: unknown): string {
  if (err instanceof MongoServerError) return `code ${String(err.code)}${err.codeName ? ` ${err.codeName}` : ''}: ${err.message}`
  return (err as Error).message
}
