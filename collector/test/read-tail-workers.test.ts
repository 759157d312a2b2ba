// A tail of a WORKER_COUNT worker picks up a sibling's journal that did not exist when the tail opened:
// right after start-up the other workers may not have made their directories yet, and a tail opened then
// used to follow its own worker's journal alone, for good. A tail reading on inside a sibling's segment
// does not list the sibling's journal again: only at the end of the newest segment it knows.
import t from 'tap'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { poll } from '../../test/support'
import { normaliseEvent } from '../src/normalise/normalise'
import { parseReadQuery } from '../src/read/query'
import { JournalSet } from '../src/read/sources'
import { TAIL_CHUNK_BYTES, TailHub, type TailSink } from '../src/read/tail'
import { encodePosition } from '../src/read/tail-position'

const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
const SEGMENT = 'maap-20261206T100000Z-000001.ndjson'

function lines (app: string, messages: string[]): string {
  return messages.map(message => {
    const r = normaliseEvent({ app_name: app, message }, { limits, receivedAt: new Date().toISOString() })
    if (!r.ok) throw new Error(r.error)
    return r.line + '\n'
  }).join('')
}


/**
 * Worker 1 of a WORKER_COUNT collector whose journal holds one event (`first`), and no other worker's
 * directory yet; `tail()` opens a tail through its hub and returns what it receives as it arrives.
 */
