import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Shipper, type ShipperError } from '@maap-event-logger/shipper'
import { acceptAll, deadPort, startStub, captureStderr, holdProcess } from '../../../test/support'

const spoolFiles = (dir: string): string[] => readdirSync(dir).filter(f => f.endsWith('.ndjson')).sort()
const tmp = (): string => mkdtempSync(join(tmpdir(), 'maap-spool-'))

t.test('collector down + memory bound: spill to disk; a restarted shipper replays in order', async t => {
  const dir = tmp()
  const port = await deadPort()
  const first = new Shipper({ url: `http://127.0.0.1:${port}`, spoolDir: dir, batchSize: 10, maxBufferBytes: 2000, retryBaseMs: 10, retryMaxMs: 20, closeTimeout: 50, onError: () => {} }, {})
  holdProcess(t)
  for (let i = 0; i < 100; i++) first.write({ msg: `m${i}`, pad: 'p'.repeat(40) })
  const stats = await first.close()
  t.equal(stats.dropped, 0, 'nothing dropped with a spool')
  t.equal(stats.spooled, 100, 'everything spooled: by the bound while running, the rest at the close deadline')
  t.equal(stats.spoolFiles, spoolFiles(dir).length)
  t.notOk(readdirSync(dir).includes('.lock'), 'lock released on close')

  // "Application restart": a new shipper on the same directory, collector now up.
  const stub = await startStub(t, acceptAll, port)
  const second = new Shipper({ url: stub.url, spoolDir: dir }, {})
  const after = await second.close()
  t.equal(after.sent, 100)
  t.same(stub.accepted.map(e => e.message), Array.from({ length: 100 }, (_, i) => `m${i}`), 'replayed in the order written')
  t.same(spoolFiles(dir), [], 'delivered files removed')
})

t.test('without a spool the oldest batches are dropped, counted, and reported on stderr', async t => {
  const port = await deadPort()
  const dropped: Array<{ records: number }> = []
  const shipper = new Shipper({ url: `http://127.0.0.1:${port}`, batchSize: 10, maxBufferBytes: 2000, retryBaseMs: 10, closeTimeout: 20, concurrency: 1, onError: () => {} }, {})
  shipper.on('dropped', d => dropped.push(d))
  holdProcess(t)
  const stderr = captureStderr(t)
  const written = stderr.lines
  for (let i = 0; i < 100; i++) shipper.write({ msg: `m${i}`, pad: 'p'.repeat(40) })
  const running = shipper.stats()
  t.ok(running.dropped > 0, 'dropped while running')
  t.ok(running.queuedBytes <= 2000 + 10 * 100, 'memory stays near the bound (one batch in flight may exceed it)')
  const stats = await shipper.close()
  stderr.stop()
  t.equal(stats.dropped, 100)
  t.equal(dropped.reduce((n, d) => n + d.records, 0), 100)
  t.match(written.join(''), /maap-shipper: dropped \d+ records: memory bound reached/)
})

t.test('a spool directory held by a live process is not shared: ship without it, say so', async t => {
  const dir = tmp()
  // pid 1 is alive and is not us.
  writeFileSync(join(dir, '.lock'), '1 0')
  const errors: ShipperError[] = []
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, spoolDir: dir, onError: e => errors.push(e) }, {})
  shipper.write({ msg: 'still shipped' })
  t.equal((await shipper.close()).sent, 1)
  t.match(errors, [{ code: 'MAAP_SHIP_SPOOL', message: /in use by process 1 0/ }])
})

t.test("a dead process's lock is taken over, with its files", async t => {
  const dir = tmp()
  // A pid above the kernel's pid_max: no process has it, as for a process that died.
  const dead = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1
  writeFileSync(join(dir, '.lock'), `${dead} 0`)
  writeFileSync(join(dir, '000000000000001-0000000000-0000.ndjson'), '{"level":"info","message":"left over","app_name":"x"}\n')
  writeFileSync(join(dir, 'not-ours.txt'), 'keep me')
  writeFileSync(join(dir, '000000000000000-0000000000-0000.ndjson'), '')
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, spoolDir: dir }, {})
  const stats = await shipper.close()
  t.equal(stats.sent, 1)
  t.same(stub.accepted.map(e => e.message), ['left over'])
  t.same(readdirSync(dir), ['not-ours.txt'], 'only our own files are touched')
})

t.test('a spool file the collector rejects is removed and counted; an unusable spool path is reported', async t => {
  const dir = tmp()
  writeFileSync(join(dir, '000000000000001-0000000000-0000.ndjson'), '{"message":"bad"}\n')
  const stub = await startStub(t, () => ({ status: 422, body: { message: 'no' } }))
  const shipper = new Shipper({ url: stub.url, spoolDir: dir, onError: () => {} }, {})
  t.equal((await shipper.close()).rejected, 1)
  t.same(spoolFiles(dir), [])

  const file = join(dir, 'a-file')
  writeFileSync(file, '')
  const errors: ShipperError[] = []
  const s2 = new Shipper({ url: stub.url, spoolDir: join(file, 'sub'), onError: e => errors.push(e) }, {})
  await s2.close()
  t.match(errors, [{ code: 'MAAP_SHIP_SPOOL', message: /unusable/ }])
})

t.test('spooled batches are NDJSON of collector events', async t => {
  const dir = tmp()
  const port = await deadPort()
  const shipper = new Shipper({ url: `http://127.0.0.1:${port}`, spoolDir: dir, closeTimeout: 1, onError: () => {} }, {})
  holdProcess(t)
  shipper.write({ level: 50, msg: 'boom', time: 7 })
  // Not events.once(): it would treat the shipper's 'error' events (retries) as a failure.
  const spooled: Array<{ file: string }> = []
  shipper.on('spooled', s => spooled.push(s))
  await shipper.close()
  const file = spooled[0]!.file
  t.match(file, /^\d{15}-\d{10}-\d{4}\.[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.ndjson$/, "named in order, with the batch's Idempotency-Key")
  t.match(JSON.parse(readFileSync(join(dir, file), 'utf8')), { level: 'error', message: 'boom', timestamp: 7 })
})

t.test('a replayed spool file that meets 413 is split, stays the one file in flight, and is removed once delivered', async t => {
  const dir = tmp()
  const event = (message: string): string => JSON.stringify({ level: 'info', message, app_name: 'replay' })
  writeFileSync(join(dir, '000000000000001-0000000001-0000.ndjson'), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map(event).join('\n') + '\n')
  writeFileSync(join(dir, '000000000000001-0000000002-0000.ndjson'), ['b1', 'b2'].map(event).join('\n') + '\n')
  const stub = await startStub(t, req => req.lines.length > 2
    ? { status: 413, body: { statusCode: 413, error: 'Payload Too Large', message: 'too large' } }
    : acceptAll(req, 0))
  const shipper = new Shipper({ url: stub.url, spoolDir: dir, concurrency: 4, onError: () => {} }, {})
  await stub.waitForAccepted(8)
  await shipper.close()
  const order = stub.accepted.map(e => String(e.message))
  // Halves of one batch travel side by side; files do not: every record of the first file comes first.
  t.same(order.slice(0, 6).sort(), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], 'the first file, whole, before the second')
  t.same(order.slice(6), ['b1', 'b2'])
  t.same(readdirSync(dir).filter(f => f.endsWith('.ndjson')), [], 'both files removed')
})
