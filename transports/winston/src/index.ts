// @maap-event-logger/winston-transport — `winston.add(new MaapTransport(options))`.
export { MaapTransport } from './transport'
export type { MaapTransportOptions } from './options'
export { ERROR_CODES, ShipperError, type ShipperErrorCode } from './errors'
export type { ShipperStats, FlushResult, NotDelivered } from '@maap-event-logger/shipper/app-thread'
