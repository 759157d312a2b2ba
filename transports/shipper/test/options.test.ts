import t from 'tap'
import { DEFAULTS, resolveOptions, ShipperError } from '@maap-event-logger/shipper/app-thread'

t.test('defaults', async t => {
  const o = resolveOptions({}, {})
  t.equal(o.endpoint.href, 'http://127.0.0.1:8181/logs')
  t.equal(o.batchSize, 1000)
  t.equal(o.batchBytes, 1024 * 1024)
  t.equal(o.batchInterval, 1000)
  t.equal(o.maxBufferBytes, DEFAULTS.maxBufferBytes)
  t.equal(o.compress, 'auto')
  t.equal(o.apiKey, undefined)
  t.ok(Object.isFrozen(o))
})

t.test('environment fallbacks, options win', async t => {
  const env = { MAAP_URL: 'https://c.example:9000/base/', MAAP_API_KEY: 'k', MAAP_APP_NAME: 'app' }
  const o = resolveOptions({}, env)
  t.equal(o.endpoint.href, 'https://c.example:9000/base/logs')
  t.equal(o.apiKey, 'k')
  t.equal(o.appName, 'app')
  const p = resolveOptions({ url: 'http://h/logs', apiKey: 'k2', appName: 'a2' }, env)
  t.equal(p.endpoint.href, 'http://h/logs')
  t.equal(p.apiKey, 'k2')
  t.equal(p.appName, 'a2')
})

t.test('numbers given as strings (CLI, JSON config) are accepted', async t => {
  t.equal(resolveOptions({ batchSize: '10' as unknown as number }, {}).batchSize, 10)
})

t.test('highWaterBytes never exceeds a smaller maxBufferBytes by default', async t => {
  t.equal(resolveOptions({ maxBufferBytes: 1000 }, {}).highWaterBytes, 1000)
  t.equal(resolveOptions({ maxBufferBytes: 1000, highWaterBytes: 5000 }, {}).highWaterBytes, 1000)
  t.equal(resolveOptions({ highWaterBytes: 5000 }, {}).highWaterBytes, 5000)
})

t.test('invalid options name themselves', async t => {
  const bad: Array<[object, RegExp]> = [
    [{ url: 'not a url' }, /"url"/],
    [{ url: 'ftp://x' }, /"url"/],
    [{ batchSize: 0 }, /"batchSize"/],
    [{ batchBytes: 1.5 }, /"batchBytes"/],
    [{ timeout: 'x' }, /"timeout"/],
    [{ apiKey: 5 }, /"apiKey"/],
    [{ compress: 'yes' }, /"compress"/],
    [{ onError: 'no' }, /"onError"/]
  ]
  for (const [opts, re] of bad) {
    const err = t.throws(() => resolveOptions(opts as never, {})) as unknown
    t.ok(err instanceof ShipperError, 'a ShipperError')
    t.match(err, { code: 'MAAP_SHIP_INVALID_OPTION', message: re })
  }
})
