// WORKER_COUNT=2 as real processes: /status, /metrics and POST /force-flush answer for the whole service
// whichever worker takes the connection (they ask each other through the primary), and a worker that
// cannot answer is named rather than silently left out.
import t from 'tap'
import { startCollector, type RunningCollector, connectTestClient, testMongoUri, uniqueDbName, freshRequest, type FreshAnswer } from '../support'

const adminKey = 'admin-key-0123456789'
const admin = { authorization: `Bearer ${adminKey}` }

function metric (text: string, line: RegExp): number {
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text)
  if (m === null) throw new Error(`no ${line.source} in:\n${text}`)
  return Number(m[1])
}

function workerPids (c: RunningCollector): Promise<number[]> {
  return Promise.all([1, 2].map(async id =>
    (await c.waitForLog({ worker_id: id, msg: 'worker started' })).entry.worker_pid as number))
}

t.test('WORKER_COUNT=2: /status and /metrics total every worker, POST /force-flush flushes every worker', async t => {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName('workerops')
  t.teardown(() => client.db(dbName).dropDatabase())
  const coll = client.db(dbName).collection('logs')
  const c = await startCollector(t, {
    env: {
      MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, WORKER_COUNT: '2', ADMIN_API_KEY: adminKey,
      FLUSH_INTERVAL: '3600', LOG_BUFFER_SIZE: '100000', RETENTION_SWEEP_INTERVAL: '3600'
    }
  })
  await c.waitForLog({ msg: /^all workers listening at/ })
  const pids = await workerPids(c)
  const events = 20
  for (let i = 0; i < events; i++) {
    const res = await freshRequest(c, 'POST', '/log', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `m${i}`, app_name: 'w' }) })
    t.equal(res.status, 201)
  }

  // Both workers answer /status, and each answers for the service.
  const answeredBy = new Set<number>()
  for (let i = 0; i < 10 && answeredBy.size < 2; i++) {
    const status = (await freshRequest(c, 'GET', '/status', { headers: admin })).json()
    answeredBy.add(status.process.worker_id)
    t.same(Object.keys(status).slice(0, 6), ['status', 'mongodb_status', 'buffer_size', 'time_since_last_flush', 'version', 'timestamp'])
    t.match(status, { accepted_total: events, buffer_size: events, flushed_total: 0, workers_answering: 2 }, `answered by worker ${status.process.worker_id}`)
    const workers = status.workers as Array<{ worker_id: number, accepted_total: number, process: { pid: number } }>
    t.same(workers.map(w => w.worker_id), [1, 2])
    t.same(workers.map(w => w.process.pid), pids, 'each worker\'s own part')
    t.ok(workers.every(w => w.accepted_total > 0), `both workers took events (${workers.map(w => w.accepted_total).join(' + ')})`)
    t.equal(workers[0]!.accepted_total + workers[1]!.accepted_total, events)
  }
  t.same([...answeredBy].sort(), [1, 2])

  // Bodies that do not parse, on fresh connections (so both workers take some): counted service-wide.
  const malformed = 4
  for (let i = 0; i < malformed; i++) {
    const res = await freshRequest(c, 'POST', '/log', { headers: { 'content-type': 'application/json' }, body: '{"message":' })
    t.equal(res.status, 400)
    t.equal(res.json().code, 'MAAP_INVALID_JSON')
  }
  t.match((await freshRequest(c, 'GET', '/status', { headers: admin })).json(), { rejected_total: malformed, accepted_total: events })

  t.equal((await freshRequest(c, 'GET', '/metrics')).status, 401, 'the admin key guards /metrics')
  for (let i = 0; i < 2; i++) {
    const text = (await freshRequest(c, 'GET', '/metrics', { headers: admin })).text
    t.equal(metric(text, /maap_events_accepted_total\{route="\/log"\}/), events, 'one scrape reports the whole service')
    t.equal(metric(text, /maap_events_received_total\{route="\/log"\}/), events + malformed)
    t.equal(metric(text, /maap_events_rejected_total\{route="\/log",reason="invalid_json"\}/), malformed)
    t.equal(metric(text, /maap_mongodb_backlog_events/), events)
    t.equal(metric(text, /maap_cluster_workers_reporting/), 2)
    t.equal(metric(text, /maap_http_request_duration_seconds_count\{route="\/log",method="POST",status_code="201"\}/), events, 'histograms summed too')
    t.equal(metric(text, /maap_journal_commit_duration_seconds_bucket\{le="\+Inf"\}/), events)
    t.ok(metric(text, /process_resident_memory_bytes/) > 0, 'default metrics, summed over the workers')
  }

  const flush = await freshRequest(c, 'POST', '/force-flush', { headers: { ...admin, 'content-type': 'application/json' } })
  t.equal(flush.status, 200, flush.text)
  const body = flush.json()
  t.equal(body.status, 'success')
  t.equal(body.message, `Flushed ${events} logs to MongoDB`, 'the total of every worker')
  t.same(body.workers.map((w: { worker_id: number }) => w.worker_id), [1, 2])
  t.ok(body.workers.every((w: { flushed: number }) => w.flushed > 0), 'each worker flushed its own')
  t.equal(await coll.countDocuments(), events, 'everything is in MongoDB, whichever worker took the flush')

  const after = (await freshRequest(c, 'GET', '/status', { headers: admin })).json()
  t.match(after, { buffer_size: 0, flushed_total: events, mongodb_status: 'connected' })
  const text = (await freshRequest(c, 'GET', '/metrics', { headers: admin })).text
  t.equal(metric(text, /maap_events_flushed_total/), events)
  t.equal(metric(text, /maap_mongodb_up/), 1)
  t.equal(await c.stop('SIGTERM'), 0)
})

t.test('WORKER_COUNT=2: a worker that does not answer is named in /status and missing from /metrics, not waited for', async t => {
  const c = await startCollector(t, { env: { WORKER_COUNT: '2' } })
  await c.waitForLog({ msg: /^all workers listening at/ })
  const [, pid2] = await workerPids(c)
  process.kill(pid2!, 'SIGSTOP') // frozen: it neither answers the primary nor its own connections
  t.teardown(() => { try { process.kill(pid2!, 'SIGCONT') } catch {} })
  // Connections dealt to the frozen worker hang: only worker 1's answers come back. Two at once, so that
  // one dealt to the frozen worker is not waited out (5 s) before the next is tried.
  const fromWorker1 = async (path: string): Promise<{ status: number, text: string, json: () => any }> => {
    for (;;) {
      const ask = async (): Promise<FreshAnswer> => await freshRequest(c, 'GET', path, { timeoutMs: 5000 })
      const res = await Promise.any([ask(), ask()]).catch(() => undefined)
      if (res !== undefined) return res
    }
  }
  const status = (await fromWorker1('/status')).json()
  t.equal(status.process.worker_id, 1)
  t.equal(status.workers_answering, 1)
  t.same(status.workers[1], { worker_id: 2, error: 'no answer within 2000 ms' })
  const text = (await fromWorker1('/metrics')).text
  t.equal(metric(text, /maap_cluster_workers_reporting/), 1, 'the scrape says one worker is missing')
  process.kill(pid2!, 'SIGCONT')
  t.equal(await c.stop('SIGTERM'), 0)
})
