// What the cluster primary puts in its workers' environment (cluster/worker-env.ts): their journal
// directory and id, and the glibc malloc settings that keep large buffers' memory from staying with a
// worker after they are freed (issue #24) — unless the operator set those already.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { startCollector } from '../../test/support'
import { WORKER_MALLOC_ENV, workerEnv } from '../src/cluster/worker-env'

t.test('a worker gets its directory, its id and the malloc settings the environment does not set', async t => {
  t.same(workerEnv('/logs/worker-2', 2, {}), { LOG_DIR: '/logs/worker-2', MAAP_WORKER_ID: '2', ...WORKER_MALLOC_ENV })
  t.same(WORKER_MALLOC_ENV, { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' })
  t.same(workerEnv('/logs/worker-1', 1, { MALLOC_ARENA_MAX: '8', MALLOC_MMAP_THRESHOLD_: '' }), { LOG_DIR: '/logs/worker-1', MAAP_WORKER_ID: '1' },
    "the operator's values (an empty one too) are not overridden: cluster.fork passes them on as they are")
})

/** A running process's environment (Linux). */
function environOf (pid: number): Map<string, string> {
  return new Map(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
}

t.test('WORKER_COUNT=2: each worker process runs with them, the primary keeps its own', async t => {
  const c = await startCollector(t, { env: { WORKER_COUNT: '2', MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: undefined } })
  t.teardown(() => c.stop())
  for (const id of [1, 2]) {
    const pid = (await c.waitForLog({ worker_id: id, msg: 'worker started' })).entry.worker_pid as number
    const env = environOf(pid)
    t.equal(env.get('MAAP_WORKER_ID'), String(id))
    t.equal(env.get('MALLOC_MMAP_THRESHOLD_'), '131072', `worker ${id}: the threshold held fixed`)
    t.equal(env.get('MALLOC_ARENA_MAX'), '4', `worker ${id}: the operator's arena count`)
  }
  t.equal(environOf(c.child.pid!).get('MALLOC_MMAP_THRESHOLD_'), undefined, 'the primary is started as it was')
})
