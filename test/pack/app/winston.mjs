// winston from ESM, with a named import of the CommonJS package: as winston.cjs.
import winston from 'winston'
import { MaapTransport } from '@maap-event-logger/winston-transport'
const { MAAP_URL, MAAP_API_KEY, APP_NAME, N } = process.env
const logger = winston.createLogger({ transports: [new MaapTransport({ url: MAAP_URL, apiKey: MAAP_API_KEY, appName: APP_NAME })] })
for (let i = 0; i < Number(N); i++) logger.info(`record ${i}`, { i })
logger.end()
