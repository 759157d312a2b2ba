// winston → MaapTransport → the collector. Run a collector (`npm start` at the repo root), then:
//   node examples/winston/app.js
// Options come from the environment here (MAAP_URL, MAAP_API_KEY, MAAP_APP_NAME), so the transport is
// one line. The process ends with process.exit(): the transport's exit flush still delivers everything.
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')

winston.configure({
  level: 'debug',
  defaultMeta: { service: 'checkout' },
  format: winston.format.combine(
    winston.format.errors({ stack: true }), // an Error keeps its message and stack
    winston.format.timestamp(),
    winston.format.json()
  ),
  transports: [new winston.transports.Console({ format: winston.format.simple() })]
})
winston.add(new MaapTransport())

winston.info('checkout service started', { port: 3000 })

// A child logger: its metadata is on every record it writes.
const request = winston.child({ requestId: 'req-42', user: 'ana' })
request.debug('cart loaded', { items: 3 })
request.warn('payment slow', { ms: 1800 })

try {
  JSON.parse('{ not json')
} catch (err) {
  request.error(err) // stored with message and stack
}
request.error('payment failed', new Error('card declined'))

process.exit(0)
