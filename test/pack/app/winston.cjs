// winston from CommonJS: N records, then logger.end(); 'finish' comes after delivery, and the process
// ends by itself (the transport's worker never holds it).
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')
const { MAAP_URL, MAAP_API_KEY, APP_NAME, N } = process.env
const logger = winston.createLogger({ transports: [new MaapTransport({ url: MAAP_URL, apiKey: MAAP_API_KEY, appName: APP_NAME })] })
for (let i = 0; i < Number(N); i++) logger.info(`record ${i}`, { i })
logger.end()
