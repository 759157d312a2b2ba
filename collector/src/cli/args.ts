// maap-logs' command line: a subcommand, an optional query in the query language (one argument: the
// read API's `query`), then flags named after the read API's other parameters (--app-name → app_name,
// --field k=v → f.k=v), checked here once so a typo never reaches the network. The query itself is
// judged by the collector alone, so the CLI never disagrees with the collector it talks to; `export`,
// which reads LOG_DIR's files itself, judges it with the collector's own parser (read/query.ts).
import { UsageError, strictArgs } from '../usage'
import { helpFor } from './help'

export const DEFAULT_URL = 'http://127.0.0.1:8181'
export const DEFAULT_LIMIT = 100
/** The most one JSON page holds (the API's cap); past it, search reads the NDJSON export. */
export const MAX_PAGE = 1000

export { UsageError }

export interface Filters {
  /** The positional argument, in the query language (`query`). */
  query: string | undefined
  appName: string | undefined
  level: string | undefined
  /** --query/-q: literal text in `message` (`q`). */
  text: string | undefined
  /** `key=value` pairs, in the order given. */
  fields: Array<[string, string]>
  from: string | undefined
  to: string | undefined
}

export interface CommonOptions {
  url: URL
  /** Sent as a bearer token; never printed. */
  apiKey: string | undefined
  json: boolean
  color: boolean
  utc: boolean
  filters: Filters
}

export interface SearchOptions extends CommonOptions {
  /** Newest N, printed oldest first; undefined with --all. */
  limit: number | undefined
}

export interface ExportOptions {
  /** The collector's LOG_DIR, or a copy of it: read, never written. */
  dir: string
  filters: Filters
}

export type Command =
  | { kind: 'help', text: string }
  | { kind: 'version' }
  | { kind: 'search', options: SearchOptions }
  | { kind: 'tail', options: CommonOptions }
  | { kind: 'export', options: ExportOptions }

type CommandName = 'search' | 'tail' | 'export'

export interface Environment {
  env: NodeJS.ProcessEnv
  /** Whether stdout is a terminal (colours by default). */
  isTTY: boolean
}

const FILTER_FLAGS = {
  'app-name': { type: 'string', short: 'a' },
  level: { type: 'string', short: 'l' },
  query: { type: 'string', short: 'q' },
  field: { type: 'string', short: 'f', multiple: true },
  from: { type: 'string' },
  to: { type: 'string' }
} as const

