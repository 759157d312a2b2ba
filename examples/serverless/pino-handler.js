// A Lambda-style handler logging through pino. The destination runs the shipper in this process (no
// worker thread, nothing to resolve at run time, so bundling is safe) and is created once per
// instance: warm invocations reuse it. The platform may freeze or kill the process the moment the
// handler returns, so the handler awaits the flush first — "flushed" means in the collector.
'use strict'
const pino = require('pino')
const { maapDestination } = require('@maap-event-logger/pino-transport')

// MAAP_URL, MAAP_API_KEY and MAAP_APP_NAME come from the environment when not given here.
const dest = maapDestination({ appName: 'orders-fn', flushTimeout: 2000 })
const logger = pino({}, dest)

exports.handler = async (event, context) => {
  const log = logger.child({ requestId: context?.awsRequestId })
  log.info({ items: event.items?.length ?? 0 }, 'invocation started')
  for (const item of event.items ?? []) log.info({ item }, 'item processed')

  // Resolves once every record logged so far is acknowledged by the collector, or after flushTimeout
  // with what is not: still in memory (retried by the next invocation if the instance is reused),
  // spooled, dropped or rejected — see r.notDelivered.
  const r = await dest.flush()
  if (r.undelivered > 0) console.error(`maap: ${r.undelivered} log records not delivered`, r.notDelivered)
  return { statusCode: 200, logsUndelivered: r.undelivered }
}
