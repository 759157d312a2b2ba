// Idempotent batches at the collector: a request with an Idempotency-Key is journaled once however often
// it is sent — again later, at the same time, after a restart, or after a process killed between its
// journal write and its key's log line — and its events' ids are derived from the key.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, loadConfig } from '@maap-event-logger/collector'
import { journaled, segments } from '../../test/support'
import { batchKey, uuidV7Ms } from '../src/idempotency/batch-key'
import { derivedIds, derivedTail, tailOfId } from '../src/idempotency/derived-ids'
import { KEY_LOG_DIR } from '../src/idempotency/key-log'
import { KeyStore } from '../src/idempotency/key-store'
import { buildTestApp } from './helpers'

const KEY = '0190a8f1-23ab-7abc-8def-0123456789ab'
const KEY2 = '0190a8f1-23ab-7abc-8def-0123456789ac'
const KEY_MS = 0x0190a8f123ab
const KEY_SECONDS = Math.floor(KEY_MS / 1000)
const ndjson = (...messages: string[]): string => messages.map(message => JSON.stringify({ message, app_name: 'idem' })).join('\n') + '\n'

function post (app: Awaited<ReturnType<typeof buildTestApp>>['app'], payload: string, key?: string, url = '/logs') {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': url === '/logs' ? 'application/x-ndjson' : 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload
  })
}

async function build2 (t: { teardown: (fn: () => unknown) => void }, logDir: string, env: Record<string, string> = {}) {
  const app = await build(loadConfig({ LOG_DIR: logDir, ...env }))
  t.teardown(() => app.close())
  return app
}

t.test('derived ids: the key\'s time, its batch, then the index, so a batch sorts in the order it was sent', async t => {
  t.equal(uuidV7Ms(KEY), KEY_MS)
  t.equal(uuidV7Ms('0190a8f1-23ab-4abc-8def-0123456789ab'), undefined, 'a UUIDv4 holds no time')
  t.equal(uuidV7Ms('ffffffff-ffff-7abc-8def-0123456789ab'), undefined, 'a time past what an ObjectId holds is not used')
  const key = batchKey(KEY, '/logs', undefined)!
  const idOf = derivedIds(key.seed, KEY_MS)
  const ids = Array.from({ length: 100_000 }, (_, i) => idOf(i)!)
  t.equal(new Set(ids).size, 100_000)
  t.same(ids, [...ids].sort(), 'in index order')
  t.match(ids[0], /^[0-9a-f]{24}$/)
  t.equal(ids[7]!.slice(0, 8), KEY_SECONDS.toString(16), 'ObjectId-shaped: four bytes of seconds first')
  t.equal(Number.parseInt(ids[7]!.slice(8, 11), 16) >> 2, KEY_MS % 1000, 'then the millisecond')
  t.equal(ids[7]!.slice(18), '000007', 'and the index last')
  t.equal(tailOfId(ids[7]!), derivedTail(key.seed, 7), 'the part the key decides, whatever the time')
  t.equal(tailOfId(derivedIds(key.seed, KEY_MS + 5000)(7)!), derivedTail(key.seed, 7))
  t.equal(derivedIds(batchKey(KEY, '/logs', undefined)!.seed, KEY_MS)(3), idOf(3), 'the same key gives the same ids')
  t.equal(idOf(2 ** 24), undefined, 'past 2^24 events a batch gives random ids')
  t.not(batchKey(KEY, '/logs', 'api-key-a')!.name, batchKey(KEY, '/logs', 'api-key-b')!.name, 'scoped to the API key')
  t.not(batchKey(KEY, '/log', undefined)!.name, key.name, 'and to the route')
  t.equal(batchKey(undefined, '/logs', undefined), undefined)
})

