// @maap-event-logger/shipper/app-thread — what an application thread needs to run the core in a worker
// thread (the winston transport): the worker client, option checks, errors and the mapper. Nothing
// imported from here loads the Shipper or undici; a test proves it (test/app-thread.test.ts).
export { startShipperThread, type ShipperThread, type StartThreadOptions, type ThreadReplacement } from './thread/app-side'
export { EXIT_MARGIN_MS } from './thread/exit-flush'
/** The shipper events a ShipperThread re-emits from its worker (besides 'error'). */
export { FORWARDED as THREAD_EVENTS } from './thread/protocol'
export { noticeLine } from './notices'
export { ShipperError, ERROR_CODES, type ShipperErrorCode } from './errors'
export { DEFAULTS, resolveOptions, type ShipperOptions, type ResolvedOptions } from './options'
export type { ShipperStats } from './stats'
export type { FlushResult, NotDelivered } from './delivery'
export { mapRecord, mapLine, type CollectorEvent, type MapContext } from './map'
