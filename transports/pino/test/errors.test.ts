import t from 'tap'
import { resolve } from 'node:path'
import { ERROR_CODES } from '../src/errors'
import { testErrorsDocumented } from '../../../test/support'

testErrorsDocumented(t, resolve(__dirname, '..', 'README.md'), Object.keys(ERROR_CODES))
