// Real OpenTelemetry clients → the real collector → MongoDB: examples/otel/app.js (the JS SDK with
// exporter-logs-otlp-proto or -otlp-http, gzip on and off, the pino and winston bridges) run unchanged,
// configured only by the standard OTEL_* variables, through a loopback relay that records each request's
// head so the test sees the encoding the exporter really used.
import t from 'tap'
import { createServer, connect, type Server } from 'node:net'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { flushCollector, setupMongoCollector, runNode } from './support'

const app = resolve(__dirname, '..', 'examples', 'otel', 'app.js')

/** A TCP relay to `port` on 127.0.0.1 that keeps the first bytes each client sends (the request head). */
async function relay (t: Tap.Test, port: number): Promise<{ url: string, heads: string[] }> {
  const heads: string[] = []
  const server: Server = createServer(socket => {
    const upstream = connect(port, '127.0.0.1')
    socket.once('data', chunk => heads.push(chunk.subarray(0, 1024).toString('latin1').toLowerCase()))
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const address = server.address() as { port: number }
  return { url: `http://127.0.0.1:${address.port}`, heads }
}

t.test('the SDK app, protobuf and JSON, gzip and not: every record stored once, mapped by the table', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'otel', { API_KEYS: 'otel-secret-key' })
  const { url, heads } = await relay(t, collector.port)
  const runs = [
    { encoding: 'protobuf', compression: 'gzip', type: 'application/x-protobuf' },
    { encoding: 'protobuf', compression: 'none', type: 'application/x-protobuf' },
    { encoding: 'json', compression: 'gzip', type: 'application/json' },
    { encoding: 'json', compression: 'none', type: 'application/json' }
  ]
  for (const run of runs) {
    const service = `otel-${run.encoding}-${run.compression}`
    const from = heads.length
    const { code, stderr } = await runNode([app], {
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20otel-secret-key',
      OTEL_EXPORTER_OTLP_COMPRESSION: run.compression,
      OTEL_SERVICE_NAME: service,
      OTLP_ENCODING: run.encoding
    })
    t.equal(code, 0, `${service} exited cleanly ${stderr.includes('Error') ? stderr.slice(-500) : ''}`)
    const mine = heads.slice(from).filter(h => h.startsWith('post /v1/logs'))
    t.ok(mine.length > 0, `${service} posted to /v1/logs`)
    for (const h of mine) {
      t.ok(h.includes(`content-type: ${run.type}`), `${service} sent ${run.type}`)
      t.equal(h.includes('content-encoding: gzip'), run.compression === 'gzip', `${service} gzip ${run.compression}`)
    }
  }
  await flushCollector(collector)
  for (const run of runs) {
    const service = `otel-${run.encoding}-${run.compression}`
    const docs = await coll.find({ app_name: service }).sort({ timestamp: 1, _id: 1 }).toArray()
    t.equal(docs.length, 4, `${service}: four records, each once`)
    const by = (scope: string): Array<Record<string, any>> => docs.filter(d => d.scope.name === scope)
    const [api] = by('example-app')
    t.match(api, { level: 'WARNING', message: 'stock running low', severity_text: 'WARN', product: { sku: 'A-42', left: 3 }, resource: { service: { name: service }, deployment: { environment: 'example' } }, scope: { version: '1.0.0' } })
    t.ok(api!.timestamp instanceof Date, 'timestamp is a BSON Date')
    const pino = by('@opentelemetry/instrumentation-pino')
    t.match(pino, [{ level: 'INFO', message: 'order placed', orderId: 7 }, { level: 'ERROR', message: 'payment failed', exception: { type: 'Error', message: 'card declined' } }])
    t.match(by('@opentelemetry/winston-transport'), [{ level: 'INFO', message: 'shipped', carrier: 'dhl' }])
  }
})

t.test('a wrong key: the exporter gets 403 and nothing is stored', async t => {
  const { collector, coll } = await setupMongoCollector(t, 'otelkey', { API_KEYS: 'otel-secret-key' })
  const { code } = await runNode([app], {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20wrong-key-123',
    OTEL_SERVICE_NAME: 'otel-denied'
  })
  t.equal(code, 0, 'the app itself is not harmed')
  const status = await (await fetch(`${collector.url}/status`)).json() as { accepted_total: number }
  t.equal(status.accepted_total, 0)
  await flushCollector(collector)
  t.equal(await coll.countDocuments({}), 0)
})
