// Generated events and queries in the query language, shared by the tests that hold two answers to each
// other: query-differential (every store and reader against a reference) and alerts-line-screen (the
// alerts' byte screens against the evaluator). Each query is a structure and the text the collector parses.
import fc from 'fast-check'

export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']

// ---- the events -------------------------------------------------------------------------------------
const MESSAGES = ['Upstream timeout after 30s', 'connection reset by peer', 'slow query', 'ok', 'Café ouvert', 'İstanbul line', '\u212aELVIN scale', 'TIMEOUT again', 'say H\u0130', '']
export const eventArb = fc.record({
  app_name: fc.constantFrom('api', 'web', 'pay'),
  level: fc.constantFrom(...LEVELS),
  message: fc.constantFrom(...MESSAGES),
  http: fc.option(fc.record({ status: fc.constantFrom<unknown>(200, 404, 500, 503, '500', 'n/a') }), { nil: undefined }),
  region: fc.option(fc.constantFrom('eu', 'us', 'ap', 'EU'), { nil: undefined }),
  user_id: fc.constantFrom<unknown>(undefined, null, 'u1', 7),
  tags: fc.option(fc.subarray(['a', 'b', 'c', 'web-9']), { nil: undefined }),
  items: fc.option(fc.array(fc.record({ sku: fc.constantFrom('x1', 'x2', 'y1'), qty: fc.constantFrom(1, 3, 10) }), { maxLength: 3 }), { nil: undefined }),
  duration_ms: fc.option(fc.constantFrom(5, 999, 1000, 1500, 20000, -3, 2.5), { nil: undefined }),
  ok: fc.option(fc.boolean(), { nil: undefined }),
  host: fc.option(fc.constantFrom('web-1', 'web-22', 'api-1', 'Web-3'), { nil: undefined }),
  note: fc.option(fc.constantFrom('Café', 'cafe', '\u212aelvin', 'straße', '10', 'b'), { nil: undefined })
}).map(e => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)))

// ---- the queries, as a structure the reference evaluates and as the text the collector parses --------
export type Value = { text: string, quoted: boolean }
export type Q =
  | { k: 'and' | 'or', a: Q, b: Q }
  | { k: 'not', a: Q }
  | { k: 'cmp', f: string, op: string, v: Value }
  | { k: 'in', f: string, vs: Value[] }
  | { k: 'exists', f: string }
  | { k: 'contains', f: string, text: string }
  | { k: 'text', text: string, quoted: boolean }

const FIELDS = ['app_name', 'message', 'http.status', 'region', 'user_id', 'tags', 'items.sku', 'items.qty', 'duration_ms', 'ok', 'host', 'note', 'missing']
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.record({ text: fc.constantFrom('api', 'web', 'eu', 'EU', 'us', 'a', 'b', 'c', 'x1', 'y1', 'u1', 'Café', 'cafe', 'straße', 'web-1', 'n/a', 'true', 'false'), quoted: fc.boolean() }),
  fc.record({ text: fc.constantFrom('0', '1', '3', '5', '7', '10', '200', '404', '500', '503', '999', '1000', '1500', '-3', '2.5', '1e3'), quoted: fc.boolean() })
)
const wordArb = fc.constantFrom('timeout', 'TimeOut', 'reset', 'slow', 'café', 'CAFÉ', 'istanbul', 'i', 'k', 'kelvin', 'again', 'ok', 'line', 'hi', 'say hi')

const termArb: fc.Arbitrary<Q> = fc.oneof(
  fc.record({ k: fc.constant('cmp' as const), f: fc.constantFrom(...FIELDS), op: fc.constantFrom('=', '!=', '>', '>=', '<', '<=', ':'), v: valueArb }),
  fc.record({ k: fc.constant('cmp' as const), f: fc.constantFrom('host', 'tags', 'note', 'items.sku'), op: fc.constant('prefix'), v: fc.record({ text: fc.constantFrom('web', 'web-', 'W', 'ca', 'x'), quoted: fc.constant(false) }) }),
  fc.record({ k: fc.constant('cmp' as const), f: fc.constant('level'), op: fc.constantFrom('=', '>', '>=', '<', '<='), v: fc.record({ text: fc.constantFrom('info', 'WARNING', 'error', 'critical', 'trace'), quoted: fc.constant(false) }) }),
  fc.record({ k: fc.constant('in' as const), f: fc.constantFrom(...FIELDS), vs: fc.array(valueArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({ k: fc.constant('exists' as const), f: fc.constantFrom(...FIELDS) }),
  fc.record({ k: fc.constant('contains' as const), f: fc.constantFrom('message', 'note', 'host', 'tags', 'region'), text: fc.constantFrom('e', 'caf', 'CAFÉ', 'web', 'k', 'i', 'ss', 'ß', 'U') }),
  fc.record({ k: fc.constant('text' as const), text: wordArb, quoted: fc.boolean() })
)
export const queryArb: fc.Arbitrary<Q> = fc.letrec<{ q: Q }>(tie => ({
  q: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    termArb,
    fc.record({ k: fc.constant('not' as const), a: tie('q') }),
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const), a: tie('q'), b: tie('q') }))
})).q

const lit = (v: Value): string => v.quoted ? JSON.stringify(v.text) : v.text

export function render (q: Q): string {
  switch (q.k) {
    case 'and': case 'or': return `(${render(q.a)}) ${q.k} (${render(q.b)})`
    case 'not': return `not (${render(q.a)})`
    case 'cmp': return q.op === 'prefix' ? `${q.f} = ${q.v.text}*` : `${q.f} ${q.op} ${lit(q.v)}`
    case 'in': return `${q.f} in (${q.vs.map(lit).join(', ')})`
    case 'exists': return `${q.f} exists`
    case 'contains': return `${q.f} contains ${JSON.stringify(q.text)}`
    case 'text': return q.quoted ? JSON.stringify(q.text) : q.text
  }
}

