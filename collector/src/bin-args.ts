// maap-collector's command line. The collector is configured by environment variables alone (config.ts);
// the flags and the `doctor` subcommand only ask about it. Anything else is a mistake worth stopping for (exit 2), not starting a
// service with a flag silently ignored.
import { configHelp } from './config-docs'
import { UsageError, strictArgs } from './usage'

export type BinCommand =
  | { name: 'run' }
  | { name: 'help' }
  | { name: 'version' }
  /** `maap-collector doctor [--json]`: check MongoDB and LOG_DIR as configured (doctor/main.ts). */
  | { name: 'doctor', json: boolean }

export { UsageError }

export function binCommand (argv: string[]): BinCommand {
  if (argv[0] === 'doctor') {
    const { values } = strictArgs(argv.slice(1), { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
    return values.help === true ? { name: 'help' } : { name: 'doctor', json: values.json === true }
  }
  const { values } = strictArgs(argv, { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } })
  if (values.help === true) return { name: 'help' }
  if (values.version === true) return { name: 'version' }
  return { name: 'run' }
}

export function helpText (): string {
  return `Usage: maap-collector [options]
       maap-collector doctor [--json]

Starts the MAAP collector: HTTP ingest on HOST:PORT, a local journal in LOG_DIR, batches into
MongoDB when MONGODB_URI is set. SIGTERM or SIGINT stops it after flushing (SHUTDOWN_TIMEOUT);
SIGHUP re-reads the API key files.

Options:
  -h, --help     this text
  -V, --version  the collector's version

doctor: reads the same environment, checks the configured MongoDB and LOG_DIR without starting the
collector, and prints one line per check: ok, fallback (does not work; the collector copes, and how),
or FAIL (the collector cannot run: what to fix). Checks: connection, replica_set, write_concern,
insert, replay, create_index, ttl, histogram, delete, lease, read_indexes, log_dir. The writes go to
a scratch collection <MONGODB_COLLECTION>_doctor_<random>, dropped at the end.
  --json         one JSON object {ok, checks: [{name, status, detail, action?}]} on stdout instead

Environment (a .env file in the working directory is read too; real environment variables win):
${configHelp()}

Exit status: 0 stopped cleanly; 1 failed to start or to shut down; 2 bad usage or an invalid variable.
doctor: 0 the collector can run (fallbacks included); 1 it cannot (a FAIL line says why); 2 bad usage.`
}
