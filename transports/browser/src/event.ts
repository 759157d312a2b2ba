// One log call → one NDJSON line, serialised at once (a later change to the caller's object cannot
// change what was logged, and the buffer counts its bytes exactly).
//
//   (obj | msg, msg?) + bindings ──► { timestamp, level, message, app_name, ...fields } ──► JSON line
//
// The core fields are written last so a field of the same name cannot replace them: app_name in
// particular, since the collector refuses a whole batch whose events name another app than the key's.

/** An Error as JSON: its name, message and stack, its own enumerable fields (e.g. `code`) and its cause. */
function errorJson (err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { ...err, name: err.name, message: err.message, stack: err.stack }
  const cause = (err as { cause?: unknown }).cause
  if (cause !== undefined) out.cause = cause
  return out
}

// JSON.stringify gives `{}` for an Error and throws on a BigInt; neither should cost an event.
function replacer (_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorJson(value)
  if (typeof value === 'bigint') return value.toString()
  return value
}

/** The fields and message of pino-style arguments: `(obj, msg?)`, `(err, msg?)` or `(msg)`. */
export function splitArgs (first: unknown, msg: unknown): { fields: object | undefined, message: string } {
  if (first instanceof Error) return { fields: { err: first }, message: msg === undefined ? first.message : String(msg) }
  if (typeof first === 'object' && first !== null) {
    if (msg !== undefined) return { fields: first, message: String(msg) }
    const own = (first as { message?: unknown, msg?: unknown })
    return { fields: first, message: typeof own.message === 'string' ? own.message : typeof own.msg === 'string' ? own.msg : '' }
  }
  return { fields: undefined, message: first === undefined ? '' : msg === undefined ? String(first) : `${String(first)} ${String(msg)}` }
}

/**
 * The NDJSON line (without its newline) of one event. `base` holds the logger's fields and bindings,
 * `fields` the call's own (they win over `base`).
 */
export function eventLine (level: string, timeMs: number, appName: string, base: object | undefined,
  fields: object | undefined, message: string): string {
  const timestamp = new Date(timeMs).toISOString()
  const event: Record<string, unknown> = { timestamp, level, message, app_name: appName }
  if (base !== undefined) Object.assign(event, base)
  if (fields !== undefined) Object.assign(event, fields)
  event.timestamp = timestamp
  event.level = level
  event.message = message
  event.app_name = appName
  try {
    return JSON.stringify(event, replacer)
  } catch (err) {
    // A cycle (or a toJSON that throws): the event still arrives, with the reason its fields did not.
    return JSON.stringify({ timestamp, level, message, app_name: appName, maap_unserialisable: String((err as Error).message) })
  }
}