t.test('a repeated key is answered as the first time and journaled once; a key names one batch', async t => {
  const { app, logDir } = await buildTestApp(t)
  const body = ndjson('a', 'b') + 'not json\n'
  const first = await post(app, body, KEY)
  t.equal(first.statusCode, 200)
  t.equal(first.headers['idempotent-replayed'], undefined)
  const again = await post(app, body, KEY)
  t.equal(again.statusCode, 200)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.json(), first.json(), 'the first answer, rejections and all')
  const lines = journaled(logDir)
  t.same(lines.map(l => l.message), ['a', 'b'], 'journaled once')
  t.equal(String(lines[0]!._id).slice(0, 8), KEY_SECONDS.toString(16), 'ids derived from the key')

  const other = await post(app, ndjson('c'), KEY)
  t.equal(other.statusCode, 422)
  t.equal(other.json().code, 'MAAP_IDEMPOTENCY_KEY_REUSED')
  t.match(other.json().message, /batch of 3 events and this one has 1/)
  const bad = await post(app, ndjson('d'), 'not a key')
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'MAAP_BAD_IDEMPOTENCY_KEY')
  const unkeyed = [await post(app, body), await post(app, body)]
  t.same(unkeyed.map(r => r.statusCode), [200, 200])
  t.equal(journaled(logDir).length, 6, 'without a key, each request is stored, as before')

  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.same(status.idempotency, { keys: 1, window_seconds: 86400, replayed: 1, evicted: 0, log_errors: 0 })
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /^maap_idempotent_replays_total 1$/m)
  t.match(metrics, /^maap_idempotency_keys 1$/m)
})

t.test('POST /log with a key; a batch with nothing acceptable is remembered too', async t => {
  const { app, logDir } = await buildTestApp(t)
  const event = JSON.stringify({ message: 'single', app_name: 'idem' })
  const first = await post(app, event, KEY, '/log')
  const again = await post(app, event, KEY, '/log')
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 201)
  t.same(again.json(), first.json(), 'the same timestamp as the first answer')
  t.equal(journaled(logDir).length, 1)
  const refused = [await post(app, 'nope\n', 'k-refused'), await post(app, 'nope\n', 'k-refused')]
  t.same(refused.map(r => r.statusCode), [400, 400])
  t.equal(refused[1]!.headers['idempotent-replayed'], 'true')
  t.equal(journaled(logDir).length, 1)
  const logFiles = join(logDir, KEY_LOG_DIR)
  const last = readFileSync(join(logFiles, readdirSorted(logFiles).at(-1)!), 'utf8').trimEnd().split('\n').at(-1)!
  t.match(JSON.parse(last), { e: [String, Number], k: [[String, Number, 1, { status: 400 }]] }, 'a line for a batch that wrote nothing still says how far the journal went')
})

t.test('the same key twice at once: the second waits for the first and is not journaled', async t => {
  const { app, logDir } = await buildTestApp(t)
  const body = ndjson(...Array.from({ length: 500 }, (_, i) => `m${i}`))
  const answers = await Promise.all([post(app, body, KEY), post(app, body, KEY), post(app, body, KEY)])
  t.same(answers.map(a => a.statusCode), [200, 200, 200])
  t.same(answers.map(a => a.headers['idempotent-replayed'] ?? 'first').sort(), ['first', 'true', 'true'], 'one stored it, the others waited for it')
  t.equal(journaled(logDir).length, 500)
})

t.test('a journal that fails answers 503 and does not remember the key: the retry is stored', async t => {
  // Tiny segments make every write open a new file, so a LOG_DIR replaced by a plain file fails the next write.
  const { app, logDir } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '1024' })
  const body = ndjson('during' + 'x'.repeat(1100))
  t.equal((await post(app, ndjson('before' + 'x'.repeat(1100)))).statusCode, 200, 'fills the first segment')
  renameSync(logDir, logDir + '.away')
  writeFileSync(logDir, 'not a directory')
  t.equal((await post(app, body, KEY)).statusCode, 503)
  rmSync(logDir)
  renameSync(logDir + '.away', logDir)
  const retry = await post(app, body, KEY)
  t.equal(retry.statusCode, 200)
  t.equal(retry.headers['idempotent-replayed'], undefined, 'a refusal is not an answer to repeat')
  t.equal(journaled(logDir).length, 2)
})

