// maap-collector's command line. The collector is configured by environment variables alone (config.ts);
// the flags only ask about it. Anything else is a mistake worth stopping for (exit 2), not starting a
// service with a flag silently ignored.
import { parseArgs } from 'node:util'
import { configHelp } from './config-docs'

export type BinCommand = 'run' | 'help' | 'version'

/** Bad usage: a one-line message, exit status 2. */
export class UsageError extends Error {}

export function binCommand (argv: string[]): BinCommand {
  let values
  try {
    values = parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' }
    } }).values
  } catch (err) {
    const { code, message } = err as Error & { code?: string }
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(message.replace(/^Unknown option '([^']*)'.*$/s, 'unknown option $1'))
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(message.replace(/^Unexpected argument '([^']*)'.*$/s, 'unexpected argument "$1"'))
    throw new UsageError(message)
  }
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
