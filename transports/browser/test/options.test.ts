import t from 'tap'
import { resolveOptions, DEFAULTS } from '../src/options.js'
import { backoffDelay, parseRetryAfter } from '../src/backoff.js'
import { newBatchId } from '../src/batch-id.js'

const base = { url: 'https://logs.example.com', key: 'pk_shop_3f9a2c1d', appName: 'shop-web' }

t.test('defaults, and the /logs endpoint from a base URL', async t => {
  t.match(resolveOptions(base), { endpoint: 'https://logs.example.com/logs', key: base.key, appName: 'shop-web', ...DEFAULTS, fields: undefined })
  t.equal(resolveOptions({ ...base, url: 'https://x.example/collector///' }).endpoint, 'https://x.example/collector/logs')
  t.equal(resolveOptions({ ...base, url: 'https://x.example/logs?a=1#h' }).endpoint, 'https://x.example/logs', 'a /logs URL as it is, without query or hash')
  const r = resolveOptions({ ...base, level: 'silent', batchSize: 5, flushInterval: 10, maxBufferBytes: 100, fields: { release: '1' } })
  t.match(r, { level: 'silent', batchSize: 5, flushInterval: 10, maxBufferBytes: 100, fields: { release: '1' } })
  t.ok(Object.isFrozen(r))
})

t.test('a bad option is named; the key is never shown', async t => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ url: '' }, /option "url" must be a non-empty string; got ""/],
    [{ url: 'ftp://x.example' }, /option "url" must be an http\(s\) URL; got "ftp:/],
    [{ url: 'not a url' }, /option "url" must be an http\(s\) URL/],
    [{ appName: 3 }, /option "appName" must be a non-empty string; got number/],
    [{ level: 'loud' }, /option "level" must be one of trace, debug, info, warn, error, fatal, silent; got "loud"/],
    [{ level: 'toString' }, /option "level"/],
    [{ batchSize: 0 }, /option "batchSize" must be a whole number ≥ 1; got number/],
    [{ flushInterval: 1.5 }, /option "flushInterval"/],
    [{ maxBufferBytes: '1' }, /option "maxBufferBytes"/],
    [{ fields: [1] }, /option "fields" must be an object/],
    [{ fields: null }, /option "fields" must be an object/]
  ]
  for (const [patch, message] of bad) t.throws(() => resolveOptions({ ...base, ...patch } as never), { name: 'TypeError', message })
  t.throws(() => resolveOptions({ ...base, key: '' }), { message: /^@maap-event-logger\/browser: option "key" must be a non-empty string$/ })
  t.throws(() => resolveOptions(null as never), { message: /needs \{ url, key, appName \}/ })
})

t.test('backoff: exponential with equal jitter, capped; Retry-After as seconds or a date', async t => {
  t.equal(backoffDelay(1, () => 0), 250)
  t.equal(backoffDelay(1, () => 1), 500)
  t.equal(backoffDelay(3, () => 1), 2000)
  t.equal(backoffDelay(40, () => 1), 30_000)
  const now = Date.parse('2026-11-27T00:00:00Z')
  t.equal(parseRetryAfter('2', now), 2000)
  t.equal(parseRetryAfter(' 3 ', now), 3000)
  t.equal(parseRetryAfter('Fri, 27 Nov 2026 00:00:05 GMT', now), 5000)
  t.equal(parseRetryAfter('Thu, 26 Nov 2026 00:00:05 GMT', now), 0)
  t.equal(parseRetryAfter('soon', now), undefined)
  t.equal(parseRetryAfter('', now), undefined)
  t.equal(parseRetryAfter(null, now), undefined)
})

t.test('batch ids are UUIDv7 carrying the time, random after it', async t => {
  const ms = Date.parse('2026-01-02T03:04:05.678Z')
  const a = newBatchId(ms)
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal(Number.parseInt(a.slice(0, 8) + a.slice(9, 13), 16), ms)
  t.not(newBatchId(ms), a)
})

t.test('batch ids without Web Crypto fall back to the random function', async t => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto')
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true })
  t.teardown(() => { Object.defineProperty(globalThis, 'crypto', saved!) })
  t.equal(newBatchId(0, () => 0), '00000000-0000-7000-8000-000000000000')
  t.equal(newBatchId(0, () => 0.999), '00000000-0000-7fff-bfff-ffffffffffff')
})
