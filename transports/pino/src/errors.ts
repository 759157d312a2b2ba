// The errors this transport can report: the shipping core's, all of them (the transport is the core
// running in pino's worker thread). In one place here too, so the README's table can be checked
// against it (test/errors.test.ts).
export { ERROR_CODES, ShipperError, type ShipperErrorCode } from '@maap-event-logger/shipper'
