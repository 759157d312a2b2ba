// The collector's own log. Workers (and a single process) log through fastify's pino logger; the cluster
// primary, which runs no fastify, gets a pino logger of its own with the same line shape on the same stdout,
// told apart by `role: 'primary'`.
import { hostname } from 'node:os'
import { pino, type Logger } from 'pino'

/** What the engine (service.ts, retention) needs of a logger; fastify's and the primary's both are one. */
export interface ServiceLogger {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

/** The cluster primary's logger at COLLECTOR_LOG_LEVEL. */
export function primaryLogger (level: string): Logger {
  return pino({ level, base: { pid: process.pid, hostname: hostname(), role: 'primary' } })
}
