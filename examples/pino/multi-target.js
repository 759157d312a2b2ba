// Pretty output on the terminal and every record to the collector, from one logger. A spool directory
// keeps records safe while the collector is unreachable. Run: node examples/pino/multi-target.js
'use strict'
const { join } = require('node:path')
const { tmpdir } = require('node:os')
const pino = require('pino')

const logger = pino({
  transport: {
    targets: [
      { target: 'pino-pretty', options: { colorize: true } },
      {
        target: '@maap-event-logger/pino-transport',
        options: { appName: 'example-multi', spoolDir: join(tmpdir(), 'maap-example-spool') }
      }
    ]
  }
})

for (let i = 1; i <= 5; i++) logger.info({ step: i }, 'working')
logger.flush(() => logger.info('done'))
