import t from 'tap'
import { backoffDelay, parseRetryAfter } from '../src/backoff'

t.test('exponential with equal jitter, capped', async t => {
  t.equal(backoffDelay(1, 100, 10_000, () => 0), 50)
  t.equal(backoffDelay(1, 100, 10_000, () => 1), 100)
  t.equal(backoffDelay(4, 100, 10_000, () => 0), 400)
  t.equal(backoffDelay(4, 100, 10_000, () => 1), 800)
  t.equal(backoffDelay(50, 100, 10_000, () => 1), 10_000)
  const d = backoffDelay(3, 100, 10_000)
  t.ok(d >= 200 && d <= 400)
})

t.test('Retry-After: seconds, HTTP date, garbage', async t => {
  t.equal(parseRetryAfter('2'), 2000)
  t.equal(parseRetryAfter(['3']), 3000)
  const now = Date.parse('2026-11-27T00:00:00Z')
  t.equal(parseRetryAfter('Fri, 27 Nov 2026 00:00:05 GMT', now), 5000)
  t.equal(parseRetryAfter('Thu, 26 Nov 2026 00:00:05 GMT', now), 0)
  t.equal(parseRetryAfter('soon'), undefined)
  t.equal(parseRetryAfter(undefined), undefined)
  t.equal(parseRetryAfter(' '), undefined)
})
