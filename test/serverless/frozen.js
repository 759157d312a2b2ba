// A function that logs through maapDestination and then flushes; test/serverless.test.ts freezes it
// (SIGSTOP) while a batch's answer is held back, thaws it (SIGCONT) later, and counts what arrived.
// Short request timeout: after the thaw the held request has timed out and is sent again.
'use strict'
const pino = require('pino')
const { maapDestination } = require('@maap-event-logger/pino-transport')

const run = process.env.RUN
const dest = maapDestination({ url: process.env.MAAP_URL, appName: 'frozen-fn', timeout: 1000, retryBaseMs: 50, retryMaxMs: 500, batchSize: 50, flushTimeout: 120_000 })
const logger = pino({ base: { run } }, dest)
for (let seq = 0; seq < Number(process.env.COUNT); seq++) logger.info({ seq }, 'before the freeze')
dest.flush().then(r => process.stdout.write(`flushed ${JSON.stringify(r)}\n`))
