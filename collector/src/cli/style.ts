// Colours for the pretty output, or none. The escape codes are our own rather than node:util's
// styleText, whose own checks of the stream and NO_COLOR differ between the Node 20 releases we
// support: whether to colour is decided once, in args.ts, and --color must mean colour.

export interface Style {
  level: (level: string, text: string) => string
  time: (text: string) => string
  app: (text: string) => string
  key: (text: string) => string
}

const sgr = (open: string, close: string) => (text: string): string => `\u001b[${open}m${text}\u001b[${close}m`
const gray = sgr('90', '39')

const LEVELS: Record<string, (text: string) => string> = {
  TRACE: gray,
  DEBUG: sgr('34', '39'),
  INFO: sgr('32', '39'),
  WARNING: sgr('33', '39'),
  ERROR: sgr('31', '39'),
  CRITICAL: sgr('1;97;41', '22;39;49') // bold white on red
}
const OTHER_LEVEL = sgr('35', '39')

const same = (text: string): string => text

export function styleOf (color: boolean): Style {
  if (!color) return { level: (_, text) => text, time: same, app: same, key: same }
  return {
    level: (level, text) => (LEVELS[level] ?? OTHER_LEVEL)(text),
    time: gray,
    app: sgr('36', '39'),
    key: gray
  }
}
