// The API keys in force. They start from the configuration. On SIGHUP (bin.ts; the cluster primary
// passes it on to its workers) the keys that came from files — API_KEYS_FILE, ADMIN_API_KEY_FILE — are
// read again, so keys rotate without a restart. Keys given in the environment itself cannot change in a
// running process and stay as they are. A file that cannot be read or parsed, or that would turn
// authentication off, leaves every key as it was: a rotation must never open the collector by mistake.
import { readFile } from 'node:fs/promises'
import type { ApiKey } from './auth'
import { ConfigError, parseAdminKey, parseIngestKeys, type CollectorConfig } from './config'

export interface ReloadResult {
  ingestKeys: number
  adminKeys: number
}

export class KeyRing {
  ingest: readonly ApiKey[]
  admin: readonly ApiKey[]
  /** Successful reloads since start; shown in /status so an operator can see a rotation took effect. */
  reloads = 0

  constructor (private readonly config: Pick<CollectorConfig, 'apiKeys' | 'adminKeys' | 'apiKeysFile' | 'adminKeyFile'>) {
    this.ingest = config.apiKeys
    this.admin = config.adminKeys
  }

  /** Re-reads the key files; rejects (keys unchanged) with a message that names the variable. */
  async reload (): Promise<ReloadResult> {
    const { apiKeysFile, adminKeyFile } = this.config
    const ingest = apiKeysFile === undefined ? this.ingest : still('API_KEYS_FILE', parseIngestKeys(await read('API_KEYS_FILE', apiKeysFile), 'API_KEYS_FILE'))
    const admin = adminKeyFile === undefined ? this.admin : still('ADMIN_API_KEY_FILE', parseAdminKey(await read('ADMIN_API_KEY_FILE', adminKeyFile), 'ADMIN_API_KEY_FILE'))
    // Both files were good: swap together, so no request sees one new and one old set half-way.
    this.ingest = ingest
    this.admin = admin
    this.reloads++
    return { ingestKeys: ingest.length, adminKeys: admin.length }
  }
}

async function read (variable: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(variable, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** A key file that is now empty would switch authentication off; refuse that. */
function still (variable: string, keys: ApiKey[]): ApiKey[] {
  if (keys.length === 0) throw new ConfigError(variable, 'holds no key now; authentication stays on with the previous keys')
  return keys
}
