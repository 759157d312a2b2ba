// One canonical upper-case level for every name the original service, pino and winston use.
// The canonical names extend the original's (DEBUG INFO WARNING ERROR CRITICAL) with pino's TRACE.

export const CANONICAL_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const
export type Level = typeof CANONICAL_LEVELS[number]

const BY_NAME: Record<string, Level> = {
  // the original service
  debug: 'DEBUG',
  info: 'INFO',
  warning: 'WARNING',
  error: 'ERROR',
  critical: 'CRITICAL',
  // pino
  trace: 'TRACE',
  warn: 'WARNING',
  fatal: 'CRITICAL',
  // winston npm levels
  http: 'INFO',
  verbose: 'DEBUG',
  silly: 'TRACE',
  // winston syslog levels
  emerg: 'CRITICAL',
  alert: 'CRITICAL',
  crit: 'CRITICAL',
  notice: 'INFO'
}

// pino's numeric levels (10..60), also accepted as numeric strings.
const BY_NUMBER: Record<number, Level> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' }

export const ACCEPTED_LEVELS_TEXT =
  `one of ${Object.keys(BY_NAME).join(', ')} (any case) or pino's numbers ${Object.keys(BY_NUMBER).join(', ')}`

/** The canonical level, or undefined when the value names no known level. */
export function canonicalLevel (value: unknown): Level | undefined {
  if (typeof value === 'number') return BY_NUMBER[value]
  if (typeof value !== 'string') return undefined
  const byName = BY_NAME[value.toLowerCase()]
  if (byName !== undefined) return byName
  return /^\d{2}$/.test(value) ? BY_NUMBER[Number(value)] : undefined
}
