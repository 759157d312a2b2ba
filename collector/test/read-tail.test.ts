// GET /logs/tail over real sockets: live events, filters, resume with Last-Event-ID (across segment rolls
// and a restart) with nothing lost or doubled, the client cap, heartbeats, and a client that reads
// nothing, which only falls behind on disk.
import t from 'tap'
import { connect } from 'node:net'
import { request, type IncomingMessage } from 'node:http'
import { poll } from '../../test/support'
import { buildTestApp, listen } from './helpers'
import { postEvents as post } from './read-helpers'

interface SseMessage { id?: string, event?: string, data?: string }

/** A Server-Sent Events reader: every message and comment as it arrives. */
class Sse {
  messages: SseMessage[] = []
  comments: string[] = []
  status = 0
  headers: IncomingMessage['headers'] = {}
  private buffer = ''
  private waiters: Array<() => void> = []
  private readonly req

  constructor (url: string, headers: Record<string, string> = {}) {
    this.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, res => {
      this.status = res.statusCode!
      this.headers = res.headers
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        this.buffer += chunk
        let end
        while ((end = this.buffer.indexOf('\n\n')) !== -1) {
          const block = this.buffer.slice(0, end)
          this.buffer = this.buffer.slice(end + 2)
          const m: SseMessage = {}
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line)
            else if (line.startsWith('id: ')) m.id = line.slice(4)
            else if (line.startsWith('event: ')) m.event = line.slice(7)
            else if (line.startsWith('data: ')) m.data = line.slice(6)
          }
          if (m.data !== undefined) this.messages.push(m)
        }
        this.wake()
      })
      res.on('end', () => this.wake())
    })
    this.req.on('error', () => this.wake())
    this.req.end()
  }

  private wake (): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Events (not the `ready` message), parsed. */
  get events (): Array<Record<string, any>> {
    return this.messages.filter(m => m.event === undefined).map(m => JSON.parse(m.data!))
  }

  get lastId (): string {
    return this.messages.at(-1)!.id!
  }

  async until (check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>(resolve => this.waiters.push(resolve))
  }

  close (): void {
    this.req.destroy()
  }
}

const seqsOf = (s: Sse): number[] => s.events.map(e => e.seq as number)
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

t.test('a tail sees events as they are acknowledged, filtered like /logs', async t => {
  const { app } = await buildTestApp(t)
  const url = await listen(app)
  await post(app, [{ message: 'before the tail', app_name: 'api', seq: -1 }])
  const all = new Sse(`${url}/logs/tail`)
  const errors = new Sse(`${url}/logs/tail?level=error&app_name=api`)
  t.teardown(() => { all.close(); errors.close() })
  await all.until(() => all.messages.length >= 1)
  await errors.until(() => errors.messages.length >= 1)
  t.equal(all.status, 200)
  t.match(all.headers['content-type'], /^text\/event-stream/)
  t.equal(all.messages[0]!.event, 'ready', 'the first message carries the starting position')
  await post(app, [
    { level: 'info', message: 'one', app_name: 'api', seq: 0 },
    { level: 'error', message: 'two', app_name: 'api', seq: 1 },
    { level: 'error', message: 'three', app_name: 'web', seq: 2 }
  ])
  await all.until(() => all.events.length >= 3)
  await errors.until(() => errors.events.length >= 1)
  t.same(seqsOf(all), [0, 1, 2], 'in order, nothing from before the tail started')
  t.match(all.events[1], { level: 'ERROR', message: 'two', app_name: 'api', _id: /^[0-9a-f]{24}$/ })
  t.same(seqsOf(errors), [1])
})

t.test('resume with Last-Event-ID: none lost, none twice, across segment rolls and a restart', async t => {
  const { app, logDir } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '2048' })
  const url = await listen(app)
  const first = new Sse(`${url}/logs/tail`)
  await first.until(() => first.messages.length >= 1)
  for (let i = 0; i < 40; i++) await post(app, [{ message: `a ${i}`, app_name: 'api', seq: i }])
  await first.until(() => first.events.length >= 40)
  // Leave part-way, at event 24.
  const resumeAt = first.messages.find(m => m.data !== undefined && m.event === undefined && JSON.parse(m.data).seq === 24)!.id!
  first.close()
  for (let i = 40; i < 70; i++) await post(app, [{ message: `b ${i}`, app_name: 'api', seq: i }])

  const second = new Sse(`${url}/logs/tail`, { 'last-event-id': resumeAt })
  await second.until(() => second.events.length >= 45)
  t.same(seqsOf(second), range(25, 70), 'exactly the events after the last one seen')
  const idAfterAll = second.lastId
  second.close()

  // A restart: the new process opens a fresh segment; the id names one of the old process.
  await app.close()
  const { app: again } = await buildTestApp(t, { LOG_DIR: logDir, JOURNAL_SEGMENT_BYTES: '2048' })
  const url2 = await listen(again)
  await post(again, range(70, 80).map(seq => ({ message: `c ${seq}`, app_name: 'api', seq })))
  const third = new Sse(`${url2}/logs/tail?last_event_id=${encodeURIComponent(idAfterAll)}`)
  t.teardown(() => third.close())
  await third.until(() => third.events.length >= 10)
  await post(again, [{ message: 'live', app_name: 'api', seq: 80 }])
  await third.until(() => third.events.length >= 11)
  t.same(seqsOf(third), range(70, 81))
})

