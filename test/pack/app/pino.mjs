// pino from ESM: as pino.cjs, with the target resolved from this module's URL.
import pino from 'pino'
const { MAAP_URL, MAAP_API_KEY, APP_NAME, N } = process.env
const logger = pino({ transport: { target: '@maap-event-logger/pino-transport', options: { url: MAAP_URL, apiKey: MAAP_API_KEY, appName: APP_NAME } } })
for (let i = 0; i < Number(N); i++) logger.info({ i }, 'record %d', i)
logger.flush(err => { if (err) throw err })
