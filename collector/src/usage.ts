// The command lines' shared rules (maap-collector and maap-logs): strict flags, and Node's parseArgs
// messages made to read like the rest of ours; bad usage exits 2 with a short message.
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Bad usage: a short message (a line, or a few when an example helps), exit status 2. */
export class UsageError extends Error {}

function rephrase (err: Error & { code?: string }): string {
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return err.message.replace(/^Unknown option '([^']*)'.*$/s, 'unknown option $1')
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return err.message.replace(/^Unexpected argument '([^']*)'.*$/s, 'unexpected argument "$1"')
  return err.message
}

/**
 * The flags of `args`, the order the options were given in, and the positionals (none unless
 * `allowPositionals`); UsageError otherwise.
 */
export function strictArgs (args: string[], options: NonNullable<ParseArgsConfig['options']>, allowPositionals = false):
{ values: Record<string, unknown>, order: string[], positionals: string[] } {
  try {
    const { values, tokens, positionals } = parseArgs({ args, options, strict: true, allowPositionals, tokens: true })
    const order = (tokens ?? []).flatMap(t => t.kind === 'option' ? [t.name] : [])
    return { values, order, positionals }
  } catch (err) {
    throw new UsageError(rephrase(err as Error))
  }
}
