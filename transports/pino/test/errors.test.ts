import t from 'tap'
import { resolve } from 'node:path'
import { ERROR_CODES } from '@maap-event-logger/pino-transport/errors'
import { undocumentedCodes, unknownCodes } from '../../../test/support'

const readme = resolve(__dirname, '..', 'README.md')
const codes = Object.keys(ERROR_CODES)

t.test('every error code is documented in README.md, and the README names no other', async t => {
  t.ok(codes.length > 0)
  t.same(undocumentedCodes(readme, codes), [], 'undocumented codes')
  t.same(unknownCodes(readme, codes), [], 'documented codes that do not exist')
})
