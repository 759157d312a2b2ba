// A corpus of hostile and broken input against a real collector process. Every case gets the 4xx it
// deserves or is stored safely renamed; never a 5xx; the server stays up and takes a good event after each.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startCollector, undocumentedCodes } from '../support'

const ERRORS_DOC = resolve(__dirname, '..', '..', 'collector', 'README.md')

interface Case {
  name: string
  path?: string
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** The status wanted; for stored cases 201/200. */
  status: number
  /** A marker to find the stored event in the journal, and what must hold of it. */
  stored?: { marker: string, check: (doc: Record<string, unknown>) => boolean }
}

const json = { 'content-type': 'application/json' }
const ndjson = { 'content-type': 'application/x-ndjson' }
const ev = (extra: object): string => JSON.stringify({ message: 'm', app_name: 'corpus', ...extra })
const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const manyFields = (n: number): string => ev(Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i])))

const cases: Case[] = [
  { name: 'truncated JSON', body: '{"message":', headers: json, status: 400 },
  { name: 'trailing garbage', body: ev({}) + ' x', headers: json, status: 400 },
  { name: 'JSON null', body: 'null', headers: json, status: 400 },
  { name: 'JSON string', body: '"hello"', headers: json, status: 400 },
  { name: 'JSON number', body: '42', headers: json, status: 400 },
  { name: 'array to /log', body: `[${ev({})}]`, headers: json, status: 400 },
  { name: 'empty JSON body', body: '', headers: json, status: 400 },
  { name: 'message is a number', body: JSON.stringify({ message: 1, app_name: 'a' }), headers: json, status: 400 },
  { name: 'message is an object', body: JSON.stringify({ message: { x: 1 }, app_name: 'a' }), headers: json, status: 400 },
  { name: 'message is null', body: JSON.stringify({ message: null, app_name: 'a' }), headers: json, status: 400 },
  { name: 'app_name is an array', body: JSON.stringify({ message: 'm', app_name: ['a'] }), headers: json, status: 400 },
  { name: 'app_name is empty', body: JSON.stringify({ message: 'm', app_name: '' }), headers: json, status: 400 },
  { name: 'app_name is 300 characters', body: JSON.stringify({ message: 'm', app_name: 'a'.repeat(300) }), headers: json, status: 400 },
  { name: 'level is an object', body: ev({ level: { name: 'info' } }), headers: json, status: 400 },
  { name: 'unknown level', body: ev({ level: 'shouting' }), headers: json, status: 400 },
  { name: 'pino level that does not exist', body: ev({ level: 35 }), headers: json, status: 400 },
  { name: 'garbage timestamp', body: ev({ timestamp: 'last tuesday' }), headers: json, status: 400 },
  { name: 'negative timestamp', body: ev({ timestamp: -5 }), headers: json, status: 400 },
  { name: 'timestamp past year 9999', body: ev({ timestamp: 1e20 }), headers: json, status: 400 },
  { name: 'boolean timestamp', body: ev({ timestamp: true }), headers: json, status: 400 },
  { name: 'body over BODY_LIMIT', body: ev({ pad: 'x'.repeat(70_000) }), headers: json, status: 413 },
  { name: 'gzip bomb', path: '/logs', body: gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)), headers: { ...ndjson, 'content-encoding': 'gzip' }, status: 413 },
  { name: 'not gzip although it says so', path: '/logs', body: 'plain text', headers: { ...ndjson, 'content-encoding': 'gzip' }, status: 400 },
  { name: 'unsupported content-encoding', path: '/logs', body: 'x', headers: { ...ndjson, 'content-encoding': 'br' }, status: 415 },
  { name: 'text/plain', body: 'hello', headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: 'application/xml', body: '<log/>', headers: { 'content-type': 'application/xml' }, status: 415 },
  { name: 'form-encoded', body: 'message=m&app_name=a', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  { name: 'nesting 100 deep', body: ev({ deep: JSON.parse(nested(100)) }), headers: json, status: 400 },
  { name: 'nesting 5,000 deep', body: `{"message":"m","app_name":"a","deep":${nested(5000)}}`, headers: json, status: 400 },
  { name: '5,000 fields', body: manyFields(5000), headers: json, status: 400 },
  { name: 'field name of 1,000 characters', body: ev({ ['k'.repeat(1000)]: 1 }), headers: json, status: 400 },
  { name: '$-operator key', body: ev({ marker: 'dollar', $where: 'sleep(1000)' }), headers: json, status: 201, stored: { marker: 'dollar', check: d => d._$where === 'sleep(1000)' && !('$where' in d) } },
  { name: 'dotted key', body: ev({ marker: 'dotted', 'a.b': 1 }), headers: json, status: 201, stored: { marker: 'dotted', check: d => d.a_b === 1 } },
  { name: '__proto__ key', body: `{"message":"m","app_name":"corpus","marker":"proto","__proto__":{"isAdmin":true}}`, headers: json, status: 201, stored: { marker: 'proto', check: d => (d._proto__ as { isAdmin: boolean }).isAdmin && Object.getPrototypeOf(d) === Object.prototype } },
  { name: 'nested __proto__ and $ keys', body: `{"message":"m","app_name":"corpus","marker":"nestedproto","ctx":{"__proto__":{"x":1},"$gt":2}}`, headers: json, status: 201, stored: { marker: 'nestedproto', check: d => JSON.stringify(d.ctx) === '{"_proto__":{"x":1},"_$gt":2}' } },
  { name: 'constructor and prototype keys', body: ev({ marker: 'ctor', constructor: { prototype: { x: 1 } } }), headers: json, status: 201, stored: { marker: 'ctor', check: d => typeof d.constructor === 'object' } },
  { name: 'NUL in a key', body: ev({ marker: 'nulkey', 'a\u0000b': 1 }), headers: json, status: 201, stored: { marker: 'nulkey', check: d => d.a_b === 1 } },
  { name: 'NUL in a value', body: ev({ marker: 'nulvalue', v: 'a\u0000b' }), headers: json, status: 201, stored: { marker: 'nulvalue', check: d => d.v === 'a\u0000b' } },
  { name: 'invalid UTF-8 bytes', body: Buffer.concat([Buffer.from('{"message":"bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","app_name":"corpus","marker":"utf8"}')]), headers: json, status: 201, stored: { marker: 'utf8', check: d => typeof d.message === 'string' && (d.message).includes('\ufffd') } },
  { name: 'lone surrogate', body: '{"message":"\\ud800","app_name":"corpus","marker":"surrogate"}', headers: json, status: 201, stored: { marker: 'surrogate', check: d => d.message === '\ud800' } },
  { name: 'newline log forging', body: ev({ marker: 'forged', message: 'ok\n{"level":"CRITICAL","message":"forged","app_name":"admin"}' }), headers: json, status: 201, stored: { marker: 'forged', check: d => (d.message as string).includes('\n{"level":"CRITICAL"') } },
  { name: 'CRLF forging', body: ev({ marker: 'crlf', message: 'a\r\nb' }), headers: json, status: 201, stored: { marker: 'crlf', check: d => d.message === 'a\r\nb' } },
  { name: 'Infinity through 1e400', body: '{"message":"m","app_name":"corpus","marker":"inf","n":1e400}', headers: json, status: 201, stored: { marker: 'inf', check: d => d.n === null } },
  { name: 'duplicate keys', body: '{"message":"first","message":"second","app_name":"corpus","marker":"dupkey"}', headers: json, status: 201, stored: { marker: 'dupkey', check: d => d.message === 'second' } },
  { name: 'client _id and received_at', body: ev({ marker: 'reserved', _id: 'x', received_at: 'y' }), headers: json, status: 201, stored: { marker: 'reserved', check: d => d.client__id === 'x' && d.client_received_at === 'y' && typeof d._id === 'string' && d._id !== 'x' } },
  { name: 'NDJSON partial batch', path: '/logs', body: [ev({}), '{bad', ev({ level: 'nope' }), ev({}), '[1,2]'].join('\n'), headers: ndjson, status: 200 },
  { name: 'NDJSON with nothing acceptable', path: '/logs', body: '{bad\n[]\n"x"', headers: ndjson, status: 400 },
  { name: 'NDJSON of blank lines', path: '/logs', body: '\n\r\n\n', headers: ndjson, status: 400 },
  { name: 'JSON array with one bad element among many', path: '/logs', body: `[${Array.from({ length: 500 }, (_, i) => i === 250 ? '{"app_name":"a"}' : ev({})).join(',')}]`, headers: json, status: 200 },
  { name: 'empty JSON array', path: '/logs', body: '[]', headers: json, status: 400 },
  { name: 'path traversal', path: '/../../etc/passwd', method: 'GET', status: 404 },
  { name: 'encoded dot segments (a route at most, never a file)', path: '/%2e%2e/%2e%2e/log', status: 400 },
  { name: 'unknown route', path: '/admin', method: 'GET', status: 404 },
  { name: 'GET on an ingest route', path: '/log', method: 'GET', status: 404 },
  { name: 'query string tricks are ignored', path: '/log?app_name=../../x&__proto__[a]=1', body: ev({ marker: 'query' }), headers: json, status: 201, stored: { marker: 'query', check: d => d.app_name === 'corpus' } }
]

