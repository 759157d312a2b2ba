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
import { fmt, median, peakRssMb, ratio, startServer } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const collectorBin = join(here, '..', 'collector', 'dist', 'bin.js')
const { decodeLogsProtobuf } = require('../collector/dist/otlp/protobuf.js')
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const PER_REQUEST = 1000

// One record, as the NDJSON bench (bench/ingest.mjs) sends it, and as an OTLP log record.
const fields = { user_id: 4242, route: '/api/login', duration_ms: 12.5 }
const ndjson = Array.from({ length: PER_REQUEST }, (_, seq) =>
  JSON.stringify({ level: 'info', message: 'user signed in', app_name: 'bench', ...fields, seq })).join('\n')

async function otlpBody (n) {
  const exporter = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench' }), processors: [new SimpleLogRecordProcessor({ exporter })] })
  const logger = provider.getLogger('bench')
  for (let seq = 0; seq < n; seq++) logger.emit({ severityNumber: SeverityNumber.INFO, body: 'user signed in', attributes: { ...fields, seq } })
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
    side.requests = 0
    side.seconds = 0
    side.p99 = 0
    side.non2xx = 0
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of sides) {
      const r = await load(`http://127.0.0.1:${side.collector.port}${side.path}`, { headers: { 'content-type': side.type }, body: side.body, duration: seconds / ROUNDS })
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
