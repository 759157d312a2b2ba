// @maap-event-logger/winston-transport — `winston.add(new MaapTransport(options))`.
export { MaapTransport } from './transport'
export type { MaapTransportOptions } from './options'
export { ShipperError, type ShipperStats, type ShipperErrorCode } from '@maap-event-logger/shipper/app-thread'
