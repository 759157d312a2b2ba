// A winston `info` → one NDJSON line for the collector, on the application thread. Only what must
// happen here happens here: pick the fields, fix what JSON would lose, serialise. Mapping the rest
// (timestamps the collector refuses, message types) is the core's job, in the worker.
//
// What JSON would lose in a winston info:
// - `logger.error(err)` logs the Error itself: message and stack are not enumerable;
// - Errors anywhere as field values (`{ err }`, `cause`) stringify as `{}`;
// - format.colorize() paints `info.level`; the plain name is under Symbol.for('level');
// - symbol keys (level, message, splat) are winston's bookkeeping and are left out.
import { basename, extname } from 'node:path'
import { LevelMapper, type Levels } from './levels'

const LEVEL = Symbol.for('level')

type Info = Record<string | symbol, unknown>

export class RecordSerialiser {
  readonly #appName: string | undefined
  readonly #levels = new LevelMapper()

  /** `appName`: the configured app_name (option or MAAP_APP_NAME), which wins over a record's `service`. */
  constructor (appName: string | undefined) {
    this.#appName = appName
  }

  line (info: Info, levels: Levels | undefined): string {
    const raw = info[LEVEL] ?? info.level
    const level = typeof raw === 'string' ? this.#levels.map(raw, levels) : raw
    // An app_name that is there but unusable ('' or not a string) would otherwise appear twice below.
    const ownApp = info.app_name
    if (level !== info.level || info instanceof Error || (ownApp !== undefined && text(ownApp) === undefined) || hasError(info)) {
      return this.#rebuilt(info, raw, level)
    }
    // The common case, on every log call: nothing to fix, so no copy — stringify the info as it is (JSON
    // leaves the symbol keys out) and put what it lacks in front. Those keys are absent from the info,
    // so the line never has a key twice.
    let head = ''
    if (ownApp === undefined) head += `"app_name":${JSON.stringify(this.#appNameOf(info))},`
    if (info.timestamp === undefined) head += `"timestamp":${Date.now()},`
    if (head === '') return serialise(info)
    const body = serialise(info)
    return body.length > 2 ? `{${head}${body.slice(1)}` : `{${head.slice(0, -1)}}`
  }

  /** The slow path: a copy with Errors spelled out and the level fixed. */
  #rebuilt (info: Info, raw: unknown, level: unknown): string {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(info)) {
      const value = info[key]
      out[key] = value instanceof Error ? errorFields(value) : value
    }
    out.level = level
    if (level !== raw) out.level_raw = raw

    const message = info.message
    if (info instanceof Error) {
      // logger.error(err) without format.errors(): the info is the Error.
      out.message = info.message
      out.stack = info.stack
    } else if (message instanceof Error) {
      // logger.log({ level, message: err }) without format.errors().
      out.message = message.message
      out.stack ??= message.stack
    }

    // Without format.timestamp() the record is stamped now, not when the collector gets it (a spooled
    // record may reach it hours later).
    if (out.timestamp === undefined) out.timestamp = Date.now()
    if (typeof out.app_name !== 'string' || out.app_name === '') out.app_name = this.#appNameOf(out)
    return serialise(out)
  }

  #appNameOf (fields: Record<string, unknown>): string {
    return this.#appName ?? text(fields.appName) ?? text(fields.service) ?? scriptName
  }
}

function hasError (info: Info): boolean {
  for (const key in info) if (info[key] instanceof Error) return true
  return false
}

// The core names a process without app_name after its main script too; naming it here keeps the core
// from taking a winston record's own `name` field (a user's name, say) for the app name.
const scriptName = process.argv[1] ? basename(process.argv[1], extname(process.argv[1])) : 'node'

function text (value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function errorFields (err: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { ...err, name: err.name, message: err.message, stack: err.stack }
  if (err.cause !== undefined) out.cause = err.cause instanceof Error && depth < 3 ? errorFields(err.cause, depth + 1) : err.cause
  return out
}

function serialise (out: Record<string | symbol, unknown>): string {
  try {
    return JSON.stringify(out)
  } catch {
    // Circular structures and BigInts: the slow path, only for the records that need it.
  }
  try {
    return JSON.stringify(out, safeReplacer())
  } catch (err) {
    // A toJSON() that throws: keep what identifies the record rather than lose it.
    return JSON.stringify({
      level: out.level,
      message: typeof out.message === 'string' ? out.message : String(out.message),
      app_name: out.app_name,
      timestamp: out.timestamp,
      serialise_error: (err as Error).message
    })
  }
}

function safeReplacer (): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = []
  return function (this: unknown, _key: string, value: unknown) {
    if (typeof value === 'bigint') return value.toString()
    if (value === null || typeof value !== 'object') return value
    // `this` is the object holding `value`: drop ancestors that are no longer on the path.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
    if (ancestors.includes(value)) return '[Circular]'
    ancestors.push(value)
    return value
  }
}
