// `npm run test:unit`: the tests that need no MongoDB, no collector process and no child process of
// any kind — pure logic, plus the in-process parts tested for real (a stub collector on a loopback
// port, worker threads, Fastify's inject()). They start in well under a minute on a fresh clone.
// `npm test` stays the full suite. A file belongs here only if it spawns nothing and needs no
// TEST_MONGODB_URI; the list is explicit so that a test that starts needing either must be moved out
// of it on purpose, not slip in by its name. Coverage thresholds apply to the full suite only.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const UNIT = [
  'transports/shipper/test/answers.test.ts',
  'transports/shipper/test/backoff.test.ts',
  'transports/shipper/test/batching.test.ts',
  'transports/shipper/test/errors.test.ts',
  'transports/shipper/test/lifecycle.test.ts',
  'transports/shipper/test/map.test.ts',
  'transports/shipper/test/options.test.ts',
  'transports/shipper/test/retry.test.ts',
  'transports/shipper/test/spool.test.ts',
  'transports/shipper/test/worker.test.ts',
  'transports/pino/test/errors.test.ts',
  'transports/pino/test/internals.test.ts',
  'transports/pino/test/stream.test.ts',
  'transports/pino/test/transport.test.ts',
  'transports/winston/test/app-thread.test.ts',
  'transports/winston/test/errors.test.ts',
  'collector/test/api.test.ts',
  'collector/test/auth.test.ts',
  'collector/test/client-errors.test.ts',
  'collector/test/config.test.ts',
  'collector/test/errors.test.ts',
  'collector/test/config-docs.test.ts',
  'collector/test/doctor-failures.test.ts',
  'collector/test/doctor-verdicts.test.ts',
  'collector/test/file-cleanup.test.ts',
  'collector/test/normalise.test.ts',
  'collector/test/line-buffer.test.ts',
  'collector/test/otlp/direct.test.ts',
  'collector/test/otlp/parity.test.ts',
  'collector/test/otlp/varint.test.ts',
  'collector/test/query-text.test.ts',
  'collector/test/tls.test.ts',
  'test/deploy.test.ts'
]

const tapBin = fileURLToPath(new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url))
const env = { ...process.env }
// Nothing here may reach a MongoDB by accident.
delete env.TEST_MONGODB_URI
delete env.MONGODB_URI
const tap = spawn(process.execPath, [tapBin, '--disable-coverage', '--jobs', '4', ...UNIT, ...process.argv.slice(2)], { stdio: 'inherit', env })
tap.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
