// A Lambda-style handler logging through winston. `worker: false` runs the shipper in this process:
// no worker thread to start per instance, nothing to resolve at run time. Created once per instance.
// The handler awaits the transport's flush before returning: the platform may freeze or kill the
// process right after.
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')

const transport = new MaapTransport({ appName: 'orders-fn-winston', worker: false, serverless: true })
const logger = winston.createLogger({ transports: [transport] })

exports.handler = async (event, context) => {
  const log = logger.child({ requestId: context?.awsRequestId })
  log.info('invocation started', { items: event.items?.length ?? 0 })
  for (const item of event.items ?? []) log.info('item processed', { item })

  // Delivered, or after 2 s the count of what is not (r.notDelivered says where it is).
  const r = await transport.flush(2000)
  if (r.undelivered > 0) console.error(`maap: ${r.undelivered} log records not delivered`, r.notDelivered)
  return { statusCode: 200, logsUndelivered: r.undelivered }
}
