// The winston handler of examples/serverless with MaapTransport's default: the shipper in a worker
// thread. test/serverless.test.ts SIGKILLs the process the moment the handler returns, so the flush it
// awaits must have crossed to the worker, been delivered there and answered back before that.
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')

const transport = new MaapTransport({ appName: 'orders-fn-winston-worker', serverless: true })
const logger = winston.createLogger({ transports: [transport] })

exports.handler = async (event, context) => {
  const log = logger.child({ requestId: context?.awsRequestId })
  log.info('invocation started', { items: event.items?.length ?? 0 })
  for (const item of event.items ?? []) log.info('item processed', { item })
  const r = await transport.flush(2000)
  if (r.undelivered > 0) console.error(`maap: ${r.undelivered} log records not delivered`, r.notDelivered)
  return { statusCode: 200, logsUndelivered: r.undelivered }
}
