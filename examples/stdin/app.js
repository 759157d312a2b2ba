// An application that knows nothing about MAAP: it prints JSON log lines (and the odd plain line) to
// stdout. Piped into maap-ship, every line reaches the collector. See README.md.
'use strict'
let n = 0
const line = obj => process.stdout.write(JSON.stringify(obj) + '\n')

line({ level: 30, time: Date.now(), msg: 'pino-shaped line', n: ++n })
line({ level: 'info', message: 'winston-shaped line', timestamp: new Date().toISOString(), n: ++n })
process.stdout.write('a plain text line: shipped as an info message\n')
line({ level: 'error', message: 'something failed', err: { message: 'boom', stack: 'Error: boom' }, n: ++n })
