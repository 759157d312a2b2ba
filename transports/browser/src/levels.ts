// The logger's levels (pino's names and numbers) and the upper-case names the collector stores, so an
// event arrives already in the collector's vocabulary (collector/src/normalise/levels.ts).

export const LEVELS = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 })
export type LevelName = keyof typeof LEVELS
export const LEVEL_NAMES = Object.keys(LEVELS) as LevelName[]

const COLLECTOR: Readonly<Record<LevelName, string>> = Object.freeze({
  trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'CRITICAL'
})

/** The collector's name of a level. */
export function collectorLevel (level: LevelName): string {
  return COLLECTOR[level]
}

/** The lowest number a logger set to `level` lets through; 'silent' lets nothing through. */
export function threshold (level: LevelName | 'silent'): number {
  return level === 'silent' ? Infinity : LEVELS[level]
}

/** A pino level (label, or number for a custom label) as one of ours: a custom level maps to the standard one below it. */
export function levelOf (label: string, value: number): LevelName {
  if (Object.prototype.hasOwnProperty.call(LEVELS, label)) return label as LevelName
  let found: LevelName = 'trace'
  for (const name of LEVEL_NAMES) if (value >= LEVELS[name]) found = name
  return found
}
