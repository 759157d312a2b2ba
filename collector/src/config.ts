// Configuration from environment variables. The first block keeps the original service's names and
// defaults exactly; the rest are ours. Parsed once at start, validated, frozen: an invalid value stops
// start-up with a message naming the variable.
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { ConfigError } from './errors'
import { parseAdminKey, parseIngestKeys, startupKeys, type ApiKey, type KeyParser } from './keys'

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
  bodyLimitBytes: number
  maxEventDepth: number
  maxEventFields: number
  maxFieldNameLength: number
  retentionSweepSeconds: number
  shutdownTimeoutSeconds: number
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
  /** Open /logs/tail streams past which a new one is answered 503. */
  maxTailClients: number
  /** Seconds between the comments that keep an idle tail open through proxies. */
  tailHeartbeatSeconds: number
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
}

type Env = Record<string, string | undefined>

function read (env: Env, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

function number (env: Env, name: string, def: number, { min = 0, integer = true } = {}): number {
  const raw = read(env, name)
  if (raw === undefined) return def
  const n = Number(raw)
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new ConfigError(name, `expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${raw}"`)
  }
  return n
}

function oneOf<T extends string> (env: Env, name: string, def: T, allowed: readonly T[]): T {
  const raw = read(env, name)
  if (raw === undefined) return def
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`)
  }
  return raw as T
}

function name (env: Env, variable: string, def: string): string {
  const raw = read(env, variable) ?? def
  // MongoDB database and collection names: no path separators, `$`, NUL or dots at the edges.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(raw) || raw.endsWith('.')) {
    throw new ConfigError(variable, `"${raw}" is not a usable MongoDB name (letters, digits, _ . -)`)
  }
  return raw
}

function mongoUri (env: Env): string | undefined {
  const raw = read(env, 'MONGODB_URI')
  if (raw === undefined) return undefined
  if (!/^mongodb(\+srv)?:\/\//.test(raw)) {
    throw new ConfigError('MONGODB_URI', 'must start with mongodb:// or mongodb+srv://')
  }
  return raw
}

/** The keys in `name`, or in the file `${name}_FILE` names (one or the other); none when neither is set. */
function configuredKeys (env: Env, name: string, parse: KeyParser): ApiKey[] {
  return startupKeys(name, read(env, name), read(env, `${name}_FILE`), parse)
}

/** Whether HOST only accepts connections from this machine. */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

export function loadConfig (env: Env = process.env): Readonly<CollectorConfig> {
  const config: CollectorConfig = {
    mongodbUri: mongoUri(env),
    mongodbDbName: name(env, 'MONGODB_DB_NAME', 'event_logs'),
    mongodbCollection: name(env, 'MONGODB_COLLECTION', 'logs'),
    logDir: resolve(read(env, 'LOG_DIR') ?? 'logs'),
    flushIntervalSeconds: number(env, 'FLUSH_INTERVAL', 10, { min: 0.01, integer: false }),
    deleteLogsOlderThanDays: number(env, 'DELETE_LOGS_OLDER_THAN', 30, { min: 0, integer: false }),
    logRetentionDays: number(env, 'LOG_RETENTION_DAYS', 60, { min: 0, integer: false }),
    logBufferSize: number(env, 'LOG_BUFFER_SIZE', 1000, { min: 1 }),
    maxCollectionSize: number(env, 'MAX_COLLECTION_SIZE', 1073741824, { min: 0 }),
    maxDocuments: number(env, 'MAX_DOCUMENTS', 100000, { min: 0 }),
    host: read(env, 'HOST') ?? '0.0.0.0',
    port: number(env, 'PORT', 8181, { min: 0 }),
    workerCount: number(env, 'WORKER_COUNT', 0, { min: 0 }),
    journalFsync: oneOf(env, 'JOURNAL_FSYNC', 'always', ['always', 'off'] as const),
    segmentMaxBytes: number(env, 'JOURNAL_SEGMENT_BYTES', 64 * 1024 * 1024, { min: 1024 }),
    bodyLimitBytes: number(env, 'BODY_LIMIT', 16 * 1024 * 1024, { min: 1024 }),
    maxEventDepth: number(env, 'MAX_EVENT_DEPTH', 20, { min: 1 }),
    maxEventFields: number(env, 'MAX_EVENT_FIELDS', 1000, { min: 1 }),
    maxFieldNameLength: number(env, 'MAX_FIELD_NAME_LENGTH', 256, { min: 1 }),
    retentionSweepSeconds: number(env, 'RETENTION_SWEEP_INTERVAL', 300, { min: 0.01, integer: false }),
    shutdownTimeoutSeconds: number(env, 'SHUTDOWN_TIMEOUT', 10, { min: 0, integer: false }),
    logLevel: oneOf(env, 'COLLECTOR_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
    apiKeys: configuredKeys(env, 'API_KEYS', parseIngestKeys),
    adminKeys: configuredKeys(env, 'ADMIN_API_KEY', parseAdminKey),
    apiKeysFile: read(env, 'API_KEYS_FILE'),
    adminKeyFile: read(env, 'ADMIN_API_KEY_FILE'),
    readKeys: configuredKeys(env, 'READ_API_KEYS', parseIngestKeys),
    readKeysFile: read(env, 'READ_API_KEYS_FILE'),
    maxTailClients: number(env, 'MAX_TAIL_CLIENTS', 100, { min: 0 }),
    tailHeartbeatSeconds: number(env, 'TAIL_HEARTBEAT_INTERVAL', 15, { min: 0.01, integer: false }),
    tlsCertFile: read(env, 'TLS_CERT_FILE'),
    tlsKeyFile: read(env, 'TLS_KEY_FILE'),
    journalMaxQueueBytes: number(env, 'JOURNAL_MAX_QUEUE_BYTES', 64 * 1024 * 1024, { min: 1024 }),
    maxHeapUsedBytes: number(env, 'MAX_HEAP_USED_BYTES', 512 * 1024 * 1024, { min: 0 }),
    maxEventLoopDelayMs: number(env, 'MAX_EVENT_LOOP_DELAY', 2000, { min: 0 }),
    rateLimitPerMinute: number(env, 'RATE_LIMIT_PER_MINUTE', 0, { min: 0 })
  }
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new ConfigError(config.tlsCertFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE go together')
  }
  for (const [variable, file] of [['TLS_CERT_FILE', config.tlsCertFile], ['TLS_KEY_FILE', config.tlsKeyFile]] as const) {
    if (file !== undefined && !existsSync(file)) throw new ConfigError(variable, `${file} does not exist`)
  }
  if (config.port > 65535) throw new ConfigError('PORT', `expected 0..65535, got ${config.port}`)
  return Object.freeze(config)
}

/** Reads `.env` from the working directory like the original service did; real env vars win. */
export function loadDotEnv (cwd = process.cwd()): void {
  const file = resolve(cwd, '.env')
  if (existsSync(file)) process.loadEnvFile(file)
}
