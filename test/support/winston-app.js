// The one application the tests run through winston → MaapTransport. Plain CommonJS, so it runs
// exactly as a user's app would, with no test tooling loaded. Records: child metadata requestId
// 'req-1', fields { i }, message "record <i>".
//
// With MODE set it logs N records, then ends the way MODE says:
//   exit     process.exit(0) right after the last log call (the exit hook delivers)
//   natural  nothing: the event loop empties and the process ends on its own
//   end      logger.end(), prints "finish" at the logger's 'finish', then exits
//   throw    an uncaught exception: winston's exception handler (handleExceptions) logs it and exits 1
// Without MODE it is driven by commands on stdin, so a test can stage an outage between records:
//   "log N"  logs the next N records → prints "logged <total>"
//   "end"    logger.end(), prints "finish" at the logger's 'finish' (after delivery), then exits 0
// Transport options: MAAP_TRANSPORT_OPTIONS (JSON), over MAAP_TEST_URL (url), SPOOL_DIR, CLOSE_TIMEOUT;
// with MODE, appName defaults to 'exit-app', retryBaseMs to 50 and retryMaxMs to 200.
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')
const { createInterface } = require('node:readline')

const { MODE, N = '1000', MAAP_TEST_URL, SPOOL_DIR, CLOSE_TIMEOUT } = process.env
const transport = new MaapTransport({
  ...(MODE ? { appName: 'exit-app', retryBaseMs: 50, retryMaxMs: 200 } : {}),
  ...(MAAP_TEST_URL ? { url: MAAP_TEST_URL } : {}),
  ...(SPOOL_DIR ? { spoolDir: SPOOL_DIR } : {}),
  ...(CLOSE_TIMEOUT ? { closeTimeout: Number(CLOSE_TIMEOUT) } : {}),
  handleExceptions: MODE === 'throw',
  ...JSON.parse(process.env.MAAP_TRANSPORT_OPTIONS || '{}')
})
const logger = winston.createLogger({
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [transport]
})
const child = logger.child({ requestId: 'req-1' })
let total = 0
const log = n => {
  for (let k = 0; k < n; k++, total++) child.info(`record ${total}`, { i: total })
}
const end = () => {
  logger.on('finish', () => {
    console.log('finish')
    process.exit(0)
  })
  logger.end()
}

if (MODE) {
  log(Number(N))
  if (MODE === 'exit') process.exit(0)
  if (MODE === 'end') end()
  if (MODE === 'throw') setImmediate(() => { throw new Error('crash after logging') })
} else {
  createInterface({ input: process.stdin }).on('line', line => {
    const [cmd, arg] = line.trim().split(/\s+/)
    if (cmd === 'log') { log(Number(arg)); console.log(`logged ${total}`) }
    if (cmd === 'end') end()
  })
}
