// The logger a page calls: pino's levels and argument order, children with bindings, all sharing one
// Shipper (one buffer, one batch in flight, one set of page listeners per createLogger).
//
//   logger.info(obj?, msg) ──level check──► eventLine ──► Shipper.add
//   logger.child(bindings) ── the same Shipper, more fields
import { pageEnv, type Env } from './env.js'
import { eventLine, splitArgs } from './event.js'
import { collectorLevel, LEVEL_NAMES, LEVELS, threshold, type LevelName } from './levels.js'
import { resolveOptions, type LoggerOptions, type Resolved } from './options.js'
import { Shipper, type Stats } from './shipper.js'

export interface LogFn {
  (msg: string): void
  (obj: object, msg?: string): void
}

export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  /** The lowest level this logger sends. */
  readonly level: LevelName | 'silent'
  /** A logger whose events also carry `bindings` (they win over the parent's fields of the same name). */
  child: (bindings: Record<string, unknown>) => Logger
  /** Resolves once every event logged so far was sent, refused by the collector or dropped (see stats()). */
  flush: () => Promise<void>
  /** Flushes, then stops the timers and page listeners; events logged after it are dropped (counted). */
  close: () => Promise<void>
  stats: () => Stats
}

/** For maapTransmit: an event whose level pino already checked, with its own time. */
export const EMIT = Symbol('maap.emit')
export type Emit = (level: LevelName, timeMs: number, fields: object | undefined, message: string) => void

const noop = (): void => {}

function makeLogger (shipper: Shipper, config: Resolved, env: Env, base: Readonly<Record<string, unknown>> | undefined): Logger {
  const min = threshold(config.level)
  const emit: Emit = (level, timeMs, fields, message) => {
    shipper.add(eventLine(collectorLevel(level), timeMs, config.appName, base, fields, message))
  }
  const logger = {
    level: config.level,
    child: (bindings: Record<string, unknown>) => {
      if (typeof bindings !== 'object' || bindings === null) throw new TypeError('@maap-event-logger/browser: child(bindings) needs an object')
      return makeLogger(shipper, config, env, Object.freeze({ ...base, ...bindings }))
    },
    flush: async () => await shipper.flush(),
    close: async () => await shipper.close(),
    stats: () => shipper.stats(),
    [EMIT]: emit
  } as unknown as Logger & { [EMIT]: Emit }
  for (const name of LEVEL_NAMES) {
    // A level below the threshold is a no-op function: nothing is built for an event nobody sends.
    (logger as unknown as Record<LevelName, LogFn>)[name] = LEVELS[name] < min
      ? noop
      : (first: unknown, msg?: unknown) => {
          const { fields, message } = splitArgs(first, msg)
          emit(name, env.now(), fields, message)
        }
  }
  return Object.freeze(logger)
}

/** For tests: a logger on the given surroundings (a fake fetch, clock and page). */
export function createLoggerWith (options: LoggerOptions, env: Env): Logger {
  const config = resolveOptions(options)
  const shipper = new Shipper(env, config)
  return makeLogger(shipper, config, env, config.fields)
}

/** A logger that ships to the collector at `url` with the browser key `key`. */
export function createLogger (options: LoggerOptions): Logger {
  return createLoggerWith(options, pageEnv())
}
