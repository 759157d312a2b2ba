// A small application as a bundler sees it: pino through maapDestination and winston through
// MaapTransport with its default options, both shipping to MAAP_URL. test/bundle.test.ts bundles it
// with esbuild into one file and runs that file where there is no node_modules. Each record carries
// `run` and a per-logger `seq`, so the test can count every one exactly once.
'use strict'
const pino = require('pino')
const winston = require('winston')
const { maapDestination } = require('@maap-event-logger/pino-transport')
const { MaapTransport } = require('@maap-event-logger/winston-transport')

const run = process.env.RUN
const count = Number(process.env.COUNT)

async function main () {
  const dest = maapDestination({ appName: 'bundled-pino' })
  const logger = pino({ base: { run } }, dest)
  const transport = new MaapTransport({ appName: 'bundled-winston' })
  const wlogger = winston.createLogger({ defaultMeta: { run }, transports: [transport] })
  for (let seq = 0; seq < count; seq++) {
    logger.info({ seq }, 'from pino')
    wlogger.info('from winston', { seq })
  }
  const [p, w] = await Promise.all([dest.flush(), transport.flush()])
  process.stdout.write(JSON.stringify({ pino: p.undelivered, winston: w.undelivered }) + '\n')
}

main()
