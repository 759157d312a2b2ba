// An application that logs through winston → MaapTransport, driven by commands on stdin so fault tests
// can stage an outage between records:
//   "log N"  logs the next N records (fields: i, and child metadata requestId) → prints "logged <total>"
//   "end"    logger.end(), prints "finish" at the logger's 'finish' (after delivery), then exits 0
// Transport options come as JSON in MAAP_TRANSPORT_OPTIONS. Plain CommonJS: no test tooling inside.
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')
const { createInterface } = require('node:readline')

const logger = winston.createLogger({
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [new MaapTransport(JSON.parse(process.env.MAAP_TRANSPORT_OPTIONS || '{}'))]
})
const child = logger.child({ requestId: 'req-7' })
let total = 0

createInterface({ input: process.stdin }).on('line', line => {
  const [cmd, arg] = line.trim().split(/\s+/)
  if (cmd === 'log') {
    for (let k = 0; k < Number(arg); k++) child.info(`record ${total}`, { i: total++ })
    console.log(`logged ${total}`)
  }
  if (cmd === 'end') {
    logger.on('finish', () => {
      console.log('finish')
      process.exit(0)
    })
    logger.end()
  }
})
