// API_KEYS_FILE / ADMIN_API_KEY_FILE, and key rotation on SIGHUP: in-process, in a real collector
// process, and across WORKER_COUNT workers (the primary passes SIGHUP on).
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '@maap-event-logger/collector'
import { startCollector } from '../../test/support'
import { buildTestApp } from './helpers'

const oldKey = 'old-ingest-key-0123'
const newKey = 'new-ingest-key-4567'
const oldAdmin = 'old-admin-key-0123'
const newAdmin = 'new-admin-key-4567'
const event = { message: 'm', app_name: 'api' }
const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

function keyFiles (ingest: string, admin: string): { API_KEYS_FILE: string, ADMIN_API_KEY_FILE: string } {
  const dir = mkdtempSync(join(tmpdir(), 'maap-keys-'))
  const files = { API_KEYS_FILE: join(dir, 'api-keys'), ADMIN_API_KEY_FILE: join(dir, 'admin-key') }
  writeFileSync(files.API_KEYS_FILE, ingest)
  writeFileSync(files.ADMIN_API_KEY_FILE, admin)
  return files
}

/** POST /log on a new connection each time, so WORKER_COUNT workers all get asked. */
async function post (url: string, key: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(`${url}/log`, { method: 'POST', agent: false, headers: { ...auth(key), 'content-type': 'application/json' } }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.end(JSON.stringify(event))
  })
}

t.test('key files: one key per line or comma-separated; not together with the variable; never empty', async t => {
  const files = keyFiles(`${oldKey}\nbilling:${newKey}\n`, `${oldAdmin}\n`)
  const config = loadConfig(files)
  t.equal(config.apiKeys.length, 2)
  t.equal(config.apiKeys[1]!.appName, 'billing')
  t.equal(config.adminKeys.length, 1)
  t.throws(() => loadConfig({ ...files, API_KEYS: oldKey }), /Invalid API_KEYS_FILE: set API_KEYS or API_KEYS_FILE, not both/)
  t.throws(() => loadConfig(keyFiles('\n', oldAdmin)), /Invalid API_KEYS_FILE: holds no key/)
  t.throws(() => loadConfig(keyFiles('short', oldAdmin)), /Invalid API_KEYS_FILE: every key must be at least 8/)
  t.throws(() => loadConfig({ ADMIN_API_KEY_FILE: '/nonexistent/admin-key' }), /Invalid ADMIN_API_KEY_FILE: cannot read \/nonexistent\/admin-key: ENOENT/)
})

t.test('reload swaps the keys for the next request; a bad or empty file keeps the old ones', async t => {
  const files = keyFiles(oldKey, oldAdmin)
  const { app } = await buildTestApp(t, files)
  const status = async (key: string): Promise<number> => (await app.inject({ method: 'POST', url: '/log', headers: auth(key), payload: event })).statusCode
  t.equal(await status(oldKey), 201)

  writeFileSync(files.API_KEYS_FILE, newKey)
  writeFileSync(files.ADMIN_API_KEY_FILE, newAdmin)
  t.same(await app.collector.keys.reload(), { ingestKeys: 1, adminKeys: 1, readKeys: 0, browserKeys: 0 })
  t.same([await status(oldKey), await status(newKey)], [403, 201])
  const shown = await app.inject({ method: 'GET', url: '/status', headers: auth(newAdmin) })
  t.match(shown.json(), { auth: { ingest: 'on', admin: 'on', key_reloads: 1 } })
  t.equal((await app.inject({ method: 'GET', url: '/status', headers: auth(oldAdmin) })).statusCode, 403, 'the admin key rotated too')

  for (const [content, reason] of [['', /API_KEYS_FILE: holds no key now/], ['tiny', /API_KEYS_FILE: every key must be at least 8/]] as const) {
    writeFileSync(files.API_KEYS_FILE, content)
    await t.rejects(app.collector.keys.reload(), reason)
    t.equal(await status(newKey), 201, `keys unchanged after ${JSON.stringify(content)}`)
  }
  // The admin file is fine but the ingest file is not: neither changes.
  writeFileSync(files.ADMIN_API_KEY_FILE, oldAdmin)
  await t.rejects(app.collector.keys.reload())
  t.equal((await app.inject({ method: 'GET', url: '/status', headers: auth(newAdmin) })).statusCode, 200)
})

t.test('SIGHUP rotates the keys of a running collector, and of every WORKER_COUNT worker', async t => {
  for (const workers of ['0', '2']) {
    const files = keyFiles(oldKey, oldAdmin)
    const c = await startCollector(t, { env: { ...files, WORKER_COUNT: workers } })
    t.equal(await post(c.url, oldKey), 201)
    writeFileSync(files.API_KEYS_FILE, newKey)
    const from = c.output.length
    c.child.kill('SIGHUP')
    let seen = from
    for (let i = 0; i < Math.max(1, Number(workers)); i++) seen = (await c.waitForLog({ msg: /API keys reloaded/ }, seen)).index + 1
    const codes = { old: [] as number[], new: [] as number[] }
    for (let i = 0; i < 4; i++) {
      codes.old.push(await post(c.url, oldKey))
      codes.new.push(await post(c.url, newKey))
    }
    t.same(codes, { old: [403, 403, 403, 403], new: [201, 201, 201, 201] }, `WORKER_COUNT=${workers}`)
    t.equal(await c.stop(), 0, 'SIGHUP did not end it; SIGTERM still does')
  }
})
