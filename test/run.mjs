// `npm test`: provisions a real MongoDB wire-protocol server (see mongo/server.mjs), runs tap with its URI
// in TEST_MONGODB_URI, stops the server and exits with tap's code.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chooseKind, ferretBinary, startMongoServer } from './mongo/server.mjs'

const tapBin = fileURLToPath(new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url))
const kind = chooseKind()
const env = { ...process.env, TEST_MONGO_KIND: kind }
if (kind === 'ferretdb') env.TEST_FERRETDB_BIN = ferretBinary()
const server = await startMongoServer({ kind })
env.TEST_MONGODB_URI = server.uri
delete env.MONGODB_URI // tests pass MONGODB_URI to the collector explicitly, never by accident
process.stdout.write(`# MongoDB for tests: ${kind} at ${server.uri}\n`)

const tap = spawn(process.execPath, [tapBin, ...process.argv.slice(2)], { stdio: 'inherit', env })
const stopAll = (signal) => { tap.kill(signal) }
process.on('SIGINT', stopAll)
process.on('SIGTERM', stopAll)
tap.on('exit', async (code, signal) => {
  await server.stop()
  process.exit(code ?? (signal ? 1 : 0))
})
