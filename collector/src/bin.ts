#!/usr/bin/env node
// maap-collector: answers --help / --version (bin-args.ts), runs `doctor` (doctor/main.ts), or reads the configuration (environment and ./.env), starts the collector, and shuts it
// down cleanly on SIGTERM/SIGINT: stop accepting, flush within SHUTDOWN_TIMEOUT, exit. SIGHUP re-reads
// the API key files.
// WORKER_COUNT > 1: this process becomes the cluster primary (cluster.ts) and each worker runs this file again.
// The server (app.ts), the cluster primary and doctor are loaded only by the command that runs them:
// --help and --version answer without loading Fastify and the MongoDB driver (~80 ms instead of ~330).
import cluster from 'node:cluster'
import { binCommand, helpText, UsageError } from './bin-args'
import { ConfigError, loadConfig, loadDotEnv } from './config'
import { workerJournals } from './journal/worker-dirs'
import { VERSION } from './version'

async function main (): Promise<void> {
  let command
  try {
    command = binCommand(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`maap-collector: ${err.message} (see maap-collector --help)\n`)
    process.exit(2)
  }
  if (command.name === 'help') {
    process.stdout.write(helpText() + '\n')
    return
  }
  if (command.name === 'version') {
    process.stdout.write(VERSION + '\n')
    return
  }
  if (command.name === 'doctor') {
    const { doctor } = await import('./doctor/main.js')
    process.exitCode = await doctor(command.json)
    return
  }
  let config
  try {
    loadDotEnv()
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`maap-collector: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  if (config.workerCount > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./cluster.js')
    await runPrimary(config)
    return
  }
  // SIGHUP rotates keys (keys/ring.ts) rather than ending the process, as daemons do; one that arrives
  // while the collector starts is served once it can be. (A cluster primary passes it on instead.)
  let reloadKeys: (() => void) | undefined
  let hupWhileStarting = false
  process.on('SIGHUP', () => {
    if (reloadKeys === undefined) hupWhileStarting = true
    else reloadKeys()
  })
  const { build } = await import('./app.js')
  const app = await build(config, { level: config.logLevel })
  const left = cluster.isPrimary ? await workerJournals(config.logDir) : []
  if (left.length > 0) {
    app.log.warn({ dirs: left }, 'LOG_DIR holds worker journals from a run with WORKER_COUNT > 1, which one process does not read; ' +
      'run once with that WORKER_COUNT and stop it with SIGTERM to drain them')
  }
  if (config.mongodbUri === undefined) {
    app.log.warn({ logDir: config.logDir }, 'MONGODB_URI is not set: running on the local journal alone (embedded mode)')
  }
  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  reloadKeys = () => {
    app.collector.keys.reload().then(
      counts => app.log.info(counts, 'API keys reloaded'),
      (err: Error) => app.log.warn({ reason: err.message }, 'API keys not reloaded; the previous keys stay in force'))
  }
  if (hupWhileStarting) reloadKeys()
  await app.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`maap-collector: failed to start: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
