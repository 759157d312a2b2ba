// maap-logs export as a command: runs the export (export.ts) and turns what happened into words on stderr
// and an exit status. No signal handlers: Ctrl-C ends it as it ends cat, and the output is then incomplete.
import { QuerySyntaxError } from '../query/parse'
import { QueryParameterError } from '../read/parameters'
import type { ExportOptions } from './args'
import { pointAt } from './caret'
import { exportLogs } from './export'
import { JournalDirError } from './export-journals'
import { inFlagTerms } from './query'

export type Outcome = 'ok' | 'failed' | 'usage'

/** A query that does not parse, with a caret under the place; another bad filter, in flag terms. */
function badFilter (err: QueryParameterError, query: string | undefined): string {
  if (err instanceof QuerySyntaxError && query !== undefined) {
    const columns = process.stderr.isTTY === true ? process.stderr.columns : Infinity
    return [err.message, ...pointAt(query, err.position, columns)].join('\n')
  }
  return inFlagTerms(err.message)
}

export async function runExport (options: ExportOptions, say: (text: string) => void): Promise<Outcome> {
  try {
    const { warnings, writeError, readerGone } = await exportLogs(options, process.stdout, say)
    if (writeError !== undefined) {
      say(`stdout could not be written (${writeError.code ?? writeError.message}); what was printed is incomplete`)
      return 'failed'
    }
    if (warnings === 0) return 'ok'
    // `| head`: the warnings stand, but nothing can be said of what the reader did not take.
    if (readerGone) return 'failed'
    say(`what the ${warnings === 1 ? 'warning above names was' : `${warnings} warnings above name were`} skipped; everything else was printed`)
    return 'failed'
  } catch (err) {
    if (err instanceof QueryParameterError) {
      say(badFilter(err, options.filters.query))
      return 'usage'
    }
    if (!(err instanceof JournalDirError)) throw err
    say(err.message)
    return err.usage ? 'usage' : 'failed'
  }
}
