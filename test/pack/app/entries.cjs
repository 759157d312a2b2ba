// Every public entry, required by name: prints { entry: { export: typeof } } as JSON.
'use strict'
const entries = ['@maap-event-logger/collector', '@maap-event-logger/shipper', '@maap-event-logger/shipper/app-thread',
  '@maap-event-logger/pino-transport', '@maap-event-logger/winston-transport']
const types = m => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))
console.log(JSON.stringify(Object.fromEntries(entries.map(e => [e, types(require(e))]))))