t.test('keys survive a restart; a journal write whose key line was lost is found by its ids', async t => {
  const logDir = mkdtempSync(join(tmpdir(), 'maap-idem-'))
  let app = await build2(t, logDir)
  t.equal((await post(app, ndjson('kept'), KEY)).statusCode, 200)
  await app.close()

  app = await build2(t, logDir)
  const again = await post(app, ndjson('kept'), KEY)
  t.equal(again.headers['idempotent-replayed'], 'true', 'remembered across a restart')
  t.equal((await post(app, ndjson('x', 'y'), KEY2)).statusCode, 200)
  await app.close()

  // The whole key log gone (deleted by hand): a journal without a key log was never written with keys.
  const logFiles = join(logDir, KEY_LOG_DIR)
  const lines = readFileSync(join(logFiles, readdirSorted(logFiles).at(-1)!), 'utf8').trimEnd().split('\n')
  t.match(lines.at(-1), /"e":\[/, 'each line says how far the journal it covers goes')
  rmSync(logFiles, { recursive: true })
  app = await build2(t, logDir)
  const found = await post(app, ndjson('x', 'y'), KEY2)
  t.equal(found.statusCode, 200)
  t.equal(found.headers['idempotent-replayed'], undefined, 'without a log there is nothing to read at start')
  t.equal(journaled(logDir).length, 5, 'so the batch is journaled again (with the same ids: MongoDB and reads keep one)')
  const ids = journaled(logDir).filter(l => l.message === 'x').map(l => l._id)
  t.equal(ids[0], ids[1], 'both copies carry the same derived id (the key\'s own time: a UUIDv7)')
  await app.close()
})

t.test('a key line lost after the log existed: the journal after the log\'s last line is read at start', async t => {
  const logDir = mkdtempSync(join(tmpdir(), 'maap-idem-'))
  let app = await build2(t, logDir)
  t.equal((await post(app, ndjson('first'), KEY)).statusCode, 200)
  t.equal((await post(app, ndjson('p', 'q'), 'lost-key')).statusCode, 200)
  await app.close()
  const logFiles = join(logDir, KEY_LOG_DIR)
  const file = join(logFiles, readdirSorted(logFiles).at(-1)!)
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
  t.same(lines.map(l => Object.keys(JSON.parse(l)).join()), ['e', 'e,k', 'e,k', 'e'], 'a first watermark, a line per keyed batch, a last watermark at the stop')
  // The SIGKILL between the journal's write and the key's line: nothing after the first batch's line made it.
  writeFileSync(file, lines.slice(0, 2).join('\n') + '\n')

  app = await build2(t, logDir)
  const found = await post(app, ndjson('p', 'q'), 'lost-key')
  t.equal(found.statusCode, 200)
  t.equal(found.headers['idempotent-replayed'], 'true', 'found by its derived ids in the journal')
  t.same(journaled(logDir).map(l => l.message), ['first', 'p', 'q'], 'not journaled again')
  t.equal((await post(app, ndjson('p', 'q'), 'lost-key')).headers['idempotent-replayed'], 'true', 'and now remembered')
  const status = (await app.inject({ method: 'GET', url: '/status' })).json()
  t.equal(status.idempotency.replayed, 2)
  await app.close()

  // Found at that start, kept for the window: a later start still knows it, though newer lines cover it.
  const keptLines = readFileSync(join(logFiles, readdirSorted(logFiles).at(-1)!), 'utf8')
  t.match(keptLines, /"x":\[/, 'the ids found at start are kept in the log')
  app = await build2(t, logDir)
  t.equal((await post(app, ndjson('p', 'q'), 'lost-key')).headers['idempotent-replayed'], 'true')
  t.equal(journaled(logDir).length, 3)
})

t.test('a keyed batch cut short by a kill (its last lines never written) is journaled again, not answered as stored', async t => {
  const logDir = mkdtempSync(join(tmpdir(), 'maap-idem-'))
  let app = await build2(t, logDir)
  const body = ndjson(...Array.from({ length: 10 }, (_, i) => `m${i}`))
  t.equal((await post(app, body, KEY)).statusCode, 200)
  await app.close()
  // The kill: the write stopped after 7 whole lines, and the key's line never came.
  const [segment] = segments(logDir)
  const journalLines = readFileSync(join(logDir, segment!), 'utf8').trimEnd().split('\n')
  writeFileSync(join(logDir, segment!), journalLines.slice(0, 7).join('\n') + '\n')
  const logFiles = join(logDir, KEY_LOG_DIR)
  const file = join(logFiles, readdirSorted(logFiles).at(-1)!)
  writeFileSync(file, readFileSync(file, 'utf8').split('\n')[0] + '\n')

  app = await build2(t, logDir)
  const again = await post(app, body, KEY)
  t.equal(again.statusCode, 200)
  t.equal(again.headers['idempotent-replayed'], undefined, 'its first lines are there, its last is not: stored again')
  const all = journaled(logDir)
  t.equal(all.length, 17)
  t.same(all.slice(7).map(e => e.message), Array.from({ length: 10 }, (_, i) => `m${i}`), 'whole this time')
  t.equal(all[0]!._id, all[7]!._id, 'with the same ids: MongoDB keeps one copy of each')
})

t.test('IDEMPOTENCY_MAX_KEYS=0: nothing remembered, ids still derived from the key', async t => {
  const { app, logDir } = await buildTestApp(t, { IDEMPOTENCY_MAX_KEYS: '0' })
  await post(app, ndjson('a'), KEY)
  await post(app, ndjson('a'), KEY)
  const lines = journaled(logDir)
  t.equal(lines.length, 2)
  t.equal(lines[0]!._id, lines[1]!._id, 'the same id: MongoDB keeps one')
  t.equal((await app.inject({ method: 'GET', url: '/status' })).json().idempotency, null)
})

t.test('the key store forgets keys past the window, and the oldest past the cap (counted)', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-idem-store-'))
  let now = 1_000_000
  const store = new KeyStore(dir, { windowMs: 1000, maxKeys: 2, sync: false, now: () => now, onError: err => { throw err } })
  t.teardown(() => store.close())
  await store.load(async function * () {}, () => ({ segment: 's', offset: 0 }), { segment: 's', offset: 0 })
  const remember = (name: string): void => store.remember({ name, at: now, events: 1, answer: 1 })
  remember('a')
  remember('b')
  remember('c')
  t.same(store.stats(), { keys: 2, replayed: 0, evicted: 1, logErrors: 0 }, 'a went early, past the cap of 2')
  t.equal(typeof await store.begin('a'), 'function', 'a is new again')
  t.equal(typeof await store.begin('b'), 'object', 'b is known')
  now += 1001
  remember('d')
  t.same(store.stats(), { keys: 1, replayed: 0, evicted: 1, logErrors: 0 }, 'b and c expired with the window, not counted as evicted')
  store.close()

  // Reloaded from its log: only the keys still in the window.
  const reloaded = new KeyStore(dir, { windowMs: 1000, maxKeys: 10, sync: false, now: () => now, onError: err => { throw err } })
  t.teardown(() => reloaded.close())
  await reloaded.load(async function * () {}, () => ({ segment: 's', offset: 0 }), { segment: 's', offset: 0 })
  t.equal(reloaded.stats().keys, 1)
  t.equal(typeof await reloaded.begin('d'), 'object')
})

function readdirSorted (dir: string): string[] {
  return readdirSync(dir).sort()
}
