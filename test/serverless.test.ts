// Issue #23, "serverless: flushed means delivered", tested as a platform does it: the handlers of
// examples/serverless run in a child process that is SIGKILLed the moment the handler returns, and a
// process is frozen (SIGSTOP) with a request's answer pending, then thawed (SIGCONT). winston runs both
// ways: in the process (the example, worker: false) and in its default worker thread.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { deadPort, journaled, poll, startCollector, type RunningCollector } from './support'

const host = resolve(__dirname, 'serverless', 'host.js')
const handlers = {
  pino: resolve(__dirname, '..', 'examples', 'serverless', 'pino-handler.js'),
  winston: resolve(__dirname, '..', 'examples', 'serverless', 'winston-handler.js'),
  'winston (worker thread)': resolve(__dirname, 'serverless', 'winston-worker-handler.js')
}
const ITEMS = 200

let shared: Promise<RunningCollector> | undefined
/** The tests that need a collector take turns on one (a process start each was a second or more): each finds its records by its own run id. */
async function sharedCollector (): Promise<RunningCollector> {
  shared ??= startCollector(t)
  return await shared
}

interface Started {
  child: ReturnType<typeof spawn>
  line: Promise<string>
  /** Resolves once the child is gone and both of its pipes are read to the end ('close'). */
  closed: Promise<void>
  stderr: () => string
}

/** Starts `node <args>`; resolves with the child and its first stdout line that starts with `prefix`. */
async function startUntil (args: string[], env: Record<string, string>, prefix: string): Promise<Started> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c })
  const closed = once(child, 'close').then(() => {})
  const lines = createInterface({ input: child.stdout! })
  const line = new Promise<string>((resolve, reject) => {
    lines.on('line', l => { if (l.startsWith(prefix)) resolve(l.slice(prefix.length)) })
    child.on('exit', code => reject(new Error(`exited ${code} before "${prefix}": ${stderr}`)))
  })
  return { child, line, closed, stderr: () => stderr }
}

for (const [name, handler] of Object.entries(handlers)) {
  t.test(`${name} handler: SIGKILLed the moment it returns, every record is in the collector`, async t => {
    const collector = await sharedCollector()
    const run = `${name}-${Date.now()}`
    const items = Array.from({ length: ITEMS }, (_, seq) => ({ run, seq }))
    const app = await startUntil([host, handler], { MAAP_URL: collector.url, EVENT: JSON.stringify({ items }) }, 'returned ')
    const returned = JSON.parse(await app.line)
    app.child.kill('SIGKILL')
    await app.closed
    t.same(returned, { statusCode: 200, logsUndelivered: 0 })
    const seqs = journaled(collector.logDir).filter(e => (e.item as { run?: string } | undefined)?.run === run).map(e => (e.item as { seq: number }).seq)
    t.equal(seqs.length, ITEMS, 'every record arrived')
    t.equal(new Set(seqs).size, ITEMS, 'none twice')
  })

  t.test(`${name} handler: against a dead collector the flush resolves within its timeout, counting what is not delivered`, async t => {
    const port = await deadPort()
    const items = Array.from({ length: 10 }, (_, seq) => ({ seq }))
    const app = await startUntil([host, handler], { MAAP_URL: `http://127.0.0.1:${port}`, EVENT: JSON.stringify({ items }) }, 'returned ')
    const returned = JSON.parse(await app.line)
    app.child.kill('SIGKILL')
    // stderr is a pipe of its own: what the handler printed before "returned" may still be in it.
    await app.closed
    // 10 items and the "invocation started" record.
    t.same(returned, { statusCode: 200, logsUndelivered: 11 })
    t.match(app.stderr(), /maap: 11 log records not delivered/)
  })
}

