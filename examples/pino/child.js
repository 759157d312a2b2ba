// Child loggers carry context into every record (the original client's with_context):
// the bindings arrive in MongoDB as top-level fields. Run: node examples/pino/child.js
'use strict'
const pino = require('pino')

const logger = pino({ transport: { target: '@maap-event-logger/pino-transport', options: { appName: 'example-child' } } })

const request = logger.child({ requestId: 'req-7f3a', userId: 42 })
request.info('request received')
const db = request.child({ component: 'db' })
db.debug({ query: 'SELECT 1' }, 'query ran') // below pino's default level: not logged, not shipped
db.info({ durationMs: 12 }, 'query ran')
request.info({ status: 200 }, 'request completed')
