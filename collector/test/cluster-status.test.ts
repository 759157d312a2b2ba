// The service's /status from its workers' (cluster/status.ts): what is summed, what is the worst, and
// how a worker that did not answer shows.
import t from 'tap'
import { join } from 'node:path'
import { serviceStatus, type LocalStatus } from '../src/cluster/status'

function worker (id: number, over: Partial<LocalStatus> = {}): LocalStatus {
  return {
    status: 'operational',
    mongodb_status: 'connected',
    buffer_size: id,
    time_since_last_flush: id * 1.5,
    version: '1.2.3',
    timestamp: `2026-01-01T00:00:0${id}.000Z`,
    accepted_total: 10 * id,
    rejected_total: id,
    flushed_total: 100 * id,
    duplicates_on_replay: id,
    dead_lettered: 0,
    dead_letter_file: null,
    journal: { dir: `/logs/worker-${id}`, segment: `seg-${id}`, segments: id, write_errors: 0, last_error: null, fsync: 'always' },
    retention: { lease: { held: false } },
    idempotency: { keys: id, window_seconds: 86400, replayed: 2 * id, evicted: 0, log_errors: 0 },
    alerts: { alerts: 3, enabled: 2, firing: id, outbox: { pending: id, failed: 0, notifications: 10 * id, bytes: 100 * id }, notifications: 10 * id, skipped_segments: id - 1, definitions_error: id === 2 ? 'MongoDB down' : null },
    queries: { concurrency: 2, queue: 8, running: id, queued: id - 1, answered: 10 * id, refused: id, timed_out: 2 * id, aborted: 3 * id },
    last_error: null,
    uptime_seconds: 60 + id,
    process: { pid: 1000 + id, worker_id: id },
    auth: { ingest: 'on' },
    tls: false,
    ...over
  }
}

t.test('totals are sums, the stalest flush and the oldest uptime; the six keys first', async t => {
  const w1 = worker(1)
  const w2 = worker(2, { retention: { lease: { held: true } }, dead_lettered: 2, dead_letter_file: '/logs/worker-2/maap-dead-letter.ndjson' })
  const s = serviceStatus([{ worker_id: 1, ok: true, value: w1 }, { worker_id: 2, ok: true, value: w2 }], w1, '/logs')
  t.same(Object.keys(s).slice(0, 6), ['status', 'mongodb_status', 'buffer_size', 'time_since_last_flush', 'version', 'timestamp'])
  t.match(s, {
    status: 'operational',
    mongodb_status: 'connected',
    buffer_size: 3,
    time_since_last_flush: 3,
    version: '1.2.3',
    timestamp: w1.timestamp,
    accepted_total: 30,
    rejected_total: 3,
    flushed_total: 300,
    duplicates_on_replay: 3,
    dead_lettered: 2,
    dead_letter_file: join('/logs', 'worker-*', 'maap-dead-letter.ndjson'),
    journal: { dir: '/logs', segments: 3, write_errors: 0, last_error: null, fsync: 'always' },
    retention: { lease: { held: true } },
    idempotency: { keys: 3, window_seconds: 86400, replayed: 6, evicted: 0, log_errors: 0 },
    // Definitions are shared (the answering worker's count); what each worker evaluates and delivers adds up.
    alerts: { alerts: 3, enabled: 2, firing: 3, outbox: { pending: 3, failed: 0, notifications: 30, bytes: 300 }, notifications: 30, skipped_segments: 1, definitions_error: 'MongoDB down' },
    // Admission is per worker: each worker's limits, the counts added up.
    queries: { concurrency: 2, queue: 8, running: 3, queued: 1, answered: 30, refused: 3, timed_out: 6, aborted: 9 },
    last_error: null,
    uptime_seconds: 62,
    process: { pid: 1001, worker_id: 1 },
    auth: { ingest: 'on' },
    tls: false,
    workers_answering: 2
  })
  t.same((s.workers as Array<{ worker_id: number, accepted_total: number }>).map(w => [w.worker_id, w.accepted_total]), [[1, 10], [2, 20]])
})

t.test('MongoDB is disconnected if any worker says so; errors name their worker; a silent worker is named', async t => {
  const w1 = worker(1, { mongodb_status: 'disconnected', last_error: 'no primary', journal: { ...worker(1).journal, last_error: 'EIO', write_errors: 2 } })
  const s = serviceStatus([{ worker_id: 1, ok: true, value: w1 }, { worker_id: 2, ok: false, error: 'no answer within 2000 ms' }], worker(2), '/logs')
  t.match(s, { mongodb_status: 'disconnected', last_error: 'worker 1: no primary', journal: { last_error: 'worker 1: EIO', write_errors: 2 }, workers_answering: 1, dead_letter_file: null })
  t.same((s.workers as unknown[])[1], { worker_id: 2, error: 'no answer within 2000 ms' })
  t.equal(s.accepted_total, 10, 'totals of the workers that answered')
})

t.test('not configured everywhere; no worker answered: the answering worker\'s own numbers', async t => {
  const own = worker(2, { mongodb_status: 'not_configured', retention: null })
  const s = serviceStatus([{ worker_id: 1, ok: false, error: 'x' }, { worker_id: 2, ok: false, error: 'y' }], own, '/logs')
  t.match(s, { mongodb_status: 'not_configured', accepted_total: 20, workers_answering: 0, retention: null })
})

t.test('idempotency off (IDEMPOTENCY_MAX_KEYS=0): null for the service too', async t => {
  const w1 = worker(1, { idempotency: null })
  t.equal(serviceStatus([{ worker_id: 1, ok: true, value: w1 }], w1, '/logs').idempotency, null)
})
