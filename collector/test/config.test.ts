import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { loadConfig, ConfigError } from '@maap-event-logger/collector'
import { loadDotEnv } from '../src/config'

t.test('defaults are the original service\'s', async t => {
  const c = loadConfig({})
  t.match(c, {
    mongodbUri: undefined,
    mongodbDbName: 'event_logs',
    mongodbCollection: 'logs',
    logDir: resolve('logs'),
    flushIntervalSeconds: 10,
    deleteLogsOlderThanDays: 30,
    logRetentionDays: 60,
    logBufferSize: 1000,
    maxCollectionSize: 1073741824,
    maxDocuments: 100000,
    host: '0.0.0.0',
    port: 8181,
    workerCount: 0,
    journalFsync: 'always'
  })
  t.ok(Object.isFrozen(c))
})

t.test('an invalid value stops start-up with a message naming the variable', async t => {
  const bad: Array<[string, string]> = [
    ['PORT', 'eighty'], ['PORT', '70000'], ['FLUSH_INTERVAL', '-1'], ['LOG_BUFFER_SIZE', '0'], ['LOG_BUFFER_SIZE', '1.5'],
    ['MAX_DOCUMENTS', 'many'], ['WORKER_COUNT', '-2'], ['MONGODB_URI', 'http://db'], ['MONGODB_DB_NAME', 'a/b'],
    ['MONGODB_COLLECTION', '$logs'], ['JOURNAL_FSYNC', 'sometimes']
  ]
  for (const [name, value] of bad) {
    let caught: unknown
    try {
      loadConfig({ [name]: value })
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof ConfigError, `${name}=${value} is refused`)
    t.equal((caught as ConfigError).variable, name)
    t.match((caught as Error).message, new RegExp(`^Invalid ${name}: `))
  }
})

t.test('values are parsed', async t => {
  const c = loadConfig({ MONGODB_URI: 'mongodb://h:1/', FLUSH_INTERVAL: '0.5', PORT: '9000', LOG_DIR: '/tmp/x', JOURNAL_FSYNC: 'off' })
  t.match(c, { mongodbUri: 'mongodb://h:1/', flushIntervalSeconds: 0.5, port: 9000, logDir: '/tmp/x', journalFsync: 'off' })
})

t.test('.env in the working directory is read, and real environment variables win', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-env-'))
  writeFileSync(join(dir, '.env'), 'MAAP_TEST_FROM_DOTENV=yes\nMAAP_TEST_BOTH=file\n')
  process.env.MAAP_TEST_BOTH = 'env'
  t.teardown(() => { delete process.env.MAAP_TEST_FROM_DOTENV; delete process.env.MAAP_TEST_BOTH })
  loadDotEnv(dir)
  t.equal(process.env.MAAP_TEST_FROM_DOTENV, 'yes')
  t.equal(process.env.MAAP_TEST_BOTH, 'env')
  loadDotEnv(join(dir, 'missing'))
})
