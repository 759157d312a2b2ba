// Who may read: READ_API_KEYS and the admin key read, a read key pinned to an app reads that app alone,
// an ingest key cannot read and a read key cannot write; with no key at all reads are open.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildTestApp } from './helpers'

const keys = { API_KEYS: 'ingest-key-0001', ADMIN_API_KEY: 'admin-key-00001', READ_API_KEYS: 'reader-key-0001,billing:billing-reader-01' }
const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

t.test('read keys, the admin key, and what each may do', async t => {
  const { app } = await buildTestApp(t, keys)
  const write = await app.inject({
    method: 'POST', url: '/logs', headers: { ...bearer('ingest-key-0001'), 'content-type': 'application/x-ndjson' },
    payload: '{"message":"a","app_name":"api"}\n{"message":"b","app_name":"billing"}\n'
  })
  t.equal(write.statusCode, 200)
  const apps = async (key: string | undefined, query = ''): Promise<number | string[]> => {
    const res = await app.inject({ method: 'GET', url: `/logs${query}`, headers: key === undefined ? {} : bearer(key) })
    return res.statusCode === 200 ? res.json().events.map((e: { app_name: string }) => e.app_name) : res.statusCode
  }
  t.equal(await apps(undefined), 401)
  t.equal(await apps('ingest-key-0001'), 403, 'an ingest key cannot read')
  t.equal(await apps('not-a-key-at-all'), 403)
  t.same(await apps('reader-key-0001'), ['billing', 'api'])
  t.same(await apps('admin-key-00001'), ['billing', 'api'], 'the admin key reads everything')
  t.same(await apps('billing-reader-01'), ['billing'], 'a pinned read key sees its app')
  t.same(await apps('billing-reader-01', '?app_name=api'), ['billing'], 'whatever it asks for')
  const denied = await app.inject({ method: 'POST', url: '/log', headers: bearer('reader-key-0001'), payload: { message: 'x', app_name: 'api' } })
  t.equal(denied.statusCode, 403, 'a read key cannot write')
  const unauth = await app.inject({ method: 'GET', url: '/logs' })
  t.equal(unauth.headers['www-authenticate'], 'Bearer')
  t.match(unauth.json().message, /READ_API_KEYS or ADMIN_API_KEY/)
})

t.test('with ingest keys alone nobody reads; with no keys at all everybody does', async t => {
  const { app: guarded } = await buildTestApp(t, { API_KEYS: 'ingest-key-0001' })
  t.equal((await guarded.inject({ method: 'GET', url: '/logs', headers: bearer('ingest-key-0001') })).statusCode, 403)
  t.equal((await guarded.inject({ method: 'GET', url: '/logs' })).statusCode, 401)
  const { app: open } = await buildTestApp(t)
  t.equal((await open.inject({ method: 'GET', url: '/logs' })).statusCode, 200)
})

t.test('READ_API_KEYS_FILE is read again on reload', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-read-keys-'))
  const file = join(dir, 'read-keys')
  writeFileSync(file, 'first-reader-01\n')
  const { app } = await buildTestApp(t, { READ_API_KEYS_FILE: file })
  t.equal((await app.inject({ method: 'GET', url: '/logs', headers: bearer('first-reader-01') })).statusCode, 200)
  writeFileSync(file, 'second-reader-1\n')
  t.same(await app.collector.keys.reload(), { ingestKeys: 0, adminKeys: 0, readKeys: 1, browserKeys: 0 })
  t.equal((await app.inject({ method: 'GET', url: '/logs', headers: bearer('first-reader-01') })).statusCode, 403)
  t.equal((await app.inject({ method: 'GET', url: '/logs', headers: bearer('second-reader-1') })).statusCode, 200)
})
