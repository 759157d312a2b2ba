// The shared test support for the transports' tests and the end-to-end tests under test/: one place
// for stub collectors, child processes, stderr capture, polling, journal and /proc readers, the clock
// moved by hand and the errors-documentation check. The applications the tests run are plain
// CommonJS files beside this one (pino-app.js, winston-app.js), so they load no test tooling.
import { resolve } from 'node:path'

export * from './clock'
export * from './errors-doc'
export * from './journal'
export * from './poll'
export * from './process'
export * from './stub-collector'
export { peakRssMb, rssMb } from './proc'

/** An application logging through pino → the pino transport (see the file for its commands and env). */
export const pinoApp = resolve(__dirname, 'pino-app.js')
/** An application logging through winston → MaapTransport (see the file for its commands and env). */
export const winstonApp = resolve(__dirname, 'winston-app.js')
/** The built maap-ship CLI. */
export const maapShip = resolve(__dirname, '..', '..', 'transports', 'shipper', 'dist', 'cli.js')
