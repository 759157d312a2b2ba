// Configuration from environment variables, read from one table (SETTINGS) that `maap-collector --help`
// and the README's table are made from too. The first block keeps the original service's names and
// defaults exactly; the rest are ours. Parsed once at start, validated, frozen: an invalid value stops
// start-up with a message naming the variable.
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { ConfigError } from './errors'
import { parseAppQuotas, type AppQuotaRules } from './quota/rules'
import { parseRedactFields, parseRedactPatterns } from './redact/rules'
import { parseRetentionRules, type RetentionRule } from './retention/rules'
import { checkBrowserKeys, parseAdminKey, parseBrowserKeys, parseCorsOrigins, parseIngestKeys, startupKeys, type ApiKey, type BrowserKey, type KeyParser } from './keys'

export { ConfigError }

export type FsyncPolicy = 'always' | 'off'

export interface CollectorConfig {
  mongodbUri: string | undefined
  mongodbDbName: string
  mongodbCollection: string
  logDir: string
  flushIntervalSeconds: number
  deleteLogsOlderThanDays: number
  logRetentionDays: number
  logBufferSize: number
  maxCollectionSize: number
  maxDocuments: number
  host: string
  port: number
  workerCount: number
  // ours
  journalFsync: FsyncPolicy
  segmentMaxBytes: number
  /** JOURNAL_COMPACT: compact closed segments into compressed blocks (journal/compacted/). */
  journalCompact: 'on' | 'off'
  bodyLimitBytes: number
  maxEventDepth: number
  maxEventFields: number
  maxFieldNameLength: number
  retentionSweepSeconds: number
  /** RETENTION_RULES: ages by app_name and level, first match wins; undefined: LOG_RETENTION_DAYS for everything. */
  retentionRules: readonly RetentionRule[] | undefined
  shutdownTimeoutSeconds: number
  /** With WORKER_COUNT > 1: how much longer than shutdownTimeoutSeconds the primary waits for a worker to exit. */
  shutdownGraceSeconds: number
  logLevel: string
  /** API_KEYS: required on the ingest routes when not empty. */
  apiKeys: readonly ApiKey[]
  /** ADMIN_API_KEY: required on /force-flush and the read routes when set. */
  adminKeys: readonly ApiKey[]
  /** API_KEYS_FILE: where apiKeys were read from (instead of API_KEYS); read again on SIGHUP. */
  apiKeysFile: string | undefined
  /** ADMIN_API_KEY_FILE: where adminKeys were read from (instead of ADMIN_API_KEY); read again on SIGHUP. */
  adminKeyFile: string | undefined
  /** READ_API_KEYS: may read (GET /logs, /logs/tail); `app_name:key` reads that app alone. */
  readKeys: readonly ApiKey[]
  /** READ_API_KEYS_FILE: where readKeys were read from; read again on SIGHUP. */
  readKeysFile: string | undefined
  /** BROWSER_API_KEYS: keys public in web pages, each for one app_name and its origins; they may only send events. */
  browserKeys: readonly BrowserKey[]
  /** BROWSER_API_KEYS_FILE: where browserKeys were read from; read again on SIGHUP. */
  browserKeysFile: string | undefined
  /** CORS_ORIGINS: origins allowed cross-origin; undefined: the browser keys' origins. */
  corsOrigins: readonly string[] | undefined
  /** Requests per minute per (browser key, client address); 0 = no limit. */
  browserRateLimitPerMinute: number
  /** Open /logs/tail streams past which a new one is answered 503. */
  maxTailClients: number
  /** Seconds between the comments that keep an idle tail open through proxies. */
  tailHeartbeatSeconds: number
  /** Queries (search, export, histogram, values, fields) running at once per process. */
  queryConcurrency: number
  /** Queries waiting for a slot past which one more is answered 503. */
  queryQueue: number
  /** Threads that scan a count's compacted blocks, per machine (split among WORKER_COUNT processes). */
  scanThreads: number
  /** Seconds a query waits for a slot before it is answered 503. */
  queryQueueWaitSeconds: number
  /** Seconds a query may run (0 = no limit). */
  queryTimeoutSeconds: number
  exportTimeoutSeconds: number
  tlsCertFile: string | undefined
  tlsKeyFile: string | undefined
  /** Bytes waiting for the journal past which ingest answers 503. */
  journalMaxQueueBytes: number
  /** Heap used past which ingest answers 503 (0 = no check). */
  maxHeapUsedBytes: number
  /** Event-loop delay (ms) past which ingest answers 503 (0 = no check). */
  maxEventLoopDelayMs: number
  /** Requests per minute per API key (or per client address without keys); 0 = no limit. */
  rateLimitPerMinute: number
  /** APP_QUOTAS: events per minute per app_name; undefined: no quotas. */
  appQuotas: AppQuotaRules | undefined
  /** Seconds an Idempotency-Key is remembered after its batch was answered. */
  idempotencyWindowSeconds: number
  /** Keys remembered at most (the oldest are forgotten first); 0 = none are remembered. */
  idempotencyMaxKeys: number
  /** The address alert links use (the page as people reach it); undefined: http://HOST:PORT. */
  publicUrl: string | undefined
  /** smtp:// or smtps:// URL (credentials inside) for e-mail channels; undefined: e-mail channels are refused. */
  smtpUrl: string | undefined
  /** From: of alert e-mails. */
  alertEmailFrom: string
  /** Seconds a notification's delivery is retried before it is marked failed. */
  alertDeliveryTimeoutSeconds: number
  /** Seconds one webhook, Slack or SMTP call may take. */
  alertSendTimeoutSeconds: number
  /** REDACT_FIELDS: lower-cased names and dotted paths whose values are replaced at ingest. */
  redactFields: readonly string[]
  /** REDACT_PATTERNS: the built-in detectors on (redact/detectors.ts). */
  redactPatterns: readonly string[]
}

