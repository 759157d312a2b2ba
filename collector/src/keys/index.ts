// API keys, in one place: the syntax of the key variables and files (parse.ts), the keys in force and their
// rotation on SIGHUP (ring.ts), and the constant-time match of a presented token (api-key.ts). config.ts
// parses with it at start; auth.ts checks requests with it.
export { apiKey, findKey, type ApiKey } from './api-key'
export { parseAdminKey, parseIngestKeys, startupKeys, type KeyParser } from './parse'
export { KeyRing, type CorsOrigins, type KeySources, type ReloadResult } from './ring'
export { checkBrowserKeys, isOrigin, parseBrowserKeys, parseCorsOrigins, type BrowserKey } from './browser-keys'
