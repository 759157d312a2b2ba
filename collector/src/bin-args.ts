// maap-collector's command line. The collector is configured by environment variables alone (config.ts);
// the flags only ask about it. Anything else is a mistake worth stopping for (exit 2), not starting a
// service with a flag silently ignored.
import { configHelp } from './config-docs'
import { UsageError, strictArgs } from './usage'

export type BinCommand = 'run' | 'help' | 'version'

export { UsageError }

export function binCommand (argv: string[]): BinCommand {
  const { values } = strictArgs(argv, { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } })
  if (values.help === true) return 'help'
  if (values.version === true) return 'version'
  return 'run'
}

export function helpText (): string {
  return `Usage: maap-collector [options]

Starts the MAAP collector: HTTP ingest on HOST:PORT, a local journal in LOG_DIR, batches into
MongoDB when MONGODB_URI is set. SIGTERM or SIGINT stops it after flushing (SHUTDOWN_TIMEOUT);
SIGHUP re-reads the API key files.

Options:
  -h, --help     this text
  -V, --version  the collector's version

Environment (a .env file in the working directory is read too; real environment variables win):
${configHelp()}

Exit status: 0 stopped cleanly; 1 failed to start or to shut down; 2 bad usage or an invalid variable.`
}