type Env = Record<string, string | undefined>

function read (env: Env, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

interface NumberRule { min?: number, max?: number, integer?: boolean }

function number ({ min = 0, max = Infinity, integer = true }: NumberRule = {}) {
  return (env: Env, variable: string, def: number): number => {
    const raw = read(env, variable)
    if (raw === undefined) return def
    const n = Number(raw)
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
      throw new ConfigError(variable, `expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${raw}"`)
    }
    if (n > max) throw new ConfigError(variable, `expected ${min}..${max}, got ${n}`)
    return n
  }
}

function oneOf<T extends string> (allowed: readonly T[]) {
  return (env: Env, variable: string, def: T): T => {
    const raw = read(env, variable)
    if (raw === undefined) return def
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(variable, `expected one of ${allowed.join(', ')}, got "${raw}"`)
    }
    return raw as T
  }
}

function text (env: Env, variable: string, def: string): string {
  return read(env, variable) ?? def
}

function optional (env: Env, variable: string): string | undefined {
  return read(env, variable)
}

function name (env: Env, variable: string, def: string): string {
  const raw = read(env, variable) ?? def
  // MongoDB database and collection names: no path separators, `$`, NUL or dots at the edges.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(raw) || raw.endsWith('.')) {
    throw new ConfigError(variable, `"${raw}" is not a usable MongoDB name (letters, digits, _ . -)`)
  }
  return raw
}

function mongoUri (env: Env, variable: string): string | undefined {
  const raw = read(env, variable)
  if (raw === undefined) return undefined
  if (!/^mongodb(\+srv)?:\/\//.test(raw)) {
    throw new ConfigError(variable, 'must start with mongodb:// or mongodb+srv://')
  }
  return raw
}

/** The keys in `name`, or in the file `${name}_FILE` names (one or the other); none when neither is set. */
function configuredKeys<K extends ApiKey> (env: Env, name: string, parse: KeyParser<K>): K[] {
  return startupKeys(name, read(env, name), read(env, `${name}_FILE`), parse)
}

function httpUrl (env: Env, variable: string): string | undefined {
  const raw = read(env, variable)
  if (raw === undefined) return undefined
  if (!/^https?:\/\/[^\s/]+/i.test(raw) || !URL.canParse(raw)) throw new ConfigError(variable, 'must be an http:// or https:// address')
  return raw.replace(/\/+$/, '')
}

