// What the shipper does to its process, in real child processes: its timers and its worker never keep
// the process alive, and the opt-in exit flush runs, bounded, at the end.
import t from 'tap'
import { runNode, startStub } from '../../../test/support'

t.test('a shipper never keeps a process alive: the child exits with a batch still retrying', async t => {
  const stub = await startStub(t, () => ({ status: 503 }))
  const child = await runNode(['-e', `
    const { Shipper } = require('@maap-event-logger/shipper')
    const s = new Shipper({ url: ${JSON.stringify(stub.url)}, batchInterval: 1, retryBaseMs: 60000, onError: () => {} })
    s.on('retry', () => console.log('retrying'))
    s.write({ msg: 'a' })
  `])
  t.equal(child.code, 0, child.stderr)
  t.equal(child.stdout.trim(), 'retrying', 'it did try, then let the process end')
})

t.test('a worker pointed at an unreachable collector does not keep the process alive', async t => {
  const child = await runNode(['-e', `
    const { startShipperThread } = require('@maap-event-logger/shipper')
    startShipperThread({ url: 'http://127.0.0.1:1', batchInterval: 1 }).write('{"msg":"never delivered"}')
  `])
  t.equal(child.code, 0, child.stderr)
})

t.test('with flushOnExit the exit flush runs, bounded, and the process still exits by itself', async t => {
  const child = await runNode(['-e', `
    const { startShipperThread } = require('@maap-event-logger/shipper')
    startShipperThread({ url: 'http://127.0.0.1:1', closeTimeout: 200, retryBaseMs: 20, retryMaxMs: 50 }, { flushOnExit: true }).write('{"msg":"never delivered"}')
  `])
  t.equal(child.code, 0, child.stderr)
  t.match(child.stderr, /maap-shipper: dropped 1 records: close deadline/, 'settled at the exit: counted on stderr')
})

t.test('a close at loop end that rejects is told on stderr, not an unhandled rejection', async t => {
  const child = await runNode(['-e', `
    const { closeAtLoopEnd } = require('@maap-event-logger/shipper')
    const stats = () => ({ sent: 0, retried: 0, dropped: 0, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 })
    closeAtLoopEnd({ close: () => Promise.reject(new Error('close went wrong')), stats }, 'maap-test')
    closeAtLoopEnd({ close: () => { throw new Error('close threw') }, stats }, 'maap-test2')
  `])
  t.equal(child.code, 0)
  t.match(child.stderr, /maap-test: closing at exit failed: close went wrong/)
  t.match(child.stderr, /maap-test2: closing at exit failed: close threw/)
})
