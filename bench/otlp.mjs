// npm run bench:otlp — OTLP/HTTP protobuf ingest on POST /v1/logs next to NDJSON on POST /logs, with the
// same 1,000 records per request, in the same run (goal: OTLP ≥ 0.80× NDJSON events/s). Both go through
// the real collector (embedded mode, fsync per group commit), 8 keep-alive connections, on 127.0.0.1.
// Also prints the decoder alone on 10,000 records (the figure the README's decoder choice rests on).
// BENCH_SECONDS sets the duration of each HTTP run (default 10).
import autocannon from 'autocannon'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { SeverityNumber } from '@opentelemetry/api-logs'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer'
import { cpuSeconds, fmt, median, peakRssMb, ratio, startServer } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const { decodeLogsProtobuf, visitLogsProtobuf } = require('../collector/dist/otlp/protobuf.js')
const { normaliseEvent } = require('../collector/dist/normalise/normalise.js')
const { requestLines } = require('../collector/dist/otlp/journal-lines.js')
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const PER_REQUEST = 1000

// One record, as the NDJSON bench (bench/ingest.mjs) sends it, and as an OTLP log record.
const fields = { user_id: 4242, route: '/api/login', duration_ms: 12.5 }
const ndjson = Array.from({ length: PER_REQUEST }, (_, seq) =>
  JSON.stringify({ level: 'info', message: 'user signed in', app_name: 'bench', ...fields, seq })).join('\n')

async function otlpBody (n, attributes = seq => ({ ...fields, seq })) {
  const exporter = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench' }), processors: [new SimpleLogRecordProcessor({ exporter })] })
  const logger = provider.getLogger('bench')
  for (let seq = 0; seq < n; seq++) logger.emit({ severityNumber: SeverityNumber.INFO, body: 'user signed in', attributes: attributes(seq) })
  await provider.forceFlush()
  const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords()))
  await provider.shutdown()
  return body
}

function load (url, opts) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', duration: seconds, connections: 8, ...opts }, (err, result) => err ? reject(err) : resolve(result))
  })
}

// The two sides alternate in ROUNDS short runs against one collector each, so a change in the machine's
// load during the run weighs on both alike; the totals are compared.
const ROUNDS = 3

async function compare (sides) {
  for (const side of sides) {
    side.collector = await startServer(collectorBin, { LOG_DIR: mkdtempSync(join(tmpdir(), 'bench-otlp-')) })
    side.cpu = 0
    side.requests = 0
    side.seconds = 0
    side.p99 = 0
    side.non2xx = 0
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of sides) {
      const cpu0 = cpuSeconds(side.collector.child.pid)
      const r = await load(`http://127.0.0.1:${side.collector.port}${side.path}`, { headers: { 'content-type': side.type }, body: side.body, duration: seconds / ROUNDS })
      side.cpu += cpuSeconds(side.collector.child.pid) - cpu0
      side.requests += r.requests.total
      side.seconds += r.duration
      side.p99 = Math.max(side.p99, r.latency.p99)
      side.non2xx += r.non2xx
    }
  }
  for (const side of sides) {
    side.rss = peakRssMb(side.collector.child.pid)
    side.eventsPerSec = side.requests * PER_REQUEST / side.seconds
    await side.collector.stop()
  }
}

const proto = await otlpBody(PER_REQUEST)
// The same records with attributes named as OpenTelemetry's semantic conventions name them (dotted: nested).
const dotted = await otlpBody(PER_REQUEST, seq => ({ 'http.request.method': 'POST', 'http.route': '/api/login', 'http.response.status_code': 200, 'user.id': 4242, seq }))
const big = await otlpBody(10_000)
const times = []
for (let i = 0; i < 15; i++) {
  const t0 = performance.now()
  decodeLogsProtobuf(big, 20)
  times.push(performance.now() - t0)
}
console.log('decoder alone: 10,000 records (%s KB protobuf) in %s ms (median of 15)', fmt(big.length / 1024), median(times).toFixed(1))

const nd = { path: '/logs', type: 'application/x-ndjson', body: ndjson }
const ot = { path: '/v1/logs', type: 'application/x-protobuf', body: proto }
await compare([nd, ot])
console.log('\n%s records per request, 8 connections, %ds each (%d alternating rounds), embedded mode', fmt(PER_REQUEST), seconds, ROUNDS)
console.log('   NDJSON   POST /logs    : %s events/s, p99 %d ms, non-2xx %d, peak RSS %d MB  (%s KB per request)', fmt(nd.eventsPerSec), nd.p99, nd.non2xx, nd.rss, fmt(ndjson.length / 1024))
console.log('   OTLP pb  POST /v1/logs : %s events/s, p99 %d ms, non-2xx %d, peak RSS %d MB  (%s KB per request)', fmt(ot.eventsPerSec), ot.p99, ot.non2xx, ot.rss, fmt(proto.length / 1024))
console.log('   OTLP / NDJSON          : %s  (goal ≥ 0.80×)', ratio(ot.eventsPerSec, nd.eventsPerSec))
const usPerEvent = side => 1e6 * side.cpu / (side.requests * PER_REQUEST)
console.log('   collector CPU per event: NDJSON %s µs, OTLP %s µs (its threads together, over the HTTP runs)', usPerEvent(nd).toFixed(2), usPerEvent(ot).toFixed(2))

// Where an event's time goes, in process on the same 1,000 records (no HTTP, no journal): µs per record.
const limits = { maxDepth: 20, maxFields: 1000, maxFieldNameLength: 256 }
function perRecord (fn) {
  for (let i = 0; i < 50; i++) fn()
  const runs = []
  for (let k = 0; k < 15; k++) {
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) fn()
    runs.push((performance.now() - t0) * 1000 / (20 * PER_REQUEST))
  }
  return median(runs).toFixed(2)
}
const ctx = () => ({ limits, receivedAt: new Date().toISOString() })
const LINES = { maxDepth: 20, maxBytes: 64 << 20 }
const ndLines = ndjson.split('\n')
console.log('   in process, µs per record: NDJSON parse %s, + normalise %s | OTLP direct to journal lines %s (what the route runs)',
  perRecord(() => { for (const l of ndLines) JSON.parse(l) }),
  perRecord(() => { const c = ctx(); for (const l of ndLines) normaliseEvent(JSON.parse(l), c, l) }),
  perRecord(() => requestLines(proto, ctx(), LINES)))
console.log('   OTLP direct, dotted attribute keys (http.request.method, …, nested): %s µs per record', perRecord(() => requestLines(dotted, ctx(), LINES)))
// The path of the records the direct path declines: the whole of it, and its decoder alone.
const decodeOnly = { resource: () => undefined, scope: () => undefined, record: () => {} }
console.log('   OTLP decoded path (records the direct path declines): %s µs per record, of which decoding %s',
  perRecord(() => requestLines(proto, ctx(), { ...LINES, direct: false })), perRecord(() => visitLogsProtobuf(proto, 20, decodeOnly)))
