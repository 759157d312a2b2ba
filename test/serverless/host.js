// A function platform, as far as a handler can tell: loads the handler module named by argv[2], calls
// it once with the event in EVENT, prints "returned <result as JSON>" and then just waits — a real
// platform freezes or kills the process at that point; test/serverless.test.ts SIGKILLs it.
'use strict'
const { handler } = require(process.argv[2])

setInterval(() => {}, 60_000) // the runtime's own loop: alive until killed
handler(JSON.parse(process.env.EVENT), { awsRequestId: 'test-invocation' }).then(result => {
  process.stdout.write(`returned ${JSON.stringify(result)}\n`)
})
