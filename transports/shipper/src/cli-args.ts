// maap-ship's flags: each core option as a kebab-case flag, so `--help` and the README table agree.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { ShipperOptions } from './options'
import { DEFAULTS } from './options'

export const CLI_DEFAULTS = Object.freeze({ maxBufferBytes: 16 * 1024 * 1024, highWaterBytes: 4 * 1024 * 1024, closeTimeout: 30_000 })

export const HELP = `Usage: <command> | maap-ship [options]

Reads NDJSON log lines from stdin and ships them to a MAAP collector (POST /logs).
pino and winston JSON lines are mapped like the transports map them; a line that is
not a JSON object is shipped as {"level":"info","message":<line>}.

Options (environment fallback in brackets):
  --url <url>                collector URL [MAAP_URL] (default ${DEFAULTS.url})
  --api-key <key>            sent as "Authorization: Bearer <key>" [MAAP_API_KEY]
  --app-name <name>          app_name for lines without one [MAAP_APP_NAME]
  --batch-size <n>           records per batch (default ${DEFAULTS.batchSize})
  --batch-bytes <n>          bytes per batch (default ${DEFAULTS.batchBytes})
  --batch-interval <ms>      longest wait before a partial batch is sent (default ${DEFAULTS.batchInterval})
  --max-buffer-bytes <n>     memory bound; beyond it batches are spooled or dropped (default ${CLI_DEFAULTS.maxBufferBytes})
  --high-water-bytes <n>     stop reading stdin above this while the collector keeps up (default ${CLI_DEFAULTS.highWaterBytes})
  --spool-dir <dir>          spill to this directory instead of dropping; replayed later
  --timeout <ms>             per request (default ${DEFAULTS.timeout})
  --ca <file>                PEM file with extra CA certificate(s) for https
  --compress <auto|on|off>   gzip request bodies (default auto: on unless the collector is on loopback)
  --concurrency <n>          batches in flight (default ${DEFAULTS.concurrency})
  --retry-base-ms <ms>       first retry delay (default ${DEFAULTS.retryBaseMs})
  --retry-max-ms <ms>        longest retry delay (default ${DEFAULTS.retryMaxMs})
  --close-timeout <ms>       at EOF or on a signal, keep delivering this long (default ${CLI_DEFAULTS.closeTimeout})
  --tee                      also copy stdin to stdout, unchanged
  -q, --quiet                no summary line on stderr at exit
  -h, --help                 this text
  -V, --version              the version of maap-ship

Exit status: 0 everything delivered; 1 records were dropped or rejected; 2 bad usage;
3 records could not be delivered and are kept in the spool directory.`

export interface CliConfig {
  options: ShipperOptions
  tee: boolean
  quiet: boolean
  help: boolean
  version: boolean
}

const NUMERIC = ['batch-size', 'batch-bytes', 'batch-interval', 'max-buffer-bytes', 'high-water-bytes', 'timeout',
  'concurrency', 'retry-base-ms', 'retry-max-ms', 'close-timeout'] as const

/** Throws an Error with a one-line message on bad usage. */
export function parseCli (argv: string[]): CliConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'app-name': { type: 'string' },
      'spool-dir': { type: 'string' },
      ca: { type: 'string' },
      compress: { type: 'string' },
      tee: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
      ...Object.fromEntries(NUMERIC.map(name => [name, { type: 'string' as const }]))
    }
  })
  const v = values as Record<string, string | boolean | undefined>
  // A pipe tool's defaults: smaller memory bounds than an in-process shipper's (its whole footprint is
  // the bar), and a longer close — nothing else is waiting on it to exit.
  const options: ShipperOptions = { ...CLI_DEFAULTS }
  if (v.url !== undefined) options.url = v.url as string
  if (v['api-key'] !== undefined) options.apiKey = v['api-key'] as string
  if (v['app-name'] !== undefined) options.appName = v['app-name'] as string
  if (v['spool-dir'] !== undefined) options.spoolDir = v['spool-dir'] as string
  if (v.ca !== undefined) options.ca = readFileSync(v.ca as string)
  if (v.compress !== undefined) {
    const c = { auto: 'auto', on: true, off: false } as const
    if (!(v.compress as string in c)) throw new Error(`--compress must be auto, on or off, got "${v.compress}"`)
    options.compress = c[v.compress as keyof typeof c]
  }
  for (const flag of NUMERIC) {
    const raw = v[flag]
    if (raw === undefined) continue
    const key = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ShipperOptions
    ;(options as Record<string, unknown>)[key] = raw
  }
  return { options, tee: v.tee === true, quiet: v.quiet === true, help: v.help === true, version: v.version === true }
}
