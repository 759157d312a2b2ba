// @maap-event-logger/shipper — the one shipping core used by the pino transport, the winston transport
// and the maap-ship CLI. What the README documents, nothing more: tests reach helpers through ../src.
// Code on an application thread that runs the core in a worker imports
// '@maap-event-logger/shipper/app-thread' instead: this entry loads the core, and undici with it.
export { Shipper, type ShipperDeps } from './shipper'
export { ShipperError, ERROR_CODES, type ShipperErrorCode } from './errors'
export { DEFAULTS, type ShipperOptions } from './options'
export type { ShipperStats } from './stats'
export type { FlushResult, NotDelivered } from './delivery'
export type { Clock } from './clock'
export { mapRecord, mapLine, type CollectorEvent, type MapContext } from './map'
export { closeAtLoopEnd, type LoopEndTarget } from './loop-end'
export { hostShipper } from './thread/worker-side'
export type { HostMessage, HostReply, WorkerData } from './thread/protocol'
export { startShipperThread, type ShipperThread, type StartThreadOptions } from './thread/app-side'
