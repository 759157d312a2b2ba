// The one test-support module of the repository, imported by every test that needs more than tap: stub
// collectors, the real collector as a child process, the test MongoDB, load generators and the
// exactly-once check, child processes, stderr capture, polling, journal and /proc readers, a
// self-signed certificate, the clock moved by hand and the errors-documentation check. The applications the tests run are plain
// CommonJS files beside this one (pino-app.js, winston-app.js), so they load no test tooling.
import { resolve } from 'node:path'

export * from './ack-cutter'
export * from './clock'
export * from './collector'
export * from './errors-doc'
export * from './exactly-once'
export * from './journal'
export * from './load'
export * from './mongo'
export * from './poll'
export * from './process'
export * from './stub-collector'
export * from './e2e'
export { selfSignedCertificate } from './certificate'
export { peakRssMb, rssMb } from './proc'

/** An application logging through pino → the pino transport (see the file for its commands and env). */
export const pinoApp = resolve(__dirname, 'pino-app.js')
/** An application logging through winston → MaapTransport (see the file for its commands and env). */
export const winstonApp = resolve(__dirname, 'winston-app.js')
/** The built maap-ship CLI. */
export const maapShip = resolve(__dirname, '..', '..', 'transports', 'shipper', 'dist', 'cli.js')
