// winston's own transports.Http → the collector's POST /logs, with no package of ours: the query string
// says which app the records belong to. Run a collector (`npm start` at the repo root), then:
//   node examples/winston-http/app.js
// MAAP_URL (default http://127.0.0.1:8181), MAAP_API_KEY (when the collector has API_KEYS) and
// WINSTON_BATCH=1 (winston's batch mode: one JSON array per batchCount records) configure it.
'use strict'
const winston = require('winston')

const url = new URL(process.env.MAAP_URL ?? 'http://127.0.0.1:8181')
const logger = winston.createLogger({
  level: 'debug',
  format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.timestamp(), winston.format.json()),
  transports: [
    new winston.transports.Http({
      host: url.hostname,
      port: Number(url.port || 80),
      path: '/logs?app_name=checkout-http', // records carry no app_name of their own
      ...(process.env.MAAP_API_KEY ? { auth: { bearer: process.env.MAAP_API_KEY } } : {}),
      ...(process.env.WINSTON_BATCH === '1' ? { batch: true, batchCount: 3, batchInterval: 200 } : {})
    })
  ]
})
// transports.Http reports a failed request (a status other than 200) as a 'warn' event.
logger.transports[0].on('warn', err => { console.error('delivery failed:', err.message); process.exitCode = 1 })

logger.info('service started', { port: 3000 })
logger.warn('cache miss', { key: 'user:42' })
logger.error(new Error('payment declined'))
// transports.Http sends as it goes and the open requests keep the process alive until they are answered.
logger.end()
