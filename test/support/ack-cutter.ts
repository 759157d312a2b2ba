// A loopback HTTP proxy that loses acknowledgements. It forwards each request whole to a collector and,
// for the attempts a test picks, reads the collector's answer and then cuts the client's connection
// instead of passing it on: what a timeout, a reset connection or a load balancer that gave up does. The
// shipper then retries a batch the collector has already journaled.
//
//   shipper ──POST──► cutter ──POST──► collector (target(key, attempt))
//                       │  ◄──answer──┘
//                       └─ lose(key, attempt)? ─yes─► onLost(), then cut the socket ─► shipper retries
//                                            └─no──► pass the answer on
import { createServer, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface AckCutterOptions {
  /** The collector's base URL for attempt `attempt` (0 = the first) of the request with this key. */
  target: (key: string | undefined, attempt: number) => string
  /** Whether the answer to that attempt is lost. */
  lose: (key: string | undefined, attempt: number) => boolean
  /** Runs once a lost answer was read and before the connection is cut (e.g. SIGKILL the collector). */
  onLost?: (key: string | undefined) => Promise<void>
}

export interface AckCutter {
  url: string
  /** Answers the collector gave that the client never got. */
  readonly lost: number
  /** Requests passed on, by their Idempotency-Key (requests without one under ''). */
  readonly attempts: ReadonlyMap<string, number>
  close: () => Promise<void>
}

async function readAll (stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export async function startAckCutter (t: { teardown: (fn: () => unknown) => void }, opts: AckCutterOptions): Promise<AckCutter> {
  const attempts = new Map<string, number>()
  let lost = 0
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req)
      const header = req.headers['idempotency-key']
      const key = typeof header === 'string' ? header : undefined
      const attempt = attempts.get(key ?? '') ?? 0
      attempts.set(key ?? '', attempt + 1)
      const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
        const forward = request(new URL(req.url ?? '/', opts.target(key, attempt)), { method: req.method, headers: req.headers }, resolve)
        forward.on('error', reject)
        forward.end(body)
      })
      const answer = await readAll(upstream)
      if (opts.lose(key, attempt)) {
        lost++
        await opts.onLost?.(key)
        req.socket.destroy()
        return
      }
      res.writeHead(upstream.statusCode ?? 502, upstream.headers)
      res.end(answer)
    })().catch(() => { req.socket.destroy() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const close = async (): Promise<void> => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  t.teardown(close)
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get lost () { return lost },
    attempts,
    close
  }
}
