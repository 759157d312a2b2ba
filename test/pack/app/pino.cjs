// pino from CommonJS: the target is a package name, which pino resolves from this file's folder — the
// fresh app's node_modules. Ships N records, waits for logger.flush (delivery), then ends by itself.
'use strict'
const pino = require('pino')
const { MAAP_URL, MAAP_API_KEY, APP_NAME, N } = process.env
const logger = pino({ transport: { target: '@maap-event-logger/pino-transport', options: { url: MAAP_URL, apiKey: MAAP_API_KEY, appName: APP_NAME } } })
for (let i = 0; i < Number(N); i++) logger.info({ i }, 'record %d', i)
logger.flush(err => { if (err) throw err })
