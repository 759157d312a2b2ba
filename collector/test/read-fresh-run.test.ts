// FreshRun (read/fresh-run.ts): callers that ask while a run is under way share the next one, and no caller
// ever gets a run that started before it asked — what a sibling's directory listing must guarantee for a
// search to see what the sibling acknowledged before it began.
import t from 'tap'
import { FreshRun } from '../src/read/fresh-run'

/** A run the test finishes by hand: each call starts one, numbered, and records when it started. */
function manualRuns (): { run: () => Promise<number>, started: number[], finish: (value?: number | Error) => void } {
  const started: number[] = []
  const pending: Array<{ resolve: (n: number) => void, reject: (err: Error) => void }> = []
  let clock = 0
  return {
    started,
    run: async () => await new Promise<number>((resolve, reject) => {
      started.push(++clock)
      pending.push({ resolve, reject })
    }),
    finish: (value?: number | Error) => {
      const p = pending.shift()!
      if (value instanceof Error) p.reject(value)
      else p.resolve(value ?? started.length)
    }
  }
}

const tick = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

t.test('callers during a run share the next one; none gets a run older than its ask', async t => {
  const m = manualRuns()
  const shared = new FreshRun(m.run)
  const a = shared.get()
  await tick()
  t.same(m.started, [1], 'the first caller starts a run')
  const b = shared.get()
  const c = shared.get()
  await tick()
  t.same(m.started, [1], 'callers during it wait: they asked after it started')
  m.finish(10)
  t.equal(await a, 10)
  await tick()
  t.same(m.started, [1, 2], 'one more run, for both')
  const d = shared.get()
  await tick()
  m.finish(20)
  t.equal(await b, 20)
  t.equal(await c, 20, 'b and c share it')
  await tick()
  t.same(m.started, [1, 2, 3], 'd asked during run 2: it gets run 3')
  m.finish(30)
  t.equal(await d, 30)
  const e = shared.get()
  await tick()
  t.same(m.started, [1, 2, 3, 4], 'with none under way, a caller starts one at once')
  m.finish(40)
  t.equal(await e, 40)
})

t.test('a failed run fails its callers only; the next run goes ahead', async t => {
  const m = manualRuns()
  const shared = new FreshRun(m.run)
  const a = shared.get()
  await tick()
  const b = shared.get()
  m.finish(new Error('EACCES'))
  await t.rejects(a, /EACCES/)
  await tick()
  m.finish(7)
  t.equal(await b, 7, 'the caller that waited gets a run of its own')
  t.same(m.started, [1, 2])
})
