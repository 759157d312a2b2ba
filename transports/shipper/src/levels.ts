// Level names and pino's numeric levels. The collector accepts either, but a name reads better in
// MongoDB and survives custom numeric levels (mapped to the nearest standard level below them).

const PINO_LEVELS: ReadonlyArray<readonly [number, string]> = [
  [60, 'fatal'], [50, 'error'], [40, 'warn'], [30, 'info'], [20, 'debug'], [10, 'trace']
]

/** `30` → `'info'`; a custom level such as 35 → `'info'`; below 10 → `'trace'`. */
export function pinoLevelName (level: number): string {
  for (const [value, name] of PINO_LEVELS) if (level >= value) return name
  return 'trace'
}

// Names the collector accepts (pino, winston npm and syslog, Python-style), compared in lower case.
const KNOWN_NAMES = new Set(['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'critical',
  'http', 'verbose', 'silly', 'emerg', 'alert', 'crit', 'notice'])

/**
 * A string level the collector understands, as it reads it: a known name (any case) is kept as it is;
 * a pino number written as a string ("50") becomes its name, exactly the collector's rule (two digits, a
 * standard level: "35" is refused there, so it is undefined here too); anything else is undefined.
 */
export function levelOfString (level: string): string | undefined {
  if (KNOWN_NAMES.has(level.toLowerCase())) return level
  if (!/^\d{2}$/.test(level)) return undefined
  const n = Number(level)
  return PINO_LEVELS.find(([value]) => value === n)?.[1]
}
