// The plain case: one line of config, pino as usual. Run: node examples/pino/plain.js
// (collector on MAAP_URL, default http://127.0.0.1:8181 — `npm start` in another terminal).
'use strict'
const pino = require('pino')

const logger = pino({
  name: 'example-plain',
  transport: { target: '@maap-event-logger/pino-transport', options: { appName: 'example-plain' } }
})

logger.info('service started')
logger.warn({ diskFreeMb: 512 }, 'disk space is getting low')
logger.error(new Error('payment provider timed out'), 'checkout failed')
// process.exit() right after logging is fine: the transport delivers on pino's exit path.
process.exit(0)
