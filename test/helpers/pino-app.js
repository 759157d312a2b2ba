// An application that logs through pino → @maap-event-logger/pino-transport, driven by commands on
// stdin so end-to-end tests can stage an outage between records:
//   "log N"  logs the next N records (fields: i, and child binding requestId) → prints "logged <total>"
//   "flush"  logger.flush(cb) → prints "flushed"
//   "exit"   process.exit(0) right away (pino's exit path does the delivery)
// With LOG_THEN_EXIT=N it logs N records and calls process.exit() without reading stdin.
// Transport options come as JSON in MAAP_TRANSPORT_OPTIONS. Plain CommonJS: no test tooling inside.
'use strict'
const pino = require('pino')
const { createInterface } = require('node:readline')

const options = JSON.parse(process.env.MAAP_TRANSPORT_OPTIONS || '{}')
const logger = pino({ transport: { target: '@maap-event-logger/pino-transport', options } })
const child = logger.child({ requestId: 'req-42' })
let total = 0
const log = n => { for (let k = 0; k < n; k++) child.info({ i: total++ }, 'record %d', total) }

if (process.env.LOG_THEN_EXIT) {
  log(Number(process.env.LOG_THEN_EXIT))
  process.exit(0)
}
createInterface({ input: process.stdin }).on('line', line => {
  const [cmd, arg] = line.trim().split(/\s+/)
  if (cmd === 'log') { log(Number(arg)); console.log(`logged ${total}`) }
  if (cmd === 'flush') logger.flush(() => console.log('flushed'))
  if (cmd === 'exit') process.exit(0)
})
