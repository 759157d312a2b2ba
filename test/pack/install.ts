// Packs every workspace with `npm pack` and installs the tarballs into a fresh app in a temp directory
// outside the repo, as a user would get them from the registry: nothing resolves into this repo's
// node_modules. One install serves every case of test/pack.test.ts. Dependencies come from the npm
// cache (warm after `npm ci`); the registry is asked only for what the cache lacks.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

export const repo = resolve(__dirname, '..', '..')
const run = promisify(execFile)

export interface PackedFile { path: string }
export interface Packed { name: string, filename: string, files: PackedFile[] }
export interface FreshApp { dir: string, packed: Packed[] }

/**
 * The environment of a user's shell: no tap loader or coverage hooks (NODE_OPTIONS), and none of the
 * npm_* settings `npm test` passes down (a workspace or prefix would point npm back at this repo).
 */
export function userEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'])
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(NODE_OPTIONS|NODE_V8_COVERAGE|NODE_PATH|TAP|_TAP)/.test(k)) continue
    if (k.toLowerCase().startsWith('npm_') && !keep.has(k.toLowerCase())) continue
    env[k] = v
  }
  return { ...env, ...extra }
}

export async function packAndInstall (t: { teardown: (fn: () => void) => void }): Promise<FreshApp> {
  const base = mkdtempSync(join(tmpdir(), 'maap-pack-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const tarballs = join(base, 'tarballs')
  const dir = join(base, 'app')
  mkdirSync(tarballs)
  // dist/ is built by `npm test` before tap starts; scripts would only rebuild it.
  const { stdout } = await run('npm', ['pack', '--workspaces', '--ignore-scripts', '--json', '--pack-destination', tarballs],
    { cwd: repo, env: userEnv(), maxBuffer: 16 << 20 })
  const packed = JSON.parse(stdout) as Packed[]
  cpSync(join(__dirname, 'app'), dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true }))
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error',
    ...packed.map(p => join(tarballs, p.filename)), 'pino', 'winston'], { cwd: dir, env: userEnv(), maxBuffer: 16 << 20 })
  return { dir, packed }
}
