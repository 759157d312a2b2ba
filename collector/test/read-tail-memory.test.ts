// What a tail keeps in memory as it runs (read/tail.ts, read/tail-frames.ts; issue #24, bench:read-load):
// waits leave nothing behind however many there are, tails that keep up share each chunk and keep none of
// it, read buffers go back to the hub's pool (a line longer than a chunk included), and frames written as
// bytes are the ones the strings made.
import t from 'tap'
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v8 from 'node:v8'
import { poll } from '../../test/support'
import { normaliseEvent } from '../src/normalise/normalise'
import { LineMatcher } from '../src/read/line-matcher'
import { parseReadQuery } from '../src/read/query'
import { JournalSet } from '../src/read/sources'
import { TAIL_CHUNK_BYTES, TailHub, type TailSink } from '../src/read/tail'
import { FrameWriter, SCRATCH_BYTES, SCRATCH_KEPT_BYTES } from '../src/read/tail-frames'

const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
const SEGMENT = 'maap-20261206T100000Z-000001.ndjson'

function lines (events: Array<Record<string, unknown>>): string {
  return events.map(e => {
    const r = normaliseEvent(e, { limits, receivedAt: new Date().toISOString() })
    if (!r.ok) throw new Error(r.error)
    return r.line + '\n'
  }).join('')
}

