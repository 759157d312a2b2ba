// winston's own transports.Http (examples/winston-http/app.js, unchanged) → the real collector's
// POST /logs?app_name=…, one record per request and in batch mode; and a real request with no
// Content-Type at all, as some shippers send.
import t from 'tap'
import { request } from 'node:http'
import { resolve } from 'node:path'
import { startCollector, journaled, runNode } from './support'

const app = resolve(__dirname, '..', 'examples', 'winston-http', 'app.js')

t.test('transports.Http, single and batched, with a bearer key', async t => {
  const collector = await startCollector(t, { env: { API_KEYS: 'winston-http-key' } })
  for (const batch of ['0', '1']) {
    const { code, stderr } = await runNode([app], { MAAP_URL: collector.url, MAAP_API_KEY: 'winston-http-key', WINSTON_BATCH: batch })
    t.equal(code, 0, `batch=${batch}: no delivery failure ${stderr}`)
  }
  const events = journaled(collector.logDir) as Array<Record<string, any>>
  t.equal(events.length, 6)
  t.same(events.map(e => e.level).sort(), ['ERROR', 'ERROR', 'INFO', 'INFO', 'WARNING', 'WARNING'])
  for (const e of events) t.equal(e.app_name, 'checkout-http')
  const error = events.find(e => e.level === 'ERROR')!
  t.match(error, { message: 'payment declined', stack: /Error: payment declined/ })
  t.match(events.find(e => e.level === 'WARNING'), { message: 'cache miss', key: 'user:42' })
  const denied = await runNode([app], { MAAP_URL: collector.url, MAAP_API_KEY: 'not-the-key-1', WINSTON_BATCH: '0' })
  t.match(denied.stderr, /delivery failed: Invalid HTTP Status Code: 403/, 'a refused request is reported by winston')
})

t.test('a real request without Content-Type: its NDJSON is read', async t => {
  const collector = await startCollector(t)
  const body = '{"message":"no type one"}\n{"message":"no type two"}\n'
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${collector.url}/logs?app_name=bare`, { method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    t.equal(req.getHeader('content-type'), undefined)
    req.end(body)
  })
  t.equal(status, 200)
  t.same(journaled(collector.logDir).map(e => [e.app_name, e.message]), [['bare', 'no type one'], ['bare', 'no type two']])
})
