// @maap-event-logger/browser: a logger for web pages that ships to the MAAP collector with a browser
// key. Nothing runs at import: the page is looked at when a logger is made.
export { createLogger, type Logger, type LogFn } from './logger.js'
export { maapTransmit, type PinoLogEvent, type PinoTransmit } from './transmit.js'
export type { LoggerOptions } from './options.js'
export type { Stats } from './shipper.js'
export type { LevelName } from './levels.js'
