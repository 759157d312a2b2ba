// pino's numeric levels and their names. The collector accepts either, but a name reads better in
// MongoDB and survives custom numeric levels (mapped to the nearest standard level below them).

const PINO_LEVELS: ReadonlyArray<readonly [number, string]> = [
  [60, 'fatal'], [50, 'error'], [40, 'warn'], [30, 'info'], [20, 'debug'], [10, 'trace']
]

/** `30` → `'info'`; a custom level such as 35 → `'info'`; below 10 → `'trace'`. */
export function pinoLevelName (level: number): string {
  for (const [value, name] of PINO_LEVELS) if (level >= value) return name
  return 'trace'
}
