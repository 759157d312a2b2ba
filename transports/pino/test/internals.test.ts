// The transport leans on two things no public API offers; each is pinned here, so an upgrade of pino,
// thread-stream, pino-abstract-transport or Node that breaks one fails a test instead of silently
// slowing down or losing the meaning of logger.flush(cb).
//  1. `_writableState.decodeStrings = false` on pino-abstract-transport's split2 stream: thread-stream
//     writes text, and without it each chunk is encoded to a Buffer for split2 to decode again.
//     pino-abstract-transport's build() creates the stream with no way to pass Transform options.
//  2. `stream.flush = (cb) => …`: thread-stream's worker answers a FLUSH message by calling the
//     destination's flush(cb) when it has one (with a callback, since ours takes one argument), else
//     flushSync() or nothing — so logger.flush(cb) means "delivered" only while that holds.
import t from 'tap'
import { once } from 'node:events'
import { resolve } from 'node:path'
import pino from 'pino'
import maapTransport from '@maap-event-logger/pino-transport'
import { startStub } from '../../../test/support'

const flush = (logger: pino.Logger): Promise<void> =>
  new Promise((resolve, reject) => logger.flush(err => err ? reject(err) : resolve()))

t.test('pin 1, on this thread: a string written stays a string down to split2 (Node honours decodeStrings)', async t => {
  const stub = await startStub(t)
  const stream = await maapTransport({ url: stub.url, batchInterval: 3_600_000 })
  const internal = stream as unknown as { _writableState: { decodeStrings: boolean }, _transform: (chunk: unknown, enc: string, cb: () => void) => void }
  t.equal(internal._writableState.decodeStrings, false, 'the setting is where Node reads it')
  const seen: string[] = []
  const transform = internal._transform
  internal._transform = function (chunk, enc, cb) {
    seen.push(typeof chunk)
    return transform.call(this, chunk, enc, cb)
  }
  stream.write('{"level":30,"msg":"a"}\n')
  await new Promise<void>((resolve, reject) => stream.flush!(err => err ? reject(err) : resolve()))
  t.same(seen, ['string'], 'not re-encoded to a Buffer')
  t.match(stub.accepted, [{ message: 'a' }])
  stream.end()
  await once(stream, 'close')
})

t.test("pin 1 and 2 in pino's worker: thread-stream writes text, and logger.flush(cb) waits for our flush", async t => {
  const stub = await startStub(t)
  // An hour-long batch interval: only our flush can have sent the record by the time the callback runs.
  const transport = pino.transport({ target: resolve(__dirname, 'fixtures', 'observed-target.js'), options: { url: stub.url, batchInterval: 3_600_000 } })
  const logger = pino(transport)
  logger.info('first')
  await flush(logger)
  t.match(stub.accepted, [{ message: 'observed', chunk: 'string', decodeStrings: false }, { message: 'first' }],
    'thread-stream handed text to a stream with decodeStrings off; FLUSH reached stream.flush(cb)')
  transport.end()
  await once(transport, 'close')
})

t.test('pin 2: our flush takes a callback, which is what makes thread-stream pass one', async t => {
  const stream = await maapTransport({ url: 'http://127.0.0.1:1', closeTimeout: 1 })
  t.equal(typeof stream.flush, 'function')
  t.equal(stream.flush!.length, 1)
  stream.destroy()
  await once(stream, 'close')
})