function workers (t: Tap.Test, first: string, siblingPollMs = 20) {
  const base = mkdtempSync(join(tmpdir(), 'maap-tail-workers-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const ownDir = join(base, 'worker-1')
  mkdirSync(ownDir)
  const ownFile = join(ownDir, SEGMENT)
  writeFileSync(ownFile, lines('one', [first]))
  const own = {
    dir: ownDir,
    segments: () => [SEGMENT],
    end: () => ({ segment: SEGMENT, offset: statSync(ownFile).size }),
    confirmed: () => undefined
  }
  const hub = new TailHub(new JournalSet(own, 1, false), { maxClients: 5, heartbeatMs: 60_000, siblingPollMs })
  t.teardown(() => hub.close())
  const tail = async (lastEventId?: string): Promise<{ text: string }> => {
    const received = { text: '' }
    let closeSink!: () => void
    const sink: TailSink = {
      write: data => { received.text += data.toString(); return true },
      drained: async () => {},
      closed: new Promise(resolve => { closeSink = resolve }),
      buffered: () => 0,
      end: () => {}
    }
    t.teardown(() => closeSink())
    await hub.open(parseReadQuery({}), lastEventId, sink)
    await poll(() => received.text.includes('event: ready'))
    return received
  }
  return { base, own, ownFile, hub, tail }
}

/** Counts the directory listings of `dir` (every journal listing is a readdir) until the test ends. */
function listingsOf (t: Tap.Test, dir: string): () => number {
  const fsp = require('node:fs/promises') as typeof import('node:fs/promises')
  const readdir = fsp.readdir
  let listings = 0
  ;(fsp as { readdir: unknown }).readdir = async (...args: Parameters<typeof readdir>) => {
    if (String(args[0]) === dir) listings++
    return await readdir(...args)
  }
  t.teardown(() => { (fsp as { readdir: unknown }).readdir = readdir })
  return () => listings
}

t.test('a sibling journal that appears after the tail opened is tailed from its start', async t => {
  const w = workers(t, 'before the tail')
  const received = await w.tail()
  t.equal((await new JournalSet(w.own, 1, false).sources()).length, 1, 'no sibling yet when the tail opened')

  // Worker 2 comes up: its directory and its first events appear after the tail opened.
  mkdirSync(join(w.base, 'worker-2'))
  writeFileSync(join(w.base, 'worker-2', SEGMENT), lines('two', ['first of worker 2', 'second of worker 2']))
  appendFileSync(w.ownFile, lines('one', ['after the tail']))
  w.hub.notify()
  await poll(() => received.text.includes('second of worker 2') && received.text.includes('after the tail'))
  t.notMatch(received.text, /before the tail/, 'the tail starts at the end of what was there')
  t.equal(received.text.match(/first of worker 2/g)?.length, 1, "the sibling's events once each")
  t.match(received.text, /id: [^\n]*2~/, 'ids carry the sibling journal from then on')
})

t.test('a tail resumed with an id that places a sibling not listed yet goes on from there, not from its start', async t => {
  const w = workers(t, 'seen before')
  // The id a client got from another worker, which had read worker 2's first event already.
  const seenOfTwo = lines('two', ['seen of worker 2'])
  const id = encodePosition(new Map([['1', { segment: SEGMENT, offset: statSync(w.ownFile).size }], ['2', { segment: SEGMENT, offset: Buffer.byteLength(seenOfTwo) }]]))
  const received = await w.tail(id)
  t.match(received.text, /id: 1~[^\n]*_2~/, "the ready id keeps worker 2's place though it is not listed yet")

  mkdirSync(join(w.base, 'worker-2'))
  writeFileSync(join(w.base, 'worker-2', SEGMENT), seenOfTwo + lines('two', ['new of worker 2']))
  w.hub.notify()
  await poll(() => received.text.includes('new of worker 2'))
  t.notMatch(received.text, /seen of worker 2/, 'what the id had read is not sent again')
  t.notMatch(received.text, /seen before/)
})

t.test("a tail lists a sibling's journal only at the end of the newest segment it knows, and finds a newer one then", async t => {
  // Only hub.notify() wakes the tails here: the listings counted are the reads' own.
  const w = workers(t, 'before', 3_600_000)
  const sibling = join(w.base, 'worker-2')
  mkdirSync(sibling)
  writeFileSync(join(sibling, SEGMENT), lines('two', ['first of worker 2']))
  const received = await w.tail()
  const listings = listingsOf(t, sibling)

  const many = Array.from({ length: 6000 }, (_, i) => `event ${i} of worker 2 ${'x'.repeat(160)}`)
  const bulk = lines('two', many)
  const chunks = Math.ceil(bulk.length / TAIL_CHUNK_BYTES)
  t.ok(chunks > 4, `${bulk.length} bytes: ${chunks} chunks`)
  appendFileSync(join(sibling, SEGMENT), bulk)
  w.hub.notify()
  await poll(() => received.text.includes('event 5999 of worker 2'))
  t.ok(listings() <= 1, `${listings()} listing(s) of the sibling's journal while reading ${chunks} chunks of its segment`)

  const NEWER = 'maap-20261206T110000Z-000002.ndjson'
  writeFileSync(join(sibling, NEWER), lines('two', ['in the newer segment']))
  // A listing up to 20 ms old answers a tail at the end of the newest segment: woken until it is older.
  await poll(() => { w.hub.notify(); return received.text.includes('in the newer segment') })
  t.equal(received.text.match(/event 17 of worker 2 /g)?.length, 1, 'each event once')
  t.notMatch(received.text, /first of worker 2/, 'nothing from before the tail opened')
})

t.test("tails woken again and again at the end of a sibling's newest segment list it at most once per 20 ms", async t => {
  const w = workers(t, 'before', 3_600_000)
  const sibling = join(w.base, 'worker-2')
  mkdirSync(sibling)
  writeFileSync(join(sibling, SEGMENT), lines('two', ['first of worker 2']))
  const tails = [await w.tail(), await w.tail(), await w.tail()]
  const listings = listingsOf(t, sibling)
  const started = Date.now()
  let wakeUps = 0
  // Each round: a commit of the tails' own journal wakes them (coalesced: at most one wake-up per 5 ms).
  for (let i = 0; i < 40; i++, wakeUps++) {
    appendFileSync(w.ownFile, lines('one', [`own ${i}`]))
    w.hub.notify()
    await poll(() => tails.every(r => r.text.includes(`"own ${i}"`)))
  }
  const elapsed = Date.now() - started
  t.ok(listings() <= 1 + elapsed / 20, `${listings()} listings of the sibling in ${elapsed} ms, ${wakeUps} wake-ups of 3 tails`)
  t.ok(tails.every(r => !r.text.includes('first of worker 2')), 'nothing from before the tails opened')
})
