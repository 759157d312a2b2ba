// pino's browser build hands each log call to `transmit.send(level, logEvent)`; this maps a logEvent
// onto the logger, keeping pino's time, level and child bindings.
//
//   pino (browser) ── send(label, { ts, messages, bindings, level }) ──► Logger[EMIT] ──► Shipper
import { splitArgs } from './event.js'
import { levelOf } from './levels.js'
import { EMIT, type Emit, type Logger } from './logger.js'

/** The logEvent of pino's browser transmit (pino's docs, "browser API"). */
export interface PinoLogEvent {
  ts?: number
  messages: unknown[]
  bindings?: Array<Record<string, unknown>>
  level: { label: string, value: number }
}

export interface PinoTransmit {
  level?: string
  send: (level: string, logEvent: PinoLogEvent) => void
}

/** An Error as pino's browser serialiser (asErrValue) hands it to transmit. */
function isPinoError (value: unknown): value is { type: string, msg: string, stack: unknown } {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { type?: unknown, msg?: unknown, stack?: unknown }
  return typeof v.type === 'string' && typeof v.msg === 'string' && typeof v.stack === 'string'
}

/**
 * `pino({ browser: { transmit: maapTransmit(logger) } })`. pino decides what is sent (its logger level,
 * or `level` here); the maap logger's own level does not filter again.
 */
export function maapTransmit (logger: Logger, opts: { level?: string } = {}): PinoTransmit {
  const emit = (logger as Logger & { [EMIT]?: Emit })[EMIT]
  if (typeof emit !== 'function') throw new TypeError('@maap-event-logger/browser: maapTransmit(logger) needs a logger from createLogger')
  const send = (label: string, logEvent: PinoLogEvent): void => {
    const level = levelOf(logEvent.level?.label ?? label, logEvent.level?.value ?? 30)
    const messages = logEvent.messages ?? []
    const first = messages[0]
    let fields: object | undefined
    let message: string
    if (isPinoError(first)) {
      // pino's browser build has already turned the Error into { type, msg, stack }: back to ours.
      const { type, msg, ...rest } = first
      fields = { err: { ...rest, name: type, message: msg } }
      message = messages.length > 1 ? messages.slice(1).map(String).join(' ') : msg
    } else if (typeof first === 'object' && first !== null) {
      const split = splitArgs(first, messages.length > 1 ? messages.slice(1).map(String).join(' ') : undefined)
      fields = split.fields
      message = split.message
    } else {
      message = messages.map(String).join(' ')
    }
    const bindings = logEvent.bindings
    if (bindings !== undefined && bindings.length > 0) fields = Object.assign({}, ...bindings, fields)
    emit(level, typeof logEvent.ts === 'number' ? logEvent.ts : Date.now(), fields, message)
  }
  return opts.level === undefined ? { send } : { level: opts.level, send }
}
