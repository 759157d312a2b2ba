// @maap-event-logger/shipper — the one shipping core used by the pino transport, the winston transport
// and the maap-ship CLI.
export { Shipper } from './shipper'
export { ShipperError, type ShipperErrorCode } from './errors'
export { DEFAULTS, resolveOptions, type ShipperOptions, type ResolvedOptions } from './options'
export type { ShipperStats } from './stats'
export { mapRecord, mapLine, type CollectorEvent, type MapContext } from './map'
export { pinoLevelName } from './levels'
export { backoffDelay, parseRetryAfter } from './backoff'
export { hostShipper, type HostMessage, type HostReply, type WorkerData } from './worker-host'
export { startShipperWorker, type ShipperWorker, type StartWorkerOptions } from './worker-client'
export { EXIT_MARGIN_MS } from './exit-flush'
export { stderrLine } from './stderr'
