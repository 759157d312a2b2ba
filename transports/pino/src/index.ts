// pino transport: `pino({ transport: { target: '@maap-event-logger/pino-transport', options } })`.
// The default export is what pino loads; the same function is also the named export `maapTransport`,
// since an ESM `import x from` of this CommonJS package yields the whole exports object, not the default.
// Runs in pino's worker thread (thread-stream). Each line pino writes is mapped and handed to the
// shared Shipper; nothing here talks HTTP.
//
// Exit path (pino 10 / thread-stream 4): on process.exit() the main thread blocks in its 'exit'
// handler: flushSync() waits until this worker has read the whole shared buffer, then end() waits —
// at most 10 × 1 s Atomics.wait — until this stream is closed. So this worker gets ~10 s of its own
// event loop after the application is gone. close() below uses it: Shipper.close() delivers for up to
// `closeTimeout` (default 8 s, under that 10 s), then spools (with spoolDir) or drops and counts the rest.
// Reading from the shared buffer must never wait on the network, or flushSync itself would time out
// (what pino-mongodb 5 does): write() only maps and queues in memory.

import build from 'pino-abstract-transport'
import { Shipper, type ShipperOptions } from '@maap-event-logger/shipper'

export type PinoTransportOptions = Omit<ShipperOptions, 'onError'>

type FlushableStream = ReturnType<typeof build> & { flush?: (cb: (err?: Error) => void) => void }

export default async function maapTransport (options: PinoTransportOptions = {}): Promise<FlushableStream> {
  const shipper = new Shipper(options)
  // Nothing is pushed (see parseLine), but the readable side must flow, or the stream never ends and
  // pino's exit would wait for a 'close' that never comes.
  const stream: FlushableStream = await build(source => { source.resume() }, {
    // Each line is handed to the shared Shipper (which maps it: pino's own lines without parsing, other
    // text parsed, or shipped as a message when it is not JSON) right where split2 cuts it.
    // pino-abstract-transport would JSON.parse every line for metadata we do not use, then push it
    // through an object-mode stream to a 'data' listener: a third of this thread's time per record.
    // Returning null tells it there is nothing to pass on (it emits 'unknown', which nobody hears).
    parse: 'lines',
    parseLine: (line: string) => {
      shipper.write(line)
      return null
    },
    metadata: false,
    close: async () => { await shipper.close() } // idempotent in the Shipper
  })
  // thread-stream hands over text it has already decoded; by default the Writable side of split2 would
  // encode it back into a Buffer for split2's StringDecoder to decode again (a fifth of this thread's
  // time). The decoder passes strings through, so strings can stay strings. pino-abstract-transport
  // offers no way to pass Transform options, so the setting goes on the state Node reads it from;
  // test/internals.test.ts fails if Node, thread-stream or pino-abstract-transport stop honouring it.
  ;(stream as unknown as { _writableState: { decodeStrings: boolean } })._writableState.decodeStrings = false
  // logger.flush(cb) (thread-stream FLUSH message) completes only after delivery — or after
  // `closeTimeout`, so a dead collector cannot hang the application's callback forever. thread-stream's
  // worker calls its destination's flush(cb) when there is one; pinned by test/internals.test.ts.
  stream.flush = (cb) => {
    // Lines already written to the stream may still be on their way through split2: let them land.
    setImmediate(() => {
      shipper.flush(shipper.closeTimeout).then(() => cb(), cb)
    })
  }
  return stream
}

export { maapTransport }
export { maapDestination, type MaapDestination, type MaapDestinationOptions, type FlushCallback } from './destination'
export type { FlushResult, NotDelivered } from '@maap-event-logger/shipper'