t.test('a dead collector with a spool: spooled records are counted as not delivered', async t => {
  const port = await deadPort()
  const spool = mkdtempSync(resolve(tmpdir(), 'maap-fn-spool-'))
  const code = `
    const pino = require('pino')
    const { maapDestination } = require('@maap-event-logger/pino-transport')
    // A tiny memory bound: the backlog spills to the spool, which a function's /tmp would lose.
    const dest = maapDestination({ url: 'http://127.0.0.1:${port}', appName: 'spool-fn', spoolDir: ${JSON.stringify(spool)}, batchSize: 5, maxBufferBytes: 2000, flushTimeout: 300, retryBaseMs: 20, onError: () => {} })
    const logger = pino({}, dest)
    for (let i = 0; i < 60; i++) logger.info({ i, pad: 'x'.repeat(50) }, 'x')
    dest.flush().then(r => { process.stdout.write('flushed ' + JSON.stringify(r) + '\\n'); process.exit(0) })
  `
  const app = await startUntil(['-e', code], {}, 'flushed ')
  const r = JSON.parse(await app.line)
  t.equal(r.written, 60)
  t.equal(r.undelivered, 60, 'nothing delivered')
  t.ok(r.notDelivered.spooled > 0, 'some are spooled')
  t.equal(r.notDelivered.spooled + r.notDelivered.pending, 60, 'spooled or pending, all counted')
})

/**
 * A loopback proxy in front of the collector that forwards every request, but for the first one keeps
 * the collector's answer to itself (the request is journaled; its answer never comes): the moment to
 * freeze the client is while it waits for that answer.
 */
async function startHoldingProxy (t: { teardown: (fn: () => unknown) => void }, target: string): Promise<{ url: string, held: Promise<string>, keys: string[] }> {
  const keys: string[] = []
  let markHeld!: (key: string) => void
  const held = new Promise<string>(resolve => { markHeld = resolve })
  const parked: ServerResponse[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'])
      keys.push(key)
      const first = keys.length === 1
      const forward = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, upstream => {
        const body: Buffer[] = []
        upstream.on('data', (c: Buffer) => body.push(c))
        upstream.on('end', () => {
          if (first) {
            parked.push(res)
            markHeld(key)
            return
          }
          res.writeHead(upstream.statusCode ?? 502, upstream.headers)
          res.end(Buffer.concat(body))
        })
      })
      forward.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => {
    for (const res of parked) res.destroy()
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held, keys }
}

const frozen = {
  pino: resolve(__dirname, 'serverless', 'frozen.js'),
  'winston (worker thread)': resolve(__dirname, 'serverless', 'frozen-winston.js')
}

for (const [name, fixture] of Object.entries(frozen)) {
  t.test(`${name}: frozen (SIGSTOP) with an answer pending, thawed (SIGCONT) after its request timed out: every record exactly once`, async t => {
    const collector = await sharedCollector()
    const proxy = await startHoldingProxy(t, collector.url)
    const run = `frozen-${Date.now()}`
    const COUNT = 300
    const app = await startUntil([fixture], { MAAP_URL: proxy.url, RUN: run, COUNT: String(COUNT) }, 'flushed ')
    t.teardown(() => { app.child.kill('SIGKILL') })
    const key = await proxy.held
    app.child.kill('SIGSTOP')
    // Frozen for longer than its 1 s request timeout (a real platform: minutes). This wait is the
    // condition under test — the client's clock moving on while it cannot run — not a race being dodged.
    const frozenAt = Date.now()
    await poll(() => Date.now() - frozenAt > 3000, 100)
    app.child.kill('SIGCONT')
    const r = JSON.parse(await app.line)
    t.match(r, { written: COUNT, delivered: COUNT, undelivered: 0 })
    t.ok(proxy.keys.filter(k => k === key).length >= 2, 'the batch whose answer was held was sent again, with the same key')
    const seqs = journaled(collector.logDir).filter(e => e.run === run).map(e => e.seq as number)
    t.equal(seqs.length, COUNT, 'every record stored once: the retry of the journaled batch did not duplicate it')
    t.equal(new Set(seqs).size, COUNT)
  })
}
