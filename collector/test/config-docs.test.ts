// The configuration table (config.ts SETTINGS) is the one place a variable is defined: the parser reads
// nothing else, `maap-collector --help` lists every row, and each README's table is the generated one.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, SETTINGS } from '../src/config'
import { configHelp, configTable } from '../src/config-docs'

const root = join(__dirname, '..', '..')
const variables = Object.values(SETTINGS).map(s => s.variable)

t.test('loadConfig reads the variables of the table and no others', async t => {
  const asked = new Set<string>()
  const env = new Proxy({}, { get: (_, name) => { asked.add(String(name)); return undefined } })
  const config = loadConfig(env)
  t.same([...asked].sort(), [...variables].sort())
  t.same(Object.keys(config).sort(), Object.keys(SETTINGS).sort(), 'one row per configuration field')
})

t.test('each default in the table is the value an empty environment gets', async t => {
  const config = loadConfig({}) as unknown as Record<string, unknown>
  for (const [key, s] of Object.entries(SETTINGS)) {
    if (s.default === undefined) t.ok(config[key] === undefined || (config[key] as unknown[]).length === 0, `${s.variable} unset`)
    else if (key !== 'logDir') t.equal(config[key], s.default, s.variable)
  }
})

t.test('--help names every variable with its default and meaning', async t => {
  const help = configHelp()
  for (const s of Object.values(SETTINGS)) {
    const shown = s.default === undefined ? 'unset' : String(s.default)
    t.match(help, new RegExp(`^  ${s.variable}  default ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), s.variable)
    t.ok(help.replace(/\s+/g, ' ').includes(s.meaning.replace(/`/g, '')), `${s.variable}'s meaning`)
  }
})

for (const readme of ['README.md', 'collector/README.md']) {
  t.test(`${readme}'s configuration table is the one the collector reads (npm run docs:config rewrites it)`, async t => {
    const text = readFileSync(join(root, readme), 'utf8')
    const table = /<!-- config-table:[^>]*-->\n([\s\S]*?)\n<!-- \/config-table -->/.exec(text)
    t.ok(table, 'the generated-table markers are there')
    t.equal(table?.[1], configTable())
  })
}
