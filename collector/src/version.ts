// The collector package's version, read once from its package.json (the CLIs and /status report it);
// a module of its own so that maap-logs can show it without loading the server.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version
