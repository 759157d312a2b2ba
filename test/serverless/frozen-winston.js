// frozen.js for winston, with MaapTransport's default worker thread: test/serverless.test.ts freezes the
// whole process (both threads) while a batch's answer is held back, thaws it later, and counts what
// arrived. Short request timeout: after the thaw the held request has timed out and is sent again.
'use strict'
const winston = require('winston')
const { MaapTransport } = require('@maap-event-logger/winston-transport')

const run = process.env.RUN
const transport = new MaapTransport({ url: process.env.MAAP_URL, appName: 'frozen-fn-winston', serverless: true, timeout: 1000, retryBaseMs: 50, retryMaxMs: 500, batchSize: 50 })
const logger = winston.createLogger({ defaultMeta: { run }, transports: [transport] })
for (let seq = 0; seq < Number(process.env.COUNT); seq++) logger.info('before the freeze', { seq })
transport.flush(120_000).then(r => process.stdout.write(`flushed ${JSON.stringify(r)}\n`))
