// The one application the tests run through pino → @maap-event-logger/pino-transport. Plain CommonJS,
// so it runs exactly as a user's app would, with no test tooling loaded. Records: child binding
// requestId 'req-1', fields { i }, message "record <i>".
//
// With MODE set it logs N records, then leaves the way MODE says:
//   exit        process.exit(0) right after the last log call (pino's exit path delivers)
//   flush-exit  logger.flush(cb), then process.exit(0)
//   natural     nothing: the event loop empties and the process ends on its own
//   targets     as exit, with pino/file (FILE_DEST) as a second target
// Without MODE it is driven by commands on stdin, so a test can stage an outage between records:
//   "log N"  logs the next N records → prints "logged <total>"
//   "flush"  logger.flush(cb) → prints "flushed"
//   "exit"   process.exit(0) right away
// Transport options: MAAP_TRANSPORT_OPTIONS (JSON), over MAAP_TEST_URL (url), SPOOL_DIR, CLOSE_TIMEOUT;
// with MODE, appName defaults to 'exit-app' and retryBaseMs to 20.
'use strict'
const pino = require('pino')
const { createInterface } = require('node:readline')

const { MODE, N = '1000', MAAP_TEST_URL, SPOOL_DIR, CLOSE_TIMEOUT, FILE_DEST } = process.env
const options = {
  ...(MODE ? { appName: 'exit-app', retryBaseMs: 20 } : {}),
  ...(MAAP_TEST_URL ? { url: MAAP_TEST_URL } : {}),
  ...(SPOOL_DIR ? { spoolDir: SPOOL_DIR } : {}),
  ...(CLOSE_TIMEOUT ? { closeTimeout: Number(CLOSE_TIMEOUT) } : {}),
  ...JSON.parse(process.env.MAAP_TRANSPORT_OPTIONS || '{}')
}
const ours = { target: '@maap-event-logger/pino-transport', options }
const transport = MODE === 'targets' ? { targets: [{ target: 'pino/file', options: { destination: FILE_DEST } }, ours] } : ours
const logger = pino({ transport })
const child = logger.child({ requestId: 'req-1' })
let total = 0
const log = n => {
  for (let k = 0; k < n; k++, total++) child.info({ i: total }, 'record %d', total)
}

if (MODE) {
  log(Number(N))
  if (MODE === 'exit' || MODE === 'targets') process.exit(0)
  if (MODE === 'flush-exit') logger.flush(() => process.exit(0))
  // MODE 'natural': nothing keeps the process alive; it ends on its own.
} else {
  createInterface({ input: process.stdin }).on('line', line => {
    const [cmd, arg] = line.trim().split(/\s+/)
    if (cmd === 'log') { log(Number(arg)); console.log(`logged ${total}`) }
    if (cmd === 'flush') logger.flush(() => console.log('flushed'))
    if (cmd === 'exit') process.exit(0)
  })
}
