// The collector's canonical levels, lowest first, and how each is shown.
export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const
export type Level = typeof LEVELS[number]

export function levelClass (level: unknown): string {
  return typeof level === 'string' && (LEVELS as readonly string[]).includes(level) ? `lv-${level.toLowerCase()}` : 'lv-other'
}

/** A level as a row shows it: short enough for the level column (WARNING → WARN). */
export function levelText (level: string): string {
  return level === 'WARNING' ? 'WARN' : level === 'CRITICAL' ? 'CRIT' : level
}

export const LEVEL_LABEL: Record<Level, string> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'crit' }