/** A journal of one segment and a hub over it; `steps` counts the tails' looks at it (each wake-up is one). */
function journal (t: Tap.Test) {
  const dir = mkdtempSync(join(tmpdir(), 'maap-tail-memory-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, SEGMENT)
  writeFileSync(file, '')
  const looked = { steps: 0 }
  const own = {
    dir,
    segments: () => {
      looked.steps++
      return [SEGMENT]
    },
    end: () => ({ segment: SEGMENT, offset: statSync(file).size }),
    confirmed: () => undefined
  }
  const hub = new TailHub(new JournalSet(own, 1, false), { maxClients: 5, heartbeatMs: 60_000, siblingPollMs: 20 })
  t.teardown(() => hub.close())
  const tail = async (query: Record<string, string> = {}): Promise<{ text: string }> => {
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
    await hub.open(parseReadQuery(query), undefined, sink)
    await poll(() => received.text.includes('event: ready'))
    return received
  }
  /** Wakes the tails and resolves once one of them looked at the journal again. */
  const wake = async (): Promise<void> => {
    const before = looked.steps
    hub.notify()
    await poll(() => looked.steps > before, 1)
  }
  return { file, hub, tail, wake }
}

t.test('a tail waiting for events many times holds no more memory for it', async t => {
  const j = journal(t)
  await j.tail()
  const promises = (): number => v8.queryObjects(Promise, { format: 'count' }) as number
  const WAKES = 200
  await j.wake()
  const before = promises()
  for (let i = 0; i < WAKES; i++) await j.wake()
  const grown = promises() - before
  // Each wait used to leave a reaction (and its promises) on a promise that lives as long as the client.
  t.ok(grown < WAKES / 10, `${WAKES} waits with nothing new left ${grown} promises behind`)
})

t.test('tails of one filter that keep up share each chunk, and the hub keeps none of it', async t => {
  const j = journal(t)
  const encoded = { chunks: 0 }
  const frames = j.hub.frameWriter.frames.bind(j.hub.frameWriter)
  j.hub.frameWriter.frames = (...args) => {
    encoded.chunks++
    return frames(...args)
  }
  const same = [await j.tail({ app_name: 'api' }), await j.tail({ app_name: 'api' }), await j.tail({ app_name: 'api' })]
  const other = await j.tail({ level: 'ERROR' })
  for (let i = 0; i < 5; i++) {
    appendFileSync(j.file, lines([{ app_name: 'api', level: 'ERROR', message: `batch ${i}` }]))
    encoded.chunks = 0
    j.hub.notify()
    await poll(() => [...same, other].every(r => r.text.includes(`batch ${i}`)))
    t.equal(encoded.chunks, 2, `batch ${i}: read and encoded once for the three api tails, once for the other`)
    t.equal(j.hub.cachedBytes, 0, `batch ${i}: every tail took its chunk, so none is kept`)
  }
})

t.test('read buffers go back to the pool, also after a line longer than a chunk', async t => {
  const j = journal(t)
  const received = await j.tail()
  const long = 'x'.repeat(TAIL_CHUNK_BYTES + 1000)
  appendFileSync(j.file, lines([{ app_name: 'api', message: 'short one' }, { app_name: 'api', message: long }, { app_name: 'api', message: 'after the long one' }]))
  j.hub.notify()
  await poll(() => received.text.includes('after the long one'))
  t.ok(received.text.includes(long), 'the long line is sent whole')
  t.equal(j.hub.readBuffers.lent, 0, 'every read buffer was given back')
  t.equal(j.hub.readBuffers.created, 1, 'one pooled buffer served every read')
  for (let i = 0; i < 5; i++) {
    appendFileSync(j.file, lines([{ app_name: 'api', message: `more ${i}` }]))
    await j.wake()
  }
  await poll(() => received.text.includes('more 4'))
  t.equal(j.hub.readBuffers.created, 1, 'reads reuse it')
  t.equal(j.hub.readBuffers.lent, 0)
})

/** The frames as read/tail.ts made them before tail-frames.ts: strings, encoded at the end. */
function framesAsStrings (matcher: LineMatcher, chunk: Buffer, length: number, base: number, idHead: string, after: string): string {
  let frames = ''
  matcher.scan(chunk, length, 0, (start, lineEnd) => {
    frames += `${idHead}${base + lineEnd + 1}${after}\ndata: ${chunk.toString('utf8', start, lineEnd)}\n\n`
  })
  return frames
}

t.test('frames written as bytes are the ones the strings made', async t => {
  const text = lines([
    { app_name: 'api', message: 'plain ascii', level: 'INFO' },
    { app_name: 'api', message: 'accents déjà vu, 日本語, an emoji 🎉 and a lone surrogate \ud800', level: 'ERROR' },
    { app_name: 'web', message: 'another app' },
    { app_name: 'api', message: 'a quote " and a backslash \\ and a tab \t' }
  ])
  const chunk = Buffer.from(text)
  const writer = new FrameWriter()
  for (const query of [{}, { app_name: 'api' }, { q: 'DÉJÀ' }, { level: 'ERROR' }, { q: 'nothing like it' }]) {
    const matcher = new LineMatcher(parseReadQuery(query), undefined, false)
    for (const [base, idHead, after] of [[0, 'id: 20261206T100000Z-000001.', ''], [123_456_789_012, 'id: 1~0.5_2~20261206T100000Z-000001.', '_3~7.9']] as const) {
      const { frames, events } = writer.frames(matcher, chunk, chunk.length, base, idHead, after)
      const expected = framesAsStrings(matcher, chunk, chunk.length, base, idHead, after)
      t.same(frames, Buffer.from(expected), `${JSON.stringify(query)}, base ${base}`)
      t.equal(events, expected.split('\ndata: ').length - 1)
    }
  }
})

t.test('the scratch grows for a chunk of long lines and is not kept that large', async t => {
  const writer = new FrameWriter()
  const matcher = new LineMatcher(parseReadQuery({}), undefined, false)
  const one = Buffer.from(lines([{ app_name: 'api', message: 'y'.repeat(SCRATCH_KEPT_BYTES) }]))
  const big = writer.frames(matcher, one, one.length, 0, 'id: 1.', '')
  t.same(big.frames, Buffer.from(framesAsStrings(matcher, one, one.length, 0, 'id: 1.', '')))
  t.equal(writer.capacity, SCRATCH_BYTES, 'back to its usual size')
  const many = Buffer.from(lines(Array.from({ length: 3000 }, (_, i) => ({ app_name: 'api', message: `event ${i} ${'z'.repeat(200)}` }))))
  t.ok(many.length > SCRATCH_BYTES)
  const grown = writer.frames(matcher, many, many.length, 0, 'id: 1.', '')
  t.same(grown.frames, Buffer.from(framesAsStrings(matcher, many, many.length, 0, 'id: 1.', '')))
  t.equal(grown.events, 3000)
  t.ok(writer.capacity > SCRATCH_BYTES && writer.capacity <= SCRATCH_KEPT_BYTES, 'grown within the bound: kept for the next chunk')
})
