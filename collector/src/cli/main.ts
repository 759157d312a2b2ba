// maap-logs: reads a MAAP collector's logs from a terminal (search, tail), or its LOG_DIR without it
// (export). See help.ts for the flags.
//
// Exit status: 0 done or stopped with Ctrl-C; 1 the collector refused (a key, or a query sent to a
// collector that predates the language) or could not be reached, or an answer was cut short, or (export)
// something on disk could not be read; 2 bad usage, a filter or query the collector rejected included.
import type { CollectorErrorCode } from '../errors'
import { parseCommand, UsageError } from './args'
import { pointAt } from './caret'
import { ApiError, cutReason, Unreachable } from './http'
import { Output } from './output'
import { inFlagTerms } from './query'
import { search } from './search'
import { tail } from './tail'
import { VERSION } from '../version'

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

function say (text: string): void {
  process.stderr.write(`maap-logs: ${text}\n`)
}

/** The collector's no, in words that say what to do about it; a query it could not parse, with a caret under the place. */
function refusal (err: ApiError, query: string | undefined): { text: string, code: number } {
  // A collector from before the query language: the query is fine, the collector cannot take it.
  if (err.status === 400 && err.message === 'unknown parameter "query"') {
    return { text: 'this collector does not know the query language (upgrade it); the flags --app-name, --level, --query, --field, --from, --to still work', code: EXIT.failed }
  }
  if (err.code === ('MAAP_BAD_QUERY' satisfies CollectorErrorCode)) {
    if (query !== undefined && err.position !== undefined && err.message.startsWith('query: ')) {
      const columns = process.stderr.isTTY === true ? process.stderr.columns : Infinity
      return { text: [err.message, ...pointAt(query, err.position, columns)].join('\n'), code: EXIT.usage }
    }
    return { text: inFlagTerms(err.message), code: EXIT.usage }
  }
  const hint = err.status === 401 ? ' (pass --api-key or set MAAP_API_KEY)' : err.status === 403 ? ' (--api-key / MAAP_API_KEY)' : ''
  return { text: `${err.message}${hint} [HTTP ${err.status}${err.code === undefined ? '' : ' ' + err.code}]`, code: EXIT.failed }
}

export async function main (argv: string[]): Promise<number> {
  let command
  try {
    command = parseCommand(argv, { env: process.env, isTTY: process.stdout.isTTY === true })
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    say(`${err.message} (see maap-logs --help)`)
    return EXIT.usage
  }
  if (command.kind === 'help') {
    process.stdout.write(command.text + '\n')
    return EXIT.ok
  }
  if (command.kind === 'version') {
    process.stdout.write(VERSION + '\n')
    return EXIT.ok
  }
  if (command.kind === 'export') {
    // Loaded only for export: the journal and query code it needs would slow every other command's start.
    const { runExport } = await import('./export-command.js')
    return EXIT[await runExport(command.options, say)]
  }
  const { options } = command
  const out = new Output(process.stdout, options)
  const notices = { notice: say, interactive: process.stderr.isTTY === true }
  // Ctrl-C is how a tail ends: stop reading, leave with 0.
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    if (command.kind === 'search') await search(command.options, out, notices, stop.signal)
    else await tail(command.options, out, notices, stop.signal)
    return EXIT.ok
  } catch (err) {
    if (stop.signal.aborted || out.closed) return EXIT.ok
    if (err instanceof ApiError) {
      const { text, code } = refusal(err, options.filters.query)
      say(text)
      return code
    }
    if (err instanceof Unreachable) {
      say(err.message)
      return EXIT.failed
    }
    say(`the answer was cut short (${cutReason(err)}); what was printed is incomplete`)
    return EXIT.failed
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

/** The bin's entry: runs main() and leaves with its status. */
export function run (): void {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
    say(`unexpected error: ${(err as Error).stack ?? String(err)}`)
    process.exitCode = EXIT.failed
  })
}

// Run when started directly (node dist/cli/main.js); the bin launcher calls run() itself.
if (require.main === module) run()
