// maap-collector's flags, run as users run it: the committed launcher in a child process.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SETTINGS } from '../src/config'

const bin = join(__dirname, '..', 'bin', 'maap-collector.js')
// A collector that started instead of answering would not exit: spawnSync's timeout makes that a failure
// (status null), and its journal would land in a temp dir rather than the repo.
const logDir = mkdtempSync(join(tmpdir(), 'maap-bin-'))
t.teardown(() => rmSync(logDir, { recursive: true, force: true }))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, PORT: '0', LOG_DIR: logDir }, timeout: 30_000 })

t.test('--help prints every environment variable and exits 0 without starting', async t => {
  for (const flag of ['--help', '-h']) {
    const r = run(flag)
    t.equal(r.status, 0, flag)
    t.match(r.stdout, /^Usage: maap-collector/)
    for (const { variable } of Object.values(SETTINGS)) t.match(r.stdout, `  ${variable}  default `, variable)
  }
})

t.test('--version prints the package version', async t => {
  const r = run('-V')
  t.equal(r.status, 0)
  t.equal(r.stdout.trim(), (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version)
})

t.test('an unknown flag or an argument exits 2 with a message', async t => {
  const flag = run('--mongodb-uri=mongodb://x')
  t.equal(flag.status, 2)
  t.equal(flag.stderr, 'maap-collector: unknown option --mongodb-uri (see maap-collector --help)\n')
  const arg = run('start')
  t.equal(arg.status, 2)
  t.match(arg.stderr, /unexpected argument "start"/)
  const value = run('--help=yes')
  t.equal(value.status, 2, 'a value on a flag that takes none')
  t.match(value.stderr, /^maap-collector: .*--help.* \(see maap-collector --help\)\n$/)
  t.equal(flag.stdout + arg.stdout + value.stdout, '', 'nothing started')
})