function smtpUrl (env: Env, variable: string): string | undefined {
  const raw = read(env, variable)
  if (raw === undefined) return undefined
  // The value holds credentials: the error never repeats it.
  if (!/^smtps?:\/\//i.test(raw) || !URL.canParse(raw)) throw new ConfigError(variable, 'must be an smtp:// or smtps:// URL')
  return raw
}

/** Whether HOST only accepts connections from this machine. */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

/** One environment variable: how it is read, and what `--help` and the README say of it. */
export interface Setting<T> {
  readonly variable: string
  /** Passed to `parse` when the variable is unset or blank; undefined: none (shown as "unset"). */
  readonly default: string | number | undefined
  /** What "unset" or the default means, when that needs saying: "embedded mode", "off". */
  readonly note?: string
  /** One line; `code` in backticks (the README keeps them, --help drops them). */
  readonly meaning: string
  readonly parse: (env: Env, variable: string, def: never) => T
}

function setting<T, D extends string | number | undefined> (variable: string, def: D, meaning: string,
  parse: (env: Env, variable: string, def: D) => T, note?: string): Setting<T> {
  return Object.freeze({ variable, default: def, meaning, parse: parse as Setting<T>['parse'], ...(note === undefined ? {} : { note }) })
}

const ingestKeys = (env: Env, variable: string): ApiKey[] => configuredKeys(env, variable, parseIngestKeys)
const adminKey = (env: Env, variable: string): ApiKey[] => configuredKeys(env, variable, parseAdminKey)
const browserKeys = (env: Env, variable: string): BrowserKey[] => configuredKeys(env, variable, parseBrowserKeys)
const logDir = (env: Env, variable: string, def: string): string => resolve(text(env, variable, def))

/**
 * Every variable the collector reads, in the order `--help` and the README list them: the first block
 * keeps the original service's names and defaults exactly; the rest are ours. loadConfig reads these and
 * nothing else, so the help, the README table (held to it by test/config-docs.test.ts) and the parser
 * cannot drift apart.
 */
export const SETTINGS: { readonly [K in keyof CollectorConfig]: Setting<CollectorConfig[K]> } = Object.freeze({
  mongodbUri: setting('MONGODB_URI', undefined, '`mongodb://` or `mongodb+srv://` URI; write concern, read preference, TLS and timeouts go in the URI', mongoUri, 'embedded mode'),
  mongodbDbName: setting('MONGODB_DB_NAME', 'event_logs', 'database', name),
  mongodbCollection: setting('MONGODB_COLLECTION', 'logs', 'collection', name),
  logDir: setting('LOG_DIR', 'logs', 'journal segments, checkpoint, dead letters', logDir),
  flushIntervalSeconds: setting('FLUSH_INTERVAL', 10, 'seconds between flushes to MongoDB', number({ min: 0.01, integer: false })),
  deleteLogsOlderThanDays: setting('DELETE_LOGS_OLDER_THAN', 30, 'days after which the collector\'s own confirmed segment files are deleted (0 = never)', number({ min: 0, integer: false })),
  logRetentionDays: setting('LOG_RETENTION_DAYS', 60, 'days documents are kept in MongoDB (0 = forever)', number({ min: 0, integer: false })),
  logBufferSize: setting('LOG_BUFFER_SIZE', 1000, 'events waiting that start a flush; also the `insertMany` batch size', number({ min: 1 })),
  maxCollectionSize: setting('MAX_COLLECTION_SIZE', 1073741824, 'bytes of documents kept in the collection (0 = no cap)', number({ min: 0 })),
  maxDocuments: setting('MAX_DOCUMENTS', 100000, 'documents kept in the collection (0 = no cap)', number({ min: 0 })),
  host: setting('HOST', '0.0.0.0', 'address to listen on', text),
  port: setting('PORT', 8181, 'port (0 = any free port)', number({ min: 0, max: 65535 })),
  workerCount: setting('WORKER_COUNT', 0, '0 or 1: one process; N > 1: N worker processes on the same port, each with its own journal in `LOG_DIR/worker-<i>`', number({ min: 0 })),
  journalFsync: setting('JOURNAL_FSYNC', 'always', '`always`: fdatasync per group commit before acknowledging; `off`: after write()', oneOf(['always', 'off'] as const)),
  segmentMaxBytes: setting('JOURNAL_SEGMENT_BYTES', 64 * 1024 * 1024, 'a segment rolls at this size (and daily)', number({ min: 1024 })),
  journalCompact: setting('JOURNAL_COMPACT', 'on', '`on`: closed segments (with MongoDB: once confirmed there) are compacted in a worker thread into `<segment>.z`, compressed blocks of their original bytes and columns (deflate) with a block index (about 7.5× smaller; positions, tail ids and checkpoints unchanged; see Compacted segments); `off`: they stay NDJSON', oneOf(['on', 'off'] as const)),
  bodyLimitBytes: setting('BODY_LIMIT', 16 * 1024 * 1024, 'bytes of a request body after decompression; more is a 413', number({ min: 1024 })),
  maxEventDepth: setting('MAX_EVENT_DEPTH', 20, 'nesting depth of one event', number({ min: 1 })),
  maxEventFields: setting('MAX_EVENT_FIELDS', 1000, 'field names in one event, at every depth', number({ min: 1 })),
  maxFieldNameLength: setting('MAX_FIELD_NAME_LENGTH', 256, 'characters in one field name', number({ min: 1 })),
  retentionSweepSeconds: setting('RETENTION_SWEEP_INTERVAL', 300, 'seconds between retention passes', number({ min: 0.01, integer: false })),
  retentionRules: setting('RETENTION_RULES', undefined, 'comma-separated rules `<conditions>:<age>`, first match wins: conditions `app=<name>|<name>` and/or `level=<LEVEL>|<LEVEL>` (a set of levels), age `<n>d`, `<n>h` or `forever` (`level=DEBUG|TRACE:3d, app=audit:400d, app=payments level=ERROR|CRITICAL:90d`); what no rule matches is kept `LOG_RETENTION_DAYS`; in MongoDB and in the embedded store (see Retention)', (env, variable) => parseRetentionRules(read(env, variable), variable), '`LOG_RETENTION_DAYS` for everything'),
  shutdownTimeoutSeconds: setting('SHUTDOWN_TIMEOUT', 10, 'seconds the collector keeps flushing after SIGTERM/SIGINT', number({ min: 0, integer: false })),
  shutdownGraceSeconds: setting('SHUTDOWN_GRACE', 5, 'with `WORKER_COUNT` > 1: seconds beyond `SHUTDOWN_TIMEOUT` a worker has to close its journal and MongoDB before the primary kills it', number({ min: 0, integer: false })),
  logLevel: setting('COLLECTOR_LOG_LEVEL', 'info', 'the collector\'s own log level (pino JSON on stdout)', oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const)),
  apiKeys: setting('API_KEYS', undefined, 'comma-separated `key` or `app_name:key` entries (keys ≥ 8 characters); required on `/log`, `/logs` and `/v1/logs` when set', ingestKeys, 'open'),
  adminKeys: setting('ADMIN_API_KEY', undefined, 'required on `/force-flush`, `/status` and `/metrics` when set; with `BROWSER_API_KEYS` set, those routes are closed until it is (a collector that takes events from web pages faces the internet)', adminKey, 'open'),
  readKeys: setting('READ_API_KEYS', undefined, 'comma-separated `key` or `app_name:key` entries that may read `GET /logs` and `/logs/tail` (an `app_name:` key reads that app alone)', ingestKeys),
  apiKeysFile: setting('API_KEYS_FILE', undefined, 'instead of `API_KEYS`: a file holding the keys (one per line or comma-separated), read at start and again on SIGHUP', optional),
  adminKeyFile: setting('ADMIN_API_KEY_FILE', undefined, 'instead of `ADMIN_API_KEY`: a file holding the key, read at start and again on SIGHUP', optional),
  readKeysFile: setting('READ_API_KEYS_FILE', undefined, 'instead of `READ_API_KEYS`: a file holding the keys, read at start and again on SIGHUP', optional),
  browserKeys: setting('BROWSER_API_KEYS', undefined, 'comma-separated `app_name:key@origin|origin…` entries (`shop-web:pk_shop_3f9a2c1d@https://shop.example|https://www.shop.example`): keys public in web pages, each sending for its `app_name` alone, from its origins alone (checked against `Origin`), on `POST /logs` and `/log` alone; as `Authorization: Bearer` or `?key=` (see From the browser)', browserKeys, 'none'),
  browserKeysFile: setting('BROWSER_API_KEYS_FILE', undefined, 'instead of `BROWSER_API_KEYS`: a file holding the entries (one per line or comma-separated), read at start and again on SIGHUP', optional),
  corsOrigins: setting('CORS_ORIGINS', undefined, 'comma-separated origins (`https://shop.example`) answered with CORS headers and preflights; every browser key\'s origins must be among them', (env, variable) => parseCorsOrigins(read(env, variable), variable), 'the browser keys\' origins'),
  browserRateLimitPerMinute: setting('BROWSER_RATE_LIMIT_PER_MINUTE', 120, 'requests per minute per browser key and client address (one visitor cannot spend everyone\'s); over it: 429 + `Retry-After` (0 = no limit)', number({ min: 0 })),
  maxTailClients: setting('MAX_TAIL_CLIENTS', 100, 'open `GET /logs/tail` streams per process; one more is answered 503 + `Retry-After`', number({ min: 0 })),
  tailHeartbeatSeconds: setting('TAIL_HEARTBEAT_INTERVAL', 15, 'seconds between the keep-alive comments of an idle tail', number({ min: 0.01, integer: false })),
  queryConcurrency: setting('QUERY_CONCURRENCY', 2, 'queries (`GET /logs`, its NDJSON export, `/logs/histogram`, `/logs/values`, `/logs/fields`; not tails) running at once per process (per worker with `WORKER_COUNT` > 1): a query holds the process\'s one JavaScript thread while it scans, so more at once finish no sooner and take CPU from ingest and tails', number({ min: 1 })),
  scanThreads: setting('SCAN_THREADS', 2, 'threads that count the compacted blocks of `/logs/histogram` (and alert counts) and pick the lines of searches and exports from them, at a lower priority than ingest, per machine: with `WORKER_COUNT` > 1 each process gets this divided by the workers (at least 1); 0 = on the main thread', number({ min: 0 })),
  queryQueue: setting('QUERY_QUEUE', 8, 'queries waiting for a slot per process; one more is answered 503 + `Retry-After` (`MAAP_TOO_MANY_QUERIES`)', number({ min: 0 })),
  queryQueueWaitSeconds: setting('QUERY_QUEUE_WAIT', 2, 'seconds a query waits for a slot before it is answered 503 + `Retry-After` (`MAAP_TOO_MANY_QUERIES`)', number({ min: 0.001, integer: false })),
  queryTimeoutSeconds: setting('QUERY_TIMEOUT', 30, 'seconds a query may run: past it a search page answers what it found with `"partial": true` and a cursor to go on, histogram, values and fields answer 504 `MAAP_QUERY_TIMEOUT` (0 = no limit)', number({ min: 0, integer: false })),
  exportTimeoutSeconds: setting('EXPORT_TIMEOUT', 0, 'seconds an NDJSON export (`GET /logs` as `application/x-ndjson`) may run: past it the connection is closed without its end; a client that goes away stops it whatever this says (0 = no limit: an export is as long as what it matches)', number({ min: 0, integer: false })),
  tlsCertFile: setting('TLS_CERT_FILE', undefined, 'PEM certificate file; with `TLS_KEY_FILE` the collector serves HTTPS', optional),
  tlsKeyFile: setting('TLS_KEY_FILE', undefined, 'PEM private key file; with `TLS_CERT_FILE` the collector serves HTTPS', optional),
  journalMaxQueueBytes: setting('JOURNAL_MAX_QUEUE_BYTES', 64 * 1024 * 1024, 'bytes waiting for the journal past which ingest answers 503 + `Retry-After`', number({ min: 1024 })),
  maxHeapUsedBytes: setting('MAX_HEAP_USED_BYTES', 512 * 1024 * 1024, 'heap used past which ingest answers 503 + `Retry-After` (0 = no check)', number({ min: 0 })),
  maxEventLoopDelayMs: setting('MAX_EVENT_LOOP_DELAY', 2000, 'event-loop delay in ms past which ingest answers 503 + `Retry-After` (0 = no check)', number({ min: 0 })),
  rateLimitPerMinute: setting('RATE_LIMIT_PER_MINUTE', 0, 'requests per minute per authenticated API key (per client address when `API_KEYS` is not set); over it: 429 + `Retry-After`', number({ min: 0 }), 'off'),
  appQuotas: setting('APP_QUOTAS', undefined, 'events per minute per `app_name`: comma-separated `app_name=N` entries and `*=N` for every app not named (`*=10000,payments=50000,debug-bot=100`); 0 = no quota for that app; a request that would take an app past its quota is refused whole with 429 + `Retry-After`; per process (per worker with `WORKER_COUNT` > 1)', (env: Env, variable: string) => parseAppQuotas(read(env, variable), variable), 'no quotas'),
  idempotencyWindowSeconds: setting('IDEMPOTENCY_WINDOW', 86400, 'seconds a batch\'s `Idempotency-Key` is remembered (in `LOG_DIR/idempotency-keys`, across restarts): a retry within it is answered as the first time and not stored again; covers a shipper retrying through a day-long outage or replaying its spool after a restart', number({ min: 1, integer: false })),
  idempotencyMaxKeys: setting('IDEMPOTENCY_MAX_KEYS', 1_000_000, 'keys remembered at most, about 100 bytes of memory each; past it the oldest are forgotten early (counted in `/status.idempotency.evicted`); 0 = remember none (keyed events still get ids derived from their key)', number({ min: 0 })),
  publicUrl: setting('PUBLIC_URL', undefined, 'the address people reach the page at (`https://logs.example.com`); alert links start with it', httpUrl, '`http://HOST:PORT`'),
  smtpUrl: setting('SMTP_URL', undefined, '`smtp://user:pass@host:587` or `smtps://…` for alert e-mails (never logged, never in `/status`); unset: alerts cannot have an e-mail channel', smtpUrl),
  alertEmailFrom: setting('ALERT_EMAIL_FROM', 'maap-alerts@localhost', '`From:` of alert e-mails', text),
  alertDeliveryTimeoutSeconds: setting('ALERT_DELIVERY_TIMEOUT', 86400, 'seconds a notification is retried (exponential backoff with jitter, honouring `Retry-After`) before its delivery is marked `failed`', number({ min: 1, integer: false })),
  alertSendTimeoutSeconds: setting('ALERT_SEND_TIMEOUT', 10, 'seconds one webhook, Slack or SMTP call may take before it counts as failed and is retried', number({ min: 0.1, integer: false })),
  redactFields: setting('REDACT_FIELDS', undefined, 'comma-separated field names (`password`: at any depth) or dotted paths from the top (`*.token`; `*` is any one name), without case: their values become `[REDACTED]` before the journal, whatever their type', (env, variable) => parseRedactFields(read(env, variable), variable), 'none'),
  redactPatterns: setting('REDACT_PATTERNS', undefined, 'comma-separated built-in detectors replaced by `[REDACTED]` inside every string value and `message` before the journal: `email`, `card` (13–19 digits, Luhn-checked), `bearer` (the token after "Bearer"), `jwt`', (env, variable) => parseRedactPatterns(read(env, variable), variable), 'none')
})

