// The same entries through ESM named imports (what Node finds in the CommonJS files), plus the worker
// path a host resolves for its own thread, and the ESM-only browser package: in Node it must import
// without a page (it looks at window, document and navigator only when a logger is made).
import { build, loadConfig, ConfigError } from '@maap-event-logger/collector'
import { Shipper, ShipperError, ERROR_CODES, mapRecord, startShipperThread } from '@maap-event-logger/shipper'
import { resolveOptions } from '@maap-event-logger/shipper/app-thread'
import { maapTransport } from '@maap-event-logger/pino-transport'
import { MaapTransport } from '@maap-event-logger/winston-transport'
import { createLogger, maapTransmit } from '@maap-event-logger/browser'
import { createRequire } from 'node:module'
const named = { build, loadConfig, ConfigError, Shipper, ShipperError, ERROR_CODES, mapRecord, startShipperThread, resolveOptions, maapTransport, MaapTransport, createLogger, maapTransmit }
const worker = createRequire(import.meta.url).resolve('@maap-event-logger/shipper/worker')
console.log(JSON.stringify({ named: Object.fromEntries(Object.entries(named).map(([k, v]) => [k, typeof v])), worker }))
