// GET /health and GET /ready over real HTTP: no key, never MongoDB, and 503 with reasons while starting,
// while shutting down and while the journal cannot be written.
import t from 'tap'
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { poll } from '../../test/support'
import { buildTestApp, listen } from './helpers'

const keys = { API_KEYS: 'ingest-key-0123456789', ADMIN_API_KEY: 'admin-key-0123456789' }

t.test('/health: 200 without a key, with MongoDB configured but unreachable', async t => {
  const { app } = await buildTestApp(t, { ...keys, MONGODB_URI: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200', FLUSH_INTERVAL: '0.05' })
  const url = await listen(app)
  // An event waits for MongoDB, so the interval flush fails: MongoDB is down as far as the collector knows.
  t.equal((await fetch(`${url}/log`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.API_KEYS}` }, body: '{"message":"m","app_name":"a"}' })).status, 201)
  await poll(async () => (await app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${keys.ADMIN_API_KEY}` } })).json().last_error !== null)
  const health = await fetch(`${url}/health`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  const ready = await fetch(`${url}/ready`)
  t.equal(ready.status, 200, 'MongoDB down is not a reason: the journal takes the events')
  t.match(await ready.json(), { status: 'ready', reasons: [], checks: { process: 'serving', journal: 'writable', mongodb: 'disconnected' } })
  t.equal((await fetch(`${url}/status`)).status, 401, 'the admin routes still want the key')
})

t.test('/ready: 503 "starting" until the server listens, then 200', async t => {
  const { app } = await buildTestApp(t, keys)
  const before = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(before.statusCode, 503)
  t.equal(before.headers['retry-after'], '1')
  t.match(before.json(), { status: 'not_ready', reasons: [/^starting/], checks: { process: 'starting' } })
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'alive all the same')
  const url = await listen(app)
  const after = await fetch(`${url}/ready`)
  t.equal(after.status, 200)
  t.same(await after.json(), { status: 'ready', reasons: [], checks: { process: 'serving', journal: 'writable', mongodb: 'not_configured' } })
})

t.test('/ready: 503 while the journal cannot be written, 200 again once LOG_DIR is writable (without waiting for an event)', async t => {
  // Tiny segments: every write opens a new file, so a LOG_DIR replaced by a plain file fails the next one.
  const { app, logDir } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '1024' })
  const url = await listen(app)
  const send = async (message: string): Promise<number> => (await fetch(`${url}/log`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: message + 'x'.repeat(1100), app_name: 'a' })
  })).status
  t.equal(await send('before'), 201)
  renameSync(logDir, logDir + '.away')
  writeFileSync(logDir, 'not a directory')
  t.equal(await send('during'), 503)
  const failing = await fetch(`${url}/ready`)
  t.equal(failing.status, 503)
  const body = await failing.json()
  t.match(body, { status: 'not_ready', checks: { process: 'serving', journal: 'failing' } })
  t.match(body.reasons, [/^the journal cannot be written: .*could not be written.*\(a test write in LOG_DIR just failed too: ENOTDIR\)/])
  t.equal((await fetch(`${url}/ready`)).status, 503, 'still failing on the next probe')
  t.equal((await fetch(`${url}/health`)).status, 200, 'alive: restarting it would not make LOG_DIR writable')
  rmSync(logDir)
  renameSync(logDir + '.away', logDir)
  const recovered = await fetch(`${url}/ready`)
  t.equal(recovered.status, 200, 'the probe write succeeds: ready again before any event arrives')
  t.match(await recovered.json(), { reasons: [], checks: { journal: 'writable' } })
  t.notOk(readdirSync(logDir).some(n => n.startsWith('.maap-ready-probe')), 'the probe file is gone')
  t.equal(await send('after'), 201)
})

/**
 * Raw HTTP/1.1 on one socket: `first` is written at once, `rest` when `more` resolves (pipelined behind
 * it); resolves with the replies once the server closes the socket.
 */
async function rawExchange (port: number, first: string, more: Promise<unknown>, rest: string): Promise<Array<{ status: number, body: string }>> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let read = ''
    socket.setEncoding('utf8').on('data', chunk => { read += chunk }).on('error', reject).on('close', () => resolve(read))
    socket.write(first)
    more.then(() => socket.write(rest), reject)
  })
  return text.split(/(?=HTTP\/1\.1 \d{3} )/).map(r => ({ status: Number(r.slice(9, 12)), body: r.slice(r.indexOf('\r\n\r\n') + 4) }))
}

t.test('/ready: 503 "shutting down" once close has begun; other routes answer 503 MAAP_SHUTTING_DOWN; /health stays 200', async t => {
  const { app } = await buildTestApp(t)
  // Requests in flight keep their connections open through close(); a request pipelined behind each
  // arrives while the collector shuts down (and, answered with Connection: close, is the last on it).
  const followUps = ['/ready', '/health', '/status']
  let inFlight = 0
  let allInFlight!: () => void
  const requestsStarted = new Promise<void>(resolve => { allInFlight = resolve })
  app.addHook('onRequest', async request => { if (request.url === '/log' && ++inFlight === followUps.length) allInFlight() })
  let closeBegun!: () => void
  const closing = new Promise<void>(resolve => { closeBegun = resolve })
  // Registered after build()'s own preClose hook, so it runs once the readiness says "shutting down".
  app.addHook('preClose', async () => { closeBegun() })
  await listen(app)
  const port = (app.server.address() as { port: number }).port
  const body = JSON.stringify({ message: 'in flight', app_name: 'a' })
  const exchanges = followUps.map(path => rawExchange(port,
    `POST /log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    closing,
    `${body.slice(5)}GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`))
  await requestsStarted
  const closed = app.close()
  const [ready, health, status] = await Promise.all(exchanges)
  await closed
  for (const replies of [ready!, health!, status!]) {
    t.equal(replies.length, 2)
    t.ok([201, 503].includes(replies[0]!.status), 'the request in flight is answered (stored, or refused if the journal closed first)')
  }
  t.equal(ready![1]!.status, 503)
  t.match(JSON.parse(ready![1]!.body), { status: 'not_ready', reasons: [/^shutting down/], checks: { process: 'shutting_down' } })
  t.equal(health![1]!.status, 200, '/health: the process still serves')
  t.equal(status![1]!.status, 503)
  t.match(JSON.parse(status![1]!.body), { code: 'MAAP_SHUTTING_DOWN', error: 'Service Unavailable', message: /shutting down/ })
})
