// The syntax of the key variables and their files: API_KEYS and READ_API_KEYS hold `key` or `app_name:key`
// entries separated by commas or lines; ADMIN_API_KEY holds one key. Every key is at least 8 characters.
// A key file is there to turn authentication on, so a file without a key is refused.
import { readFileSync } from 'node:fs'
import { ConfigError } from '../errors'
import { apiKey, type ApiKey } from './api-key'

export type KeyParser<K extends ApiKey = ApiKey> = (raw: string, variable: string) => K[]

/** API_KEYS or READ_API_KEYS (or their files) as keys. */
export const parseIngestKeys: KeyParser = (raw, variable) => {
  const keys: ApiKey[] = []
  for (const entry of raw.split(/,|\r?\n/).map(e => e.trim()).filter(e => e !== '')) {
    const colon = entry.indexOf(':')
    const appName = colon === -1 ? undefined : entry.slice(0, colon)
    const key = colon === -1 ? entry : entry.slice(colon + 1)
    if (key.length < 8) throw new ConfigError(variable, 'every key must be at least 8 characters long')
    if (appName !== undefined && (appName.length === 0 || appName.length > 256)) {
      throw new ConfigError(variable, 'an app_name before ":" must be 1 to 256 characters')
    }
    keys.push(apiKey(key, appName))
  }
  return keys
}

/** ADMIN_API_KEY (or ADMIN_API_KEY_FILE) as keys: none when blank. */
export const parseAdminKey: KeyParser = (raw, variable) => {
  const key = raw.trim()
  if (key === '') return []
  if (key.length < 8) throw new ConfigError(variable, 'must be at least 8 characters long')
  return [apiKey(key)]
}

/** The keys in the text of a key file (the variable's own syntax); none is refused with `noKey` as the reason. */
export function keysInFile<K extends ApiKey> (text: string, variable: string, parse: KeyParser<K>, noKey = 'holds no key'): K[] {
  const keys = parse(text, variable)
  if (keys.length === 0) throw new ConfigError(variable, noKey)
  return keys
}

/** The error for a key file that cannot be read. */
export function unreadableKeyFile (variable: string, file: string, err: unknown): ConfigError {
  return new ConfigError(variable, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
}

/**
 * At start-up: the keys in the variable `name` (its `value`), or in the file `${name}_FILE` names (`file`),
 * one or the other; none when neither is set. Read synchronously: configuration is loaded once, before the
 * collector listens (later reloads read without blocking, ring.ts).
 */
export function startupKeys<K extends ApiKey> (name: string, value: string | undefined, file: string | undefined, parse: KeyParser<K>): K[] {
  if (file === undefined) return value === undefined ? [] : parse(value, name)
  if (value !== undefined) throw new ConfigError(`${name}_FILE`, `set ${name} or ${name}_FILE, not both`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw unreadableKeyFile(`${name}_FILE`, file, err)
  }
  return keysInFile(text, `${name}_FILE`, parse)
}
