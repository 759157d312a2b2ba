// API_KEYS on the ingest routes, ADMIN_API_KEY on the admin and read routes.
import t from 'tap'
import { buildTestApp } from './helpers'

const ingestKey = 'ingest-key-0123456789'
const pinnedKey = 'pinned-key-0123456789'
const adminKey = 'admin-key-0123456789'
const env = { API_KEYS: `${ingestKey}, billing:${pinnedKey}`, ADMIN_API_KEY: adminKey }
const event = { message: 'm', app_name: 'api' }
const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

t.test('ingest routes: 401 without a key, 403 with a wrong one, accepted with a right one', async t => {
  const { app } = await buildTestApp(t, env)
  const none = await app.inject({ method: 'POST', url: '/log', payload: event })
  t.equal(none.statusCode, 401)
  t.equal(none.headers['www-authenticate'], 'Bearer')
  t.match(none.json(), { code: 'MAAP_UNAUTHORIZED', message: /API key/ })
  const wrong = await app.inject({ method: 'POST', url: '/logs', headers: auth('not-the-key-at-all'), payload: [event] })
  t.equal(wrong.statusCode, 403)
  t.notMatch(wrong.body, /not-the-key-at-all/, 'the key is not echoed')
  t.equal((await app.inject({ method: 'POST', url: '/log', headers: { authorization: ingestKey }, payload: event })).statusCode, 401, 'a key without "Bearer" is no key')
  t.equal((await app.inject({ method: 'POST', url: '/log', headers: auth(ingestKey), payload: event })).statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/log', headers: auth(adminKey), payload: event })).statusCode, 403, 'the admin key is not an ingest key')
})

t.test('a key of the form app_name:key pins the app_name of every event it sends', async t => {
  const { app, logDir } = await buildTestApp(t, env)
  const res = await app.inject({ method: 'POST', url: '/logs', headers: auth(pinnedKey), payload: [{ message: 'a', app_name: 'spoofed' }, { message: 'b' }] })
  t.same(res.json(), { status: 'success', accepted: 2, rejected: [] }, 'app_name may be omitted: the key supplies it')
  const { readdir, readFile } = await import('node:fs/promises')
  const seg = (await readdir(logDir)).find(n => n.startsWith('maap-2'))!
  const lines = (await readFile(`${logDir}/${seg}`, 'utf8')).trim().split('\n').map(l => JSON.parse(l))
  t.same(lines.map(l => l.app_name), ['billing', 'billing'])
  t.equal(lines[0].client_app_name, 'spoofed')
})

t.test('admin routes need the admin key; /status shows auth without showing keys', async t => {
  const { app } = await buildTestApp(t, env)
  t.equal((await app.inject({ method: 'POST', url: '/force-flush' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/status', headers: auth(ingestKey) })).statusCode, 403)
  const status = await app.inject({ method: 'GET', url: '/status', headers: auth(adminKey) })
  t.equal(status.statusCode, 200)
  t.match(status.json(), { auth: { ingest: 'on', admin: 'on' }, tls: false, process: { pid: process.pid } })
  for (const k of [ingestKey, pinnedKey, adminKey]) t.notMatch(status.body, k)
  t.equal((await app.inject({ method: 'POST', url: '/force-flush', headers: auth(adminKey) })).statusCode, 200)
})

t.test('no keys configured: open, as the original was, and /status says so', async t => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/log', payload: event })).statusCode, 201)
  t.match((await app.inject({ method: 'GET', url: '/status' })).json(), { auth: { ingest: 'off', admin: 'off' } })
})

t.test('API_KEYS and ADMIN_API_KEY are validated at start', async t => {
  const { loadConfig } = await import('@maap-event-logger/collector')
  t.throws(() => loadConfig({ API_KEYS: 'short' }), /Invalid API_KEYS: every key must be at least 8/)
  t.throws(() => loadConfig({ API_KEYS: ':0123456789' }), /Invalid API_KEYS: an app_name/)
  t.throws(() => loadConfig({ ADMIN_API_KEY: 'x' }), /Invalid ADMIN_API_KEY/)
  t.throws(() => loadConfig({ TLS_CERT_FILE: '/etc/hostname' }), /TLS_CERT_FILE and TLS_KEY_FILE go together/)
  t.throws(() => loadConfig({ TLS_CERT_FILE: '/nope.pem', TLS_KEY_FILE: '/nope.key' }), /Invalid TLS_CERT_FILE: \/nope.pem does not exist/)
})

t.test('RATE_LIMIT_PER_MINUTE: a bucket per authenticated key, else per address; tokens that fail the check open none', async t => {
  const { app } = await buildTestApp(t, { ...env, RATE_LIMIT_PER_MINUTE: '2' })
  const post = async (headers: Record<string, string>): Promise<number> =>
    (await app.inject({ method: 'POST', url: '/log', headers, payload: event })).statusCode
  t.same([await post(auth(ingestKey)), await post(auth(ingestKey)), await post(auth(ingestKey))], [201, 201, 429], 'the third request of a key within the minute')
  t.same([await post(auth(pinnedKey)), await post(auth(pinnedKey))], [201, 201], 'another key has its own bucket')

  const open = (await buildTestApp(t, { RATE_LIMIT_PER_MINUTE: '2' })).app
  const codes: number[] = []
  // Without API_KEYS a made-up bearer token is no identity: every request counts against the address.
  for (const token of ['a-made-up-token-1', 'a-made-up-token-2', 'a-made-up-token-3']) {
    codes.push((await open.inject({ method: 'POST', url: '/log', headers: auth(token), payload: event })).statusCode)
  }
  t.same(codes, [201, 201, 429])
})