export function loadConfig (env: Env = process.env): Readonly<CollectorConfig> {
  const config: Record<string, unknown> = {}
  for (const [key, { variable, default: def, parse }] of Object.entries(SETTINGS) as Array<[string, Setting<unknown>]>) {
    config[key] = parse(env, variable, def as never)
  }
  const { tlsCertFile, tlsKeyFile } = config as Partial<CollectorConfig>
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new ConfigError(tlsCertFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE go together')
  }
  for (const [variable, file] of [['TLS_CERT_FILE', tlsCertFile], ['TLS_KEY_FILE', tlsKeyFile]] as const) {
    if (file !== undefined && !existsSync(file)) throw new ConfigError(variable, `${file} does not exist`)
  }
  const { browserKeys: browser, browserKeysFile, corsOrigins, apiKeys, adminKeys, readKeys } = config as unknown as CollectorConfig
  checkBrowserKeys(browser, browserKeysFile === undefined ? 'BROWSER_API_KEYS' : 'BROWSER_API_KEYS_FILE', corsOrigins, [...apiKeys, ...adminKeys, ...readKeys])
  return Object.freeze(config as unknown as CollectorConfig)
}

/** Reads `.env` from the working directory like the original service did; real env vars win. */
export function loadDotEnv (cwd = process.cwd()): void {
  const file = resolve(cwd, '.env')
  if (existsSync(file)) process.loadEnvFile(file)
}
