// MAX_EVENT_LOOP_DELAY (loop-delay.ts): stalls of the event loop shorter than the bound are no overload,
// wherever they fall against the once-a-second sample; stalls longer than it are answered 503
// MAAP_OVERLOADED with the delay measured. The stalls are this process's own (the app runs in it):
// synchronous work of a set length with a moment's run of the loop between, as a loaded collector sees them.
import t from 'tap'
import { LoopDelay } from '../src/loop-delay'
import { buildTestApp } from './helpers'

/** Keeps the event loop from running for `ms`: the stall under test, not a wait. */
function stall (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy: nothing else runs on this thread meanwhile
  }
}

/** Stalls `n` times, letting the loop run its due timers (the sample among them) between. */
async function stalls (n: number, ms: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    stall(ms)
    await new Promise(resolve => setTimeout(resolve, 1))
  }
}

const event = { method: 'POST' as const, url: '/log', payload: { message: 'm', app_name: 'a' } }

t.test('stalls of 1.1 s, each past a sample: far under MAX_EVENT_LOOP_DELAY, ingest is answered', async t => {
  // under-pressure, which measured this before, read each of these seconds as an infinite delay: the
  // first tick after its reset records nothing, and the loop ticked once between two stalls. (The bound is
  // far above the stalls so that a loaded machine's own pauses cannot pass it.)
  const { app } = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY: '5000' })
  t.equal((await app.inject(event)).statusCode, 201)
  await stalls(3, 1100)
  const res = await app.inject(event)
  t.equal(res.statusCode, 201, res.body)
})

t.test('stalls of 1.5 s under MAX_EVENT_LOOP_DELAY 1000: 503 MAAP_OVERLOADED with the delay measured, Retry-After', async t => {
  const { app } = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY: '1000' })
  t.equal((await app.inject(event)).statusCode, 201)
  await stalls(2, 1500)
  const res = await app.inject(event)
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  const body = res.json() as { code: string, message: string }
  t.equal(body.code, 'MAAP_OVERLOADED')
  const ms = Number(/event-loop delay (\d+) ms, over MAX_EVENT_LOOP_DELAY 1000/.exec(body.message)?.[1])
  t.ok(ms > 1000 && Number.isFinite(ms), `a finite delay past the bound: ${body.message}`)
})

t.test('a sample with no tick since the last one: the time since, not an infinite delay', async t => {
  const loop = new LoopDelay()
  t.teardown(() => loop.close())
  loop.sample()
  stall(300)
  loop.sample() // right after a reset and a stall: not one tick recorded
  t.ok(Number.isFinite(loop.delayMs) && loop.delayMs >= 290, `no tick for 300 ms reads as at least that: ${loop.delayMs} ms`)
})
