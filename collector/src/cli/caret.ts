// A query that does not parse, shown as compilers show a bad line: the query, and a caret under the
// place the collector named.
//
//   maap-logs: query: expected a value after "=" at 30
//     level >= ERROR and app_name =
//                                  ^
//
// The collector counts positions from 1 in UTF-16 code units; a terminal counts columns. They part ways
// for a character outside the BMP (two units, one character), a wide one (CJK, most emoji: two
// columns), a combining mark (none), and for what is shown otherwise than typed: white space as one
// space (a tab's width depends on where it lands), a control character as \u001b (format.ts). A query
// of several lines shows the position's line, with its number; a line wider than the terminal, a
// window of it around the position, cut with "…".
import { harmless } from './format'

interface Cell {
  /** What the terminal is sent for one character. */
  text: string
  /** The columns it takes. */
  width: number
  /** Its index in the line, in UTF-16 code units. */
  at: number
}

const INDENT = '  '
const ELLIPSIS = '…'
// East Asian Wide and Fullwidth (Hangul Jamo, CJK, Hiragana…Hangul syllables, forms, the supplementary
// ideographs) and emoji shown as pictures: two columns, as terminals draw them.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u
// Combining marks and format characters (zero-width joiner and friends): drawn on their neighbour.
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u

function cellsOf (line: string): Cell[] {
  const cells: Cell[] = []
  let at = 0
  for (const ch of line) {
    const shown = harmless(ch)
    if (/\s/.test(ch)) cells.push({ text: ' ', width: 1, at })
    else if (shown !== ch) cells.push({ text: shown, width: shown.length, at })
    else cells.push({ text: ch, width: ZERO_WIDTH.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1, at })
    at += ch.length
  }
  return cells
}

const widthOf = (cells: Cell[], from: number, to: number): number => cells.slice(from, to).reduce((w, c) => w + c.width, 0)

/** The cells [from, to) to show so that the caret at `caret` and one column for it fit in `columns`. */
function windowOf (cells: Cell[], caret: number, columns: number): { from: number, to: number } {
  const room = Math.max(columns, 20) - 1 // the caret may stand one past the last cell
  if (widthOf(cells, 0, cells.length) <= room) return { from: 0, to: cells.length }
  const marks = (from: number, to: number): number => (from > 0 ? 1 : 0) + (to < cells.length ? 1 : 0)
  // The position in the middle, as far as the line allows on either side.
  let from = caret
  while (from > 0 && widthOf(cells, from - 1, caret) <= Math.floor(room / 2)) from--
  let to = caret
  while (to < cells.length && widthOf(cells, from, to + 1) + marks(from, to + 1) <= room) to++
  while (from > 0 && widthOf(cells, from - 1, to) + marks(from - 1, to) <= room) from--
  return { from, to }
}

/**
 * The lines that point at `position` (1-based, UTF-16 code units) in `query`, for a terminal `columns`
 * wide (Infinity: never cut).
 */
export function pointAt (query: string, position: number, columns: number): string[] {
  // Past the last word ("expected a value after …" at the end): right after that word, on its line.
  const index = Math.min(Math.max(position - 1, 0), query.trimEnd().length)
  const start = query.lastIndexOf('\n', index - 1) + 1
  const newline = query.indexOf('\n', start)
  const line = query.slice(start, newline === -1 ? query.length : newline)
  const gutter = query.includes('\n') ? `line ${query.slice(0, start).split('\n').length}: ` : ''
  const cells = cellsOf(line)
  let caret = cells.findIndex(c => c.at >= index - start)
  if (caret === -1) caret = cells.length
  const { from, to } = windowOf(cells, caret, columns - INDENT.length - gutter.length)
  const left = from > 0 ? ELLIPSIS : ''
  const shown = left + cells.slice(from, to).map(c => c.text).join('') + (to < cells.length ? ELLIPSIS : '')
  const column = left.length + widthOf(cells, from, caret)
  return [INDENT + gutter + shown, INDENT + ' '.repeat(gutter.length + column) + '^']
}
