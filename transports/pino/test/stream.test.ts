// The transport's stream on this thread (pino runs it in a worker; the code is the same), so the
// adapter's own lines are exercised and measured directly.
import t from 'tap'
import { once } from 'node:events'
import maapTransport from '@maap-event-logger/pino-transport'
import { startStub } from '../../../test/support'

t.test('lines in, events out; flush waits for delivery; end closes the shipper', async t => {
  const stub = await startStub(t)
  const stream = await maapTransport({ url: stub.url, appName: 'direct', batchInterval: 3_600_000 })
  stream.write('{"level":30,"time":1700000000000,"pid":1,"msg":"from pino"}\n')
  stream.write('not JSON at all\n')
  stream.write('{"level":40,"time":1,"nested":{"msg":"x"}}\n')
  await new Promise<void>((resolve, reject) => stream.flush!(err => err ? reject(err) : resolve()))
  t.match(stub.accepted, [
    { level: 'info', message: 'from pino', timestamp: 1700000000000, app_name: 'direct' },
    { level: 'info', message: 'not JSON at all', app_name: 'direct' },
    { level: 'warn', message: '', nested: { msg: 'x' } }
  ])
  stream.write('{"level":30,"time":2,"msg":"last"}\n')
  stream.end()
  await once(stream, 'close')
  t.equal(stub.accepted.at(-1)!.message, 'last', 'end delivers what is left before close')
})

t.test('text and Buffer chunks, lines split across chunks and multi-byte characters arrive intact', async t => {
  const stub = await startStub(t)
  const stream = await maapTransport({ url: stub.url, appName: 'direct', batchInterval: 3_600_000 })
  const line = '{"level":30,"time":1,"msg":"héllo wörld ✓ 😀"}\n'
  // As thread-stream writes (text), cut mid-line; then as a Buffer cut inside the 4-byte emoji.
  stream.write(line.slice(0, 20))
  stream.write(line.slice(20))
  const bytes = Buffer.from(line)
  const cut = bytes.indexOf(Buffer.from('😀')) + 2
  stream.write(bytes.subarray(0, cut))
  stream.write(bytes.subarray(cut))
  await new Promise<void>((resolve, reject) => stream.flush!(err => err ? reject(err) : resolve()))
  t.same(stub.accepted.map(e => e.message), ['héllo wörld ✓ 😀', 'héllo wörld ✓ 😀'])
  stream.end()
  await once(stream, 'close')
})
