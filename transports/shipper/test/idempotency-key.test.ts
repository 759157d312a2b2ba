// Every batch carries an Idempotency-Key that stays the same across every attempt of it: retries in the
// same process, a 413 split (each half a request of its own), and a replay of its spool file by a later
// process. The collector uses it to store a batch once when an acknowledgement was lost.
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Shipper } from '@maap-event-logger/shipper'
import { halfKeys, newBatchKey } from '../src/batch-key'
import { keyOfFile } from '../src/spool'
import { acceptAll, deadPort, startStub, holdProcess, FakeClock } from '../../../test/support'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const keyOf = (req: { headers: Record<string, unknown> }): unknown => req.headers['idempotency-key']

t.test('a key is a UUIDv7 holding the time it was made; no two alike', async t => {
  const at = Date.UTC(2026, 11, 6, 9, 30, 15, 123)
  const keys = new Set<string>()
  for (let i = 0; i < 10_000; i++) {
    const key = newBatchKey(at)
    t.equal(UUID_V7.test(key), true, key)
    t.equal(Number.parseInt(key.slice(0, 8) + key.slice(9, 13), 16), at, 'the first 48 bits are the Unix milliseconds')
    keys.add(key)
    if (!UUID_V7.test(key)) break
  }
  t.equal(keys.size, 10_000)
  t.same(halfKeys('k'), ['k.0', 'k.1'])
})

t.test('every attempt of a batch sends the same key; each batch its own', async t => {
  const stub = await startStub(t, (req, n) => n < 2 ? { status: 503 } : acceptAll(req, n))
  const clock = new FakeClock()
  const sealedAt = clock.now()
  const shipper = new Shipper({ url: stub.url, batchSize: 2, concurrency: 1, retryBaseMs: 1, onError: () => {} }, {}, { clock })
  t.teardown(() => shipper.close())
  for (const msg of ['a', 'b', 'c', 'd']) shipper.write({ msg })
  const flushed = shipper.flush()
  for (let i = 0; i < 2; i++) {
    await once(shipper, 'retry')
    clock.advance(1000)
  }
  await flushed
  const keys = stub.requests.map(keyOf)
  t.equal(stub.requests.length, 4, 'two failed attempts of the first batch, then both batches')
  t.equal(keys[0], keys[1])
  t.equal(keys[1], keys[2], 'the third attempt, answered, still the same key')
  t.not(keys[3], keys[0], 'the second batch has its own')
  t.ok(keys.every(k => typeof k === 'string' && UUID_V7.test(k)))
  t.equal(Number.parseInt(String(keys[0]).slice(0, 8) + String(keys[0]).slice(9, 13), 16), sealedAt, 'made with the shipper\'s clock when sealed')
})

t.test('a batch spooled at close is replayed by the next process with the key it was first sent with', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-key-spool-'))
  const port = await deadPort()
  const first = new Shipper({ url: `http://127.0.0.1:${port}`, spoolDir: dir, retryBaseMs: 5, retryMaxMs: 10, closeTimeout: 100, onError: () => {} }, {})
  holdProcess(t)
  first.write({ msg: 'once' })
  await first.close()
  const files = readdirSync(dir).filter(f => f.endsWith('.ndjson'))
  t.equal(files.length, 1)
  const spooledKey = keyOfFile(files[0]!)
  t.ok(spooledKey !== undefined && UUID_V7.test(spooledKey), 'the spool file is named with the batch\'s key')

  const stub = await startStub(t, acceptAll, port)
  const second = new Shipper({ url: stub.url, spoolDir: dir }, {})
  await second.close()
  t.equal(stub.requests.length, 1)
  t.equal(keyOf(stub.requests[0]!), spooledKey, 'the replay is the same request')
})

t.test('the halves of a batch split on a 413 are <key>.0 and <key>.1, and keep them when retried', async t => {
  let failedHalf = false
  const stub = await startStub(t, (req, n) => {
    if (req.lines.length > 2) return { status: 413, body: { message: 'too large' } }
    if (!failedHalf) {
      failedHalf = true
      return { status: 503 }
    }
    return acceptAll(req, n)
  })
  const shipper = new Shipper({ url: stub.url, batchSize: 4, concurrency: 1, retryBaseMs: 1, onError: () => {} }, {})
  t.teardown(() => shipper.close())
  for (const msg of ['a', 'b', 'c', 'd']) shipper.write({ msg })
  await shipper.flush()
  const [whole, ...halves] = stub.requests.map(r => String(keyOf(r)))
  t.ok(UUID_V7.test(whole!))
  t.same(halves.sort(), [`${whole}.0`, `${whole}.0`, `${whole}.1`], 'one half retried after a 503, with its own key still')
  t.same(stub.accepted.map(e => e.message).sort(), ['a', 'b', 'c', 'd'])
})

t.test('a spool file of an older version (no key in its name) is sent without a key', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-key-legacy-'))
  writeFileSync(join(dir, '000000000000001-0000000001-0000.ndjson'), JSON.stringify({ message: 'old', app_name: 'x' }) + '\n')
  const stub = await startStub(t)
  const shipper = new Shipper({ url: stub.url, spoolDir: dir }, {})
  await shipper.close()
  t.equal(stub.requests.length, 1)
  t.equal(keyOf(stub.requests[0]!), undefined)
  t.equal(keyOfFile('000000000000001-0000000001-0000.x y.ndjson'), undefined, 'a name part that is no key is not sent as one')
})
