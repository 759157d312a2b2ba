// The application thread only serialises records: the HTTP client (undici) belongs to the worker.
// Each check loads a module in a fresh worker thread — a module registry of its own, nothing loaded
// yet — and lists what came with it.
import t from 'tap'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'

async function loadedWith (code: string): Promise<string[]> {
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads')
    ${code}
    parentPort.postMessage(Object.keys(require.cache))
  `, { eval: true })
  const [loaded] = await once(worker, 'message') as [string[]]
  await worker.terminate()
  return loaded
}

const undici = (files: string[]): string[] => files.filter(f => /[\\/]node_modules[\\/]undici[\\/]/.test(f))

t.test('the winston transport, constructed and logging, does not load undici on its thread', async t => {
  const transport = require.resolve('@maap-event-logger/winston-transport')
  const loaded = await loadedWith(`
    const { MaapTransport } = require(${JSON.stringify(transport)})
    const tr = new MaapTransport({ url: 'http://127.0.0.1:1', closeTimeout: 1 })
    tr.log({ level: 'info', message: 'x' }, () => {})
  `)
  t.ok(loaded.some(f => f.includes('app-side')), 'the worker client was loaded')
  t.same(undici(loaded), [])
})

t.test("the shipper's app-thread entry does not load undici", async t => {
  const loaded = await loadedWith(`require(${JSON.stringify(require.resolve('@maap-event-logger/shipper/app-thread'))})`)
  t.ok(loaded.some(f => f.includes('app-side')))
  t.same(undici(loaded), [])
})

t.test('the check can fail: the core entry does load undici', async t => {
  const loaded = await loadedWith(`require(${JSON.stringify(require.resolve('@maap-event-logger/shipper'))})`)
  t.not(undici(loaded).length, 0)
})
