// The configuration table (config.ts SETTINGS) in the two forms people read it: `maap-collector --help`
// and the README's Markdown table. Both come from the same rows, so neither can list a variable the
// parser does not read, or a default it does not use.
import { SETTINGS, type Setting } from './config'

const rows = (): Array<Setting<unknown>> => Object.values(SETTINGS)

function shownDefault (s: Setting<unknown>, code: (text: string) => string): string {
  const value = s.default === undefined ? 'unset' : code(String(s.default))
  return s.note === undefined ? value : `${value} (${s.note})`
}

/** The README's table, exactly; test/config-docs.test.ts holds every README that has one to it. */
export function configTable (): string {
  const lines = ['| variable | default | meaning |', '|---|---|---|']
  for (const s of rows()) lines.push(`| \`${s.variable}\` | ${shownDefault(s, t => `\`${t}\``)} | ${s.meaning.replace(/\|/g, '\\|')} |`)
  return lines.join('\n')
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap (text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  return [...lines, line]
}

/** `--help`: every variable with its default, then its meaning indented below it, as plain text. */
export function configHelp (): string {
  const plain = (text: string): string => text.replace(/`/g, '')
  return rows().map(s => [`  ${s.variable}  default ${plain(shownDefault(s, t => t))}`,
    ...wrap(plain(s.meaning), 90).map(line => `      ${line}`)].join('\n')).join('\n')
}
