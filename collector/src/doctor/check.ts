// One doctor check's answer, a tagged result rather than a throw: `ok` works; `fallback` does not work but
// the collector copes (the action says how); `fail` stops the collector from doing its job (the action
// says what to fix). `name` is stable, for scripts reading `--json`.
import { MongoServerError } from 'mongodb'
import { describe } from '../retention/server-codes'

export type CheckStatus = 'ok' | 'fallback' | 'fail'

export interface CheckResult {
  name: string
  status: CheckStatus
  /** What was found. */
  detail: string
  /** What the collector does about it (fallback), or what to fix (fail). */
  action?: string
}

function result (status: CheckStatus) {
  return (name: string, detail: string, action?: string): CheckResult =>
    action === undefined ? { name, status, detail } : { name, status, detail, action }
}

export const ok = result('ok')
export const fallback = result('fallback')
export const fail = result('fail')

const UNAUTHORIZED = 13

/** The server's answer inside `err` (the sink wraps it in TransientMongoError's `cause`), if there is one. */
export function serverErrorOf (err: unknown): MongoServerError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as Error).cause, depth++) {
    if (e instanceof MongoServerError) return e
  }
  return undefined
}

/** The innermost readable reason: the server's answer when there is one, else the error's own message. */
export function reasonOf (err: unknown): string {
  const server = serverErrorOf(err)
  if (server !== undefined) return describe(server)
  const cause = (err as Error).cause
  return cause instanceof Error ? cause.message : (err as Error).message
}

/**
 * A check whose operation threw: not authorized (code 13) names the privilege to grant on `namespace`;
 * anything else gives the server's reason. Both are `fail`: the collector needs every operation it is
 * asked about; `consequence` says what would not work.
 */
export function failed (name: string, err: unknown, privilege: string, namespace: string, consequence: string): CheckResult {
  if (serverErrorOf(err)?.code === UNAUTHORIZED) {
    return fail(name, `not authorized to ${privilege} on ${namespace} (${reasonOf(err)})`,
      `grant the user in MONGODB_URI ${privilege} on the database (the readWrite role has it): ${consequence}`)
  }
  return fail(name, `${privilege} on ${namespace} failed: ${reasonOf(err)}`, consequence)
}
