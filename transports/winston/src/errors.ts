// The errors this transport reports (as 'warn' and to onError, or thrown by the constructor): the
// shipping core's, all of them. In one place here too, so the README's table can be checked against
// it (test/errors.test.ts).
export { ERROR_CODES, ShipperError, type ShipperErrorCode } from '@maap-event-logger/shipper/app-thread'