const COMMON_FLAGS = {
  ...FILTER_FLAGS,
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  utc: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

const SEARCH_FLAGS = { ...COMMON_FLAGS, limit: { type: 'string', short: 'n' }, all: { type: 'boolean' } } as const

// No --url, --api-key or output settings: export reads files and prints them as they are stored.
const EXPORT_FLAGS = { ...FILTER_FLAGS, dir: { type: 'string', short: 'd' }, help: { type: 'boolean', short: 'h' } } as const

function urlOf (raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--url: "${raw}" is not a URL (e.g. ${DEFAULT_URL})`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url: use an http:// or https:// URL')
  if (url.username !== '' || url.password !== '') throw new UsageError('--url: no credentials in the URL; pass the key with --api-key or MAAP_API_KEY')
  if (!url.pathname.endsWith('/')) url.pathname += '/' // a collector behind a path prefix: <prefix>/logs
  return url
}

function fieldOf (raw: string): [string, string] {
  const eq = raw.indexOf('=')
  if (eq <= 0) throw new UsageError(`--field: expected key=value (e.g. http.status=500), got "${raw}"`)
  return [raw.slice(0, eq), raw.slice(eq + 1)]
}

/** --color / --no-color (the last one given wins), else NO_COLOR / FORCE_COLOR, else whether stdout is a terminal. */
function colorOf (order: string[], env: Environment): boolean {
  const last = order.filter(n => n === 'color' || n === 'no-color').at(-1)
  if (last !== undefined) return last === 'color'
  if (env.env.NO_COLOR !== undefined && env.env.NO_COLOR !== '') return false
  const force = env.env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false'
  return env.isTTY
}

/**
 * The positionals: none, or the query as one argument. Several are refused rather than joined: the
 * shell has already split an unquoted query at its spaces and taken its > < ( ) * " ' for its own
 * (`search level >= ERROR` arrives as "level" "ERROR", the output redirected to a file named "="), so
 * a joined query would silently search for something else.
 */
function queryOf (command: CommandName, positionals: string[]): string | undefined {
  if (positionals.length <= 1) return positionals[0]
  const shown = positionals.slice(0, 5).map(p => JSON.stringify(p.slice(0, 40))).join(' ') + (positionals.length > 5 ? ' …' : '')
  throw new UsageError(`the query must be one argument, in quotes; got ${positionals.length}: ${shown}\n` +
    '  unquoted, the shell splits a query at its spaces and takes > < ( ) * " \' for its own:\n' +
    `  maap-logs ${command} 'level >= ERROR and app_name = api'`)
}

function filtersOf (values: Record<string, unknown>, positionals: string[], command: CommandName): Filters {
  const str = (name: string): string | undefined => values[name] as string | undefined
  return {
    query: queryOf(command, positionals),
    appName: str('app-name'),
    level: str('level'),
    text: str('query'),
    fields: ((values.field as string[] | undefined) ?? []).map(fieldOf),
    from: str('from'),
    to: str('to')
  }
}

function common (values: Record<string, unknown>, order: string[], positionals: string[], command: 'search' | 'tail', env: Environment): CommonOptions {
  const str = (name: string): string | undefined => values[name] as string | undefined
  const apiKey = str('api-key') ?? env.env.MAAP_API_KEY
  return {
    url: urlOf(str('url') ?? env.env.MAAP_URL ?? DEFAULT_URL),
    apiKey: apiKey === '' ? undefined : apiKey,
    json: values.json === true,
    color: colorOf(order, env),
    utc: values.utc === true,
    filters: filtersOf(values, positionals, command)
  }
}

function limitOf (raw: string | undefined, all: boolean): number | undefined {
  if (raw !== undefined && all) throw new UsageError('--limit and --all: give one of them')
  if (all) return undefined
  if (raw === undefined) return DEFAULT_LIMIT
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new UsageError(`--limit: expected a whole number from 1 up, got "${raw}"`)
  return Number(raw)
}

export function parseCommand (argv: string[], env: Environment): Command {
  const [name, ...rest] = argv
  if (name === undefined) throw new UsageError('a command is needed: search, tail or export')
  if (name === '-h' || name === '--help' || name === 'help') {
    const about = rest[0] === 'search' || rest[0] === 'tail' || rest[0] === 'export' ? rest[0] : undefined
    return { kind: 'help', text: helpFor(about) }
  }
  if (name === '-V' || name === '--version') return { kind: 'version' }
  if (name === 'search') {
    const { values, order, positionals } = strictArgs(rest, SEARCH_FLAGS, true)
    if (values.help === true) return { kind: 'help', text: helpFor('search') }
    return { kind: 'search', options: { ...common(values, order, positionals, 'search', env), limit: limitOf(values.limit as string | undefined, values.all === true) } }
  }
  if (name === 'tail') {
    const { values, order, positionals } = strictArgs(rest, COMMON_FLAGS, true)
    if (values.help === true) return { kind: 'help', text: helpFor('tail') }
    return { kind: 'tail', options: common(values, order, positionals, 'tail', env) }
  }
  if (name === 'export') {
    const { values, positionals } = strictArgs(rest, EXPORT_FLAGS, true)
    if (values.help === true) return { kind: 'help', text: helpFor('export') }
    const dir = values.dir as string | undefined
    if (dir === undefined || dir === '') throw new UsageError('export needs --dir <dir>: the collector\'s LOG_DIR, or a copy of it')
    return { kind: 'export', options: { dir, filters: filtersOf(values, positionals, 'export') } }
  }
  throw new UsageError(name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}": use search, tail or export`)
}
