import t from 'tap'
import { resolve } from 'node:path'
import * as errors from '../src/errors'
import { testErrorsDocumented } from '../../test/support'

testErrorsDocumented(t, resolve(__dirname, '..', 'README.md'), Object.keys(errors.ERROR_CODES))

t.test('every error the module exports answers with a code of ERROR_CODES and a 4xx or 5xx status', async t => {
  const made = Object.entries(errors)
    .filter(([name]) => name.endsWith('Error') && name !== 'ConfigError')
    .map(([name, E]) => ({ name, err: new (E as new (...args: unknown[]) => { code: string, statusCode: number })('x', 1) }))
  t.ok(made.length >= Object.keys(errors.ERROR_CODES).length)
  for (const { name, err } of made) {
    t.ok(Object.hasOwn(errors.ERROR_CODES, err.code), `${name}: ${err.code} is in ERROR_CODES`)
    t.ok(err.statusCode >= 400 && err.statusCode < 600, `${name}: status ${err.statusCode}`)
  }
  t.equal(new Set(made.map(m => m.err.code)).size, made.length, 'no two errors share a code')
})
