// Type-checked (tsc --noEmit, module nodenext) in the fresh app: the packages' types from ESM.
import { build, loadConfig, type CollectorConfig } from '@maap-event-logger/collector'
import { Shipper, type ShipperOptions, type ShipperStats } from '@maap-event-logger/shipper'
import { startShipperThread } from '@maap-event-logger/shipper/app-thread'
import { maapTransport, type PinoTransportOptions } from '@maap-event-logger/pino-transport'
import { MaapTransport, type MaapTransportOptions } from '@maap-event-logger/winston-transport'
import { createLogger, maapTransmit, type LoggerOptions, type Stats } from '@maap-event-logger/browser'

const config: Readonly<CollectorConfig> = loadConfig({ PORT: '0' })
export const app: Promise<unknown> = build(config)
const options: ShipperOptions = { url: 'http://127.0.0.1:8181', appName: 'types' }
export const stats: Promise<ShipperStats> = new Shipper(options).close()
export const thread = startShipperThread(options)
const pinoOptions: PinoTransportOptions = { appName: 'types' }
export const stream = maapTransport(pinoOptions)
const winstonOptions: MaapTransportOptions = { appName: 'types' }
export const transport = new MaapTransport(winstonOptions)
// @ts-expect-error a misspelt option is a type error, so the types are really there (not `any`)
export const wrong = new Shipper({ urll: 'x' })
const browserOptions: LoggerOptions = { url: 'https://logs.example.com', key: 'pk_types_3f9a2c1d', appName: 'types', level: 'warn' }
export const browserLogger = createLogger(browserOptions)
export const browserStats: Stats = browserLogger.stats()
export const transmit: { send: (level: string, logEvent: { messages: unknown[], level: { label: string, value: number } }) => void } = maapTransmit(browserLogger)
// @ts-expect-error the browser package's options are typed too
export const wrongBrowser = createLogger({ url: 'x', key: 'k', appNam: 'types' })