t.test(`bad-input corpus (${cases.length} cases): the right 4xx or stored safely, never a 5xx, and the server stays up`, async t => {
  t.ok(cases.length >= 40)
  const c = await startCollector(t, { env: { BODY_LIMIT: '65536' } })
  for (const k of cases) {
    const res = await fetch(c.url + (k.path ?? '/log'), { method: k.method ?? 'POST', headers: k.headers, body: k.body })
    const text = await res.text()
    t.equal(res.status, k.status, `${k.name}: ${res.status} ${text.slice(0, 160)}`)
    if (res.status >= 400) {
      const answer = JSON.parse(text)
      t.match(answer.message, /\S/, `${k.name}: the error says what is wrong`)
      // A /logs batch with nothing acceptable answers its own documented shape (each element's error under `rejected`).
      if (!Array.isArray(answer.rejected)) {
        t.match(answer.code, /^MAAP_/, `${k.name}: a MAAP_ code (${String(answer.code)})`)
        t.same(undocumentedCodes(ERRORS_DOC, [String(answer.code)]), [], `${k.name}: ${String(answer.code)} is documented`)
      }
    }
    const good = await fetch(`${c.url}/log`, { method: 'POST', headers: json, body: ev({ after: k.name }) })
    t.equal(good.status, 201, `${k.name}: a good event right after is accepted`)
  }
  t.equal(c.child.exitCode, null, 'the collector is still running')
  const status = await (await fetch(`${c.url}/status`)).json() as { status: string }
  t.equal(status.status, 'operational')

  // What was stored: one journal line per accepted event (no forged lines), renamed as documented.
  t.equal(await c.stop('SIGTERM'), 0)
  const lines = readdirSync(c.logDir).filter(n => /^maap-\d{8}T/.test(n)).sort()
    .flatMap(n => readFileSync(join(c.logDir, n), 'utf8').split('\n').filter(l => l !== ''))
  const docs = lines.map(l => JSON.parse(l) as Record<string, unknown>)
  t.notOk(docs.some(d => d.message === 'forged'), 'a newline in a message never becomes a second event')
  for (const k of cases.filter(k => k.stored !== undefined)) {
    const found = docs.filter(d => d.marker === k.stored!.marker)
    t.equal(found.length, 1, `${k.name}: stored once`)
    t.ok(found[0] !== undefined && k.stored!.check(found[0]), `${k.name}: stored as documented`)
  }
})
