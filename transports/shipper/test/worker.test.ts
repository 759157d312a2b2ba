import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import * as threads from 'node:worker_threads'
import { hostShipper, startShipperWorker } from '@maap-event-logger/shipper'
import { startStub } from './fixtures/stub-collector'

async function runChild (script: string): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c })
  const [code] = await once(child, 'exit')
  return { code, stderr }
}

t.test('a shipper in a worker thread: write on this thread, flush and close resolve after delivery', async t => {
  const stub = await startStub(t, (req) => {
    const rejected = req.events.flatMap((e, index) => e.message === 'bad' ? [{ index, error: 'nope' }] : [])
    return { status: 200, body: { accepted: req.lines.length - rejected.length, rejected } }
  })
  const w = startShipperWorker({ url: stub.url, appName: 'wk' })
  const rejected: unknown[] = []
  const errors: unknown[] = []
  w.on('rejected', r => rejected.push(r))
  w.on('error', e => errors.push(e))
  for (let i = 0; i < 50; i++) t.equal(w.write(JSON.stringify({ level: 'info', message: `w${i}` })), true)
  w.write('{"msg":"bad"}')
  const flushed = await w.flush()
  t.equal(flushed.sent, 50)
  t.equal(flushed.rejected, 1)
  t.match(rejected, [{ records: 1 }])
  t.match(errors, [{ name: 'ShipperError', code: 'MAAP_SHIP_REJECTED', records: 1 }])
  w.write('after flush')
  const closed = await w.close()
  t.equal(closed.sent, 51)
  t.equal(await w.close(), closed, 'idempotent')
  t.equal(w.write('after close'), false, 'no records once closed')
  t.equal(stub.accepted.at(-1)!.message, 'after flush')
  t.equal(stub.accepted[0]!.app_name, 'wk')
})

t.test('a bad option throws on the calling thread, naming it', async t => {
  t.throws(() => startShipperWorker({ batchSize: -1 }), { name: 'ShipperError', code: 'MAAP_SHIP_INVALID_OPTION', message: /batchSize/ })
})

t.test('the host answers unknown messages with an error event', async t => {
  const { port1, port2 } = new threads.MessageChannel()
  const shipper = hostShipper(port2, { url: 'http://127.0.0.1:1' })
  t.teardown(() => { port1.close(); return shipper.close() })
  port1.postMessage({ code: 'NOPE' })
  const [reply] = await once(port1, 'message')
  t.match(reply, { code: 'EVENT', name: 'error', data: { code: 'MAAP_SHIP_PROTOCOL' } })
})

t.test('EXIT closes the hosted shipper and settles, without a reply', async t => {
  const { port1, port2 } = new threads.MessageChannel()
  t.teardown(() => port1.close())
  let settled!: () => void
  const done = new Promise<void>(resolve => { settled = resolve })
  const shipper = hostShipper(port2, { url: 'http://127.0.0.1:1', closeTimeout: 50 }, () => settled())
  shipper.on('error', () => {})
  port1.postMessage({ code: 'WRITE', lines: ['{"msg":"pending"}'] })
  port1.postMessage({ code: 'EXIT' })
  await done
  t.match(shipper.stats(), { sent: 0, dropped: 1, queued: 0 }, 'settled: the record is accounted for')
})

t.test('a worker that dies is reported, and waiters are released', async t => {
  const started: threads.Worker[] = []
  class Spied extends threads.Worker {
    constructor (...args: ConstructorParameters<typeof threads.Worker>) {
      super(...args)
      started.push(this)
    }
  }
  const { startShipperWorker: start } = t.mockRequire<typeof import('@maap-event-logger/shipper')>('@maap-event-logger/shipper', {
    'node:worker_threads': { ...threads, Worker: Spied }
  })
  const w = start({ url: 'http://127.0.0.1:1', closeTimeout: 60_000 })
  const failures: Error[] = []
  w.on('failed', e => failures.push(e))
  w.write('pending')
  const flushed = w.flush()
  t.equal(started.length, 1)
  await started[0]!.terminate()
  const stats = await flushed
  t.equal(stats.sent, 0)
  t.match(failures, [{ message: /shipper worker exited .* unanswered/ }])
  t.equal(w.write('later'), false, 'a dead worker takes no records')
})

t.test('a worker pointed at an unreachable collector does not keep the process alive', async t => {
  const child = await runChild(`
    const { startShipperWorker } = require('@maap-event-logger/shipper')
    startShipperWorker({ url: 'http://127.0.0.1:1', batchInterval: 1 }).write('{"msg":"never delivered"}')
  `)
  t.equal(child.code, 0, child.stderr)
})

t.test('with flushOnExit the exit flush runs, bounded, and the process still exits by itself', async t => {
  const child = await runChild(`
    const { startShipperWorker } = require('@maap-event-logger/shipper')
    startShipperWorker({ url: 'http://127.0.0.1:1', closeTimeout: 200, retryBaseMs: 20, retryMaxMs: 50 }, { flushOnExit: true }).write('{"msg":"never delivered"}')
  `)
  t.equal(child.code, 0, child.stderr)
  t.match(child.stderr, /maap-shipper: dropped 1 records: close deadline/, 'settled at the exit: counted on stderr')
})
