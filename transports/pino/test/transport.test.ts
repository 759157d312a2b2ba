import t from 'tap'
import { once } from 'node:events'
import pino from 'pino'
import { startStub } from '../../../test/support'

// The stub collector runs on this thread. transport.end() blocks this thread (thread-stream waits in
// Atomics.wait for the worker to close), so the stub could not answer: these tests flush first, and
// the end/exit paths are tested with a separate application process (exit.test.ts).
const flush = (logger: pino.Logger): Promise<void> =>
  new Promise((resolve, reject) => logger.flush(err => err ? reject(err) : resolve()))

t.test('pino → worker transport → collector: mapping, child bindings, errors', async t => {
  const stub = await startStub(t)
  const transport = pino.transport({ target: '@maap-event-logger/pino-transport', options: { url: stub.url, appName: 'unit' } })
  const logger = pino({ name: 'pino-name' }, transport)
  logger.child({ requestId: 'r-1', user: { id: 7 } }).info({ extra: true }, 'hello %s', 'world')
  logger.error(new TypeError('bad thing'))
  logger.warn({ err: new Error('inner') }, 'with err')
  await flush(logger)
  t.equal(stub.accepted.length, 3, 'logger.flush(cb) calls back after delivery')
  const [hello, typeErr, withErr] = stub.accepted
  t.match(hello, { level: 'info', message: 'hello world', app_name: 'unit', name: 'pino-name', requestId: 'r-1', user: { id: 7 }, extra: true, pid: process.pid })
  t.type(hello!.timestamp, 'number')
  t.notOk('msg' in hello! || 'time' in hello!, 'pino field names replaced, not duplicated')
  t.match(typeErr, { level: 'error', message: 'bad thing', err: { type: 'TypeError', message: 'bad thing', stack: /TypeError: bad thing\n\s+at / } })
  t.match(withErr, { level: 'warn', message: 'with err', err: { type: 'Error', message: 'inner' } })
  transport.end()
  await once(transport, 'close')
})

t.test('without appName, pino name is the app_name', async t => {
  const stub = await startStub(t)
  const transport = pino.transport({ target: '@maap-event-logger/pino-transport', options: { url: stub.url } })
  const logger = pino({ name: 'billing' }, transport)
  logger.info('x')
  await flush(logger)
  transport.end()
  await once(transport, 'close')
  t.match(stub.accepted, [{ app_name: 'billing', message: 'x' }])
})

t.test('records written before flush are all delivered, in order', async t => {
  const stub = await startStub(t)
  const transport = pino.transport({ target: '@maap-event-logger/pino-transport', options: { url: stub.url, batchInterval: 3_600_000 } })
  const logger = pino(transport)
  for (let i = 0; i < 2500; i++) logger.info({ i }, 'r')
  await flush(logger)
  t.equal(stub.accepted.length, 2500)
  t.same(stub.accepted.map(e => e.i), Array.from({ length: 2500 }, (_, i) => i))
  transport.end()
  await once(transport, 'close')
})
