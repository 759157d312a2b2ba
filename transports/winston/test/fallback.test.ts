// A worker that loads but fails before it starts (a bundle that shipped the worker's file without its
// dependencies): the transport ships from the application thread instead, every record exactly once —
// including those logged, and the flush asked for, before the failure was known.
import { resolve } from 'node:path'
import t from 'tap'
import winston from 'winston'
import { MaapTransport, setWorkerEntryForTests } from '../src/transport'
import { captureStderr, startStub } from '../../../test/support'

t.test('a worker that fails before it starts: its records go from this thread, once each', async t => {
  const stderr = captureStderr(t)
  const stub = await startStub(t)
  setWorkerEntryForTests(resolve(__dirname, 'fixtures', 'unstartable-worker.js'))
  t.teardown(() => setWorkerEntryForTests(undefined))
  const transport = new MaapTransport({ url: stub.url, appName: 'fallback', onError: () => {} })
  const logger = winston.createLogger({ transports: [transport] })
  // Logged and flushed at once: the worker's failure is not known yet.
  for (let seq = 0; seq < 50; seq++) logger.info('before', { seq })
  const early = transport.flush(10_000)
  const r = await early
  t.match(r, { written: 50, delivered: 50, undelivered: 0 }, 'the flush asked of the worker is answered by its replacement')
  for (let seq = 50; seq < 60; seq++) logger.info('after', { seq })
  t.match(await transport.flush(10_000), { written: 10, delivered: 10, undelivered: 0 })
  const seqs = stub.accepted.map(e => e.seq as number)
  t.equal(seqs.length, 60, 'every record arrived')
  t.equal(new Set(seqs).size, 60, 'none twice')
  t.same(seqs.slice(0, 50), Array.from({ length: 50 }, (_, i) => i), 'in order')
  await transport.close()
  stderr.stop()
  t.match(stderr.lines.join(''), /maap-winston: the shipper's worker thread could not be started \(Cannot find module 'undici'\)/)
})
