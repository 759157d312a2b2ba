// A webhook receiver for MAAP alerts: checks X-Maap-Signature, then handles each notification once,
// however often the collector sends it (it retries until it sees a 2xx, with the same Idempotency-Key).
//
//   node examples/alerts/receiver.js        (PORT=9090, WEBHOOK_SECRET=<the alert's secret>, SEEN_FILE=seen.txt)
//
// Only Node's built-ins. Answer 2xx only once the notification is handled: anything else is retried.
'use strict'
const { createHmac, timingSafeEqual } = require('node:crypto')
const { appendFileSync, readFileSync } = require('node:fs')
const { createServer } = require('node:http')

const port = Number(process.env.PORT ?? 9090)
const secret = process.env.WEBHOOK_SECRET
const seenFile = process.env.SEEN_FILE ?? 'seen.txt'
const MAX_BODY = 1024 * 1024

// The notification ids handled so far survive a restart of the receiver: a redelivery after it is still a repeat.
const seen = new Set(readLines(seenFile))

function readLines (file) {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
}

/** Whether `header` is the HMAC-SHA256 of the body's exact bytes under `secret`, compared in constant time. */
function signed (body, header) {
  const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(body).digest('hex'))
  const given = Buffer.from(String(header ?? ''))
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** What this receiver does with a notification: replace it with paging, a ticket, a chat message… */
function handle (n) {
  console.log(`[${n.state}] ${n.alert.name}: ${n.count} event(s) ${n.range.from} … ${n.range.to}`)
  for (const e of n.events) console.log(`  ${e.timestamp} ${e.level} ${e.app_name} ${e.message}`)
  console.log(`  ${n.link}`)
}

createServer((req, res) => {
  if (req.method !== 'POST') return res.writeHead(405).end()
  const chunks = []
  let size = 0
  req.on('data', chunk => {
    size += chunk.length
    if (size > MAX_BODY) req.destroy()
    else chunks.push(chunk)
  })
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    if (secret !== undefined && !signed(body, req.headers['x-maap-signature'])) return res.writeHead(401).end('bad signature\n')
    const id = req.headers['idempotency-key']
    if (typeof id !== 'string' || id === '') return res.writeHead(400).end('no Idempotency-Key\n')
    if (seen.has(id)) return res.writeHead(200).end('already handled\n')
    let notification
    try {
      notification = JSON.parse(body.toString('utf8'))
    } catch {
      return res.writeHead(400).end('not JSON\n')
    }
    handle(notification)
    seen.add(id)
    appendFileSync(seenFile, id + '\n')
    res.writeHead(200).end('handled\n')
  })
}).listen(port, () => console.log(`listening on http://127.0.0.1:${port}/ (signature ${secret === undefined ? 'not checked: set WEBHOOK_SECRET' : 'checked'})`))
