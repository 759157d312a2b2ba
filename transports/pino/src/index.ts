// pino transport: `pino({ transport: { target: '@maap-event-logger/pino-transport', options } })`.
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

const NOT_PARSED = Object.freeze({})
const skipParse = (): object => NOT_PARSED

type FlushableStream = ReturnType<typeof build> & { flush?: (cb: (err?: Error) => void) => void }

export default async function maapTransport (options: PinoTransportOptions = {}): Promise<FlushableStream> {
  const shipper = new Shipper(options)
  const stream: FlushableStream = await build(source => {
    source.on('data', (line: string) => { shipper.write(line) })
  }, {
    // Raw lines: the shared mapper parses them (or, for pino's own lines, maps them without parsing),
    // and a line that is not JSON is still shipped. pino-abstract-transport would JSON.parse every line
    // anyway to fill its metadata, which we do not use: skip both.
    parse: 'lines',
    parseLine: skipParse,
    metadata: false,
    close: async () => { await shipper.close() } // idempotent in the Shipper
  })
  // logger.flush(cb) (thread-stream FLUSH message) completes only after delivery — or after
  // `closeTimeout`, so a dead collector cannot hang the application's callback forever.
  stream.flush = (cb) => {
    // Lines already written to the stream may still be on their way through split2: let them land.
    setImmediate(() => {
      shipper.flush(shipper.closeTimeout).then(() => cb(), cb)
    })
  }
  return stream
}
