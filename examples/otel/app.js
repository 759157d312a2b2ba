// An OpenTelemetry SDK app whose logs go to the collector's POST /v1/logs — nothing of ours in it.
// Three ways in, one LoggerProvider: the Logs API itself, pino through @opentelemetry/instrumentation-pino,
// winston through @opentelemetry/winston-transport. The exporter is configured by the standard variables:
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:8181            (the exporter adds /v1/logs)
//   OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20<key>"    (when the collector has API_KEYS)
//   OTEL_EXPORTER_OTLP_COMPRESSION=gzip                           (or none)
//   OTEL_SERVICE_NAME=checkout                                    (becomes app_name)
// and OTLP_ENCODING=protobuf (default, exporter-logs-otlp-proto) or json (exporter-logs-otlp-http).
'use strict'
const { logs, SeverityNumber } = require('@opentelemetry/api-logs')
const { registerInstrumentations } = require('@opentelemetry/instrumentation')
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino')
const { resourceFromAttributes } = require('@opentelemetry/resources')
const { BatchLogRecordProcessor, LoggerProvider } = require('@opentelemetry/sdk-logs')

const { OTLPLogExporter } = process.env.OTLP_ENCODING === 'json'
  ? require('@opentelemetry/exporter-logs-otlp-http')
  : require('@opentelemetry/exporter-logs-otlp-proto')

process.env.OTEL_EXPORTER_OTLP_ENDPOINT ??= 'http://127.0.0.1:8181'
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'checkout', 'deployment.environment': 'example' }),
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })]
})
logs.setGlobalLoggerProvider(provider)
// Before pino is required, so its instrumentation can hook it.
registerInstrumentations({ instrumentations: [new PinoInstrumentation()] })

const pino = require('pino')
const winston = require('winston')
const { OpenTelemetryTransportV3 } = require('@opentelemetry/winston-transport')

async function main () {
  // 1. The Logs API.
  logs.getLogger('example-app', '1.0.0').emit({
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'stock running low',
    attributes: { 'product.sku': 'A-42', 'product.left': 3 }
  })
  // 2. pino, bridged: every record also goes to the LoggerProvider.
  const plog = pino({ level: 'debug' }, pino.destination({ dest: 2, sync: true }))
  plog.info({ orderId: 7 }, 'order placed')
  plog.error(new Error('card declined'), 'payment failed')
  // 3. winston, bridged.
  const wlog = winston.createLogger({ transports: [new OpenTelemetryTransportV3()] })
  wlog.info('shipped', { carrier: 'dhl' })

  // Exports what is batched and stops; the process may exit after this.
  await new Promise(resolve => setTimeout(resolve, 50)) // winston hands records on asynchronously
  await provider.shutdown()
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
