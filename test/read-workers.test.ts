// WORKER_COUNT=2: each worker journals on its own, yet a search or a tail through whichever worker takes
// the connection sees every worker's events — embedded, and with MongoDB (confirmed ∪ each worker's
// unconfirmed journal).
import t from 'tap'
import { request } from 'node:http'
import { startCollector, type RunningCollector, connectTestClient, testMongoUri, uniqueDbName, freshRequest } from './support'

async function postEach (c: RunningCollector, from: number, to: number): Promise<void> {
  for (let seq = from; seq < to; seq++) {
    const res = await freshRequest(c, 'POST', '/log', { body: JSON.stringify({ message: `m ${seq}`, app_name: 'w', seq }), headers: { 'content-type': 'application/json' } })
    if (res.status !== 201) throw new Error(res.text)
  }
}

async function searchSeqs (c: RunningCollector): Promise<number[]> {
  const res = await freshRequest(c, 'GET', '/logs?limit=1000')
  return (JSON.parse(res.text).events as Array<{ seq: number }>).map(e => e.seq).sort((a, b) => a - b)
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

/** Opens a tail on a new connection and collects the seqs it receives. */
function tail (c: RunningCollector): { seqs: number[], ready: Promise<void>, until: (n: number) => Promise<void>, close: () => void } {
  const seqs: number[] = []
  let wake: (() => void) | undefined
  let readyResolve!: () => void
  const ready = new Promise<void>(resolve => { readyResolve = resolve })
  let buffer = ''
  const req = request(`${c.url}/logs/tail`, { agent: false }, res => {
    res.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (block.includes('event: ready')) readyResolve()
        const data = block.split('\n').find(l => l.startsWith('data: '))
        if (data !== undefined && !block.includes('event: ')) seqs.push(JSON.parse(data.slice(6)).seq)
      }
      wake?.()
    })
  })
  req.end()
  return {
    seqs,
    ready,
    until: async n => { while (seqs.length < n) await new Promise<void>(resolve => { wake = resolve }) },
    close: () => req.destroy()
  }
}

t.test('WORKER_COUNT=2, embedded: search and tail through any worker see both workers\' events', async t => {
  const c = await startCollector(t, { env: { WORKER_COUNT: '2' } })
  await c.waitForLog({ msg: /^all workers listening at/ })
  await postEach(c, 0, 20)
  for (let i = 0; i < 4; i++) t.same(await searchSeqs(c), range(0, 20), `search ${i + 1} (the workers take turns)`)
  const tails = [tail(c), tail(c)]
  t.teardown(() => tails.forEach(x => x.close()))
  await Promise.all(tails.map(x => x.ready))
  await postEach(c, 20, 40)
  for (const x of tails) {
    await x.until(20)
    t.same([...x.seqs].sort((a, b) => a - b), range(20, 40), 'a tail on one worker sees what the other acknowledged too')
  }
  t.equal(await c.stop('SIGTERM'), 0)
})

t.test('WORKER_COUNT=2 with MongoDB: confirmed and unconfirmed events of both workers, each once', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('readworkers')
  t.teardown(() => client.db(dbName).dropDatabase())
  const c = await startCollector(t, {
    env: { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, WORKER_COUNT: '2', FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', RETENTION_SWEEP_INTERVAL: '3600' }
  })
  await c.waitForLog({ msg: /^all workers listening at/ })
  await postEach(c, 0, 20)
  // Flush whichever workers the next two connections reach (at least one of them), then more events.
  await freshRequest(c, 'POST', '/force-flush')
  await freshRequest(c, 'POST', '/force-flush')
  t.ok(await client.db(dbName).collection('logs').countDocuments() > 0, 'some events are in MongoDB')
  await postEach(c, 20, 30)
  for (let i = 0; i < 4; i++) t.same(await searchSeqs(c), range(0, 30), `search ${i + 1}`)
  t.equal(await c.stop('SIGTERM'), 0)
})