t.test('the cap on tails, a bad Last-Event-ID, heartbeats', async t => {
  const { app } = await buildTestApp(t, { MAX_TAIL_CLIENTS: '1', TAIL_HEARTBEAT_INTERVAL: '0.05' })
  const url = await listen(app)
  const one = new Sse(`${url}/logs/tail`)
  t.teardown(() => one.close())
  await one.until(() => one.messages.length >= 1)
  const res = await app.inject({ method: 'GET', url: '/logs/tail' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.match(res.json(), { code: 'MAAP_TOO_MANY_TAILS' })
  await one.until(() => one.comments.includes(': keep-alive'))
  t.pass('an idle tail gets keep-alive comments')
  const bad = await app.inject({ method: 'GET', url: '/logs/tail', headers: { 'last-event-id': '../../etc/passwd' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'MAAP_BAD_QUERY', message: /^last_event_id/ })
  one.close()
  await t.resolves(async () => {
    await poll(() => app.collector.tails.size === 0)
  }, 'a tail that goes away frees its place')
})

t.test('a tail that reads nothing falls behind on disk: ingest goes on and the collector holds one chunk for it', async t => {
  const { app } = await buildTestApp(t, { JOURNAL_SEGMENT_BYTES: '4194304' })
  const url = new URL(await listen(app))
  // A client that sends the request and then never reads.
  const socket = connect(Number(url.port), url.hostname)
  socket.pause()
  t.teardown(() => socket.destroy())
  socket.write('GET /logs/tail HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n')
  await poll(() => app.collector.tails.size > 0)
  const payload = 'x'.repeat(1000)
  for (let i = 0; i < 30; i++) {
    await post(app, Array.from({ length: 1000 }, (_, j) => ({ message: `m ${i * 1000 + j} ${payload}`, app_name: 'api' })))
  }
  t.pass('30 MB were acknowledged while the tail read nothing')
  const held = app.collector.tails.bufferedBytes
  t.ok(held < 2 * 1024 * 1024, `the collector holds ${held} bytes for it (one chunk at most), not the 30 MB`)
  const probe = new Sse(`${url.origin}/logs/tail`)
  t.teardown(() => probe.close())
  await probe.until(() => probe.messages.length >= 1)
  await post(app, [{ message: 'still live', app_name: 'api', seq: 1 }])
  await probe.until(() => probe.events.length >= 1)
  t.same(seqsOf(probe), [1], 'other tails are served meanwhile')
})

t.test('read keys guard the tail and pin it to their app', async t => {
  const { app } = await buildTestApp(t, { API_KEYS: 'ingest-key-0001', READ_API_KEYS: 'reader-key-0001,billing:billing-reader-01' })
  const url = await listen(app)
  t.equal((await app.inject({ method: 'GET', url: '/logs/tail' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/logs/tail', headers: { authorization: 'Bearer ingest-key-0001' } })).statusCode, 403, 'an ingest key cannot read')
  const billing = new Sse(`${url}/logs/tail?app_name=api`, { authorization: 'Bearer billing-reader-01' })
  t.teardown(() => billing.close())
  await billing.until(() => billing.messages.length >= 1)
  t.equal(billing.status, 200)
  await app.inject({
    method: 'POST', url: '/logs', headers: { authorization: 'Bearer ingest-key-0001', 'content-type': 'application/x-ndjson' },
    payload: [{ message: 'api', app_name: 'api', seq: 0 }, { message: 'billing', app_name: 'billing', seq: 1 }].map(e => JSON.stringify(e)).join('\n')
  })
  await billing.until(() => billing.events.length >= 1)
  t.same(seqsOf(billing), [1], 'a read key pinned to billing sees billing alone, whatever it asks for')
})
