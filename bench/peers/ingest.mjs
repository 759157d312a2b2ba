// The one client both stores are fed by: the generator's file, one batch of 1,000 lines per request,
// `inFlight` requests at a time over kept-alive connections.
//
//   file ─► read batch k (its byte range) ─► POST url (NDJSON) ─► 2xx: next batch
//                                                  ▲                 429/503: wait Retry-After, send again
//                                                  └─────────────────┘ else: throw
//
// Each request reads its batch from the file (the page cache), so the client holds inFlight batches at once.
// A refusal for load is what a shipper honours, so it is honoured here too, and counted.
import { open } from 'node:fs/promises'
import { Agent, request } from 'node:http'

/** POSTs `body` to `url`, resolves with { status, headers, text }. */
export function post (url, body, headers, agent) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-length': body.length, ...headers } }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c)).on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Sends the batches `[from, to)` of `data` to `url` with `inFlight` requests at a time; `check(res)`
 * throws on an answer that did not take the whole batch. Resolves with { events, ms, retries }.
 */
export async function ingest ({ url, data, file, inFlight = 4, from = 0, to = data.batches.length, headers, check }) {
  const fh = await open(file, 'r')
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight })
  let next = from
  let events = 0
  let retries = 0
  const t0 = performance.now()
  const lane = async () => {
    while (next < to) {
      const [offset, length] = data.batches[next++]
      const body = Buffer.allocUnsafe(length)
      await fh.read(body, 0, length, offset)
      let res = await post(url, body, headers, agent)
      while (res.status === 429 || res.status === 503) {
        retries++
        await new Promise(resolve => setTimeout(resolve, 1000 * Number(res.headers['retry-after'] ?? 1)))
        res = await post(url, body, headers, agent)
      }
      check(res)
      events += countLines(body)
    }
  }
  try {
    await Promise.all(Array.from({ length: inFlight }, lane))
  } finally {
    agent.destroy()
    await fh.close()
  }
  return { events, ms: performance.now() - t0, retries }
}

function countLines (buf) {
  let n = 0
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++
  return n
}
