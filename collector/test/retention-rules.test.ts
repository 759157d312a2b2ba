// RETENTION_RULES as pure logic: the syntax and its errors, first match wins, the MongoDB filters a rule
// deletes with, the start-up warnings, the read side's per-line expiry (head level, app_name from the bytes)
// and a segment's expiry read from a real file.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'
import { ExpiryFilter, appOf } from '../src/read/expiry'
import { DAY_MS, RetentionPolicy } from '../src/retention/policy'
import { parseRetentionRules } from '../src/retention/rules'
import { SegmentExpiries, segmentExpiry } from '../src/retention/segment-expiry'
import { retentionWarnings } from '../src/retention/warnings'

const RULES = 'level=DEBUG|TRACE:3d, app=audit:400d, app=payments level=ERROR|CRITICAL:90d'
const NOW = Date.parse('2026-11-27T08:00:00.000Z')
const ago = (days: number): string => new Date(NOW - days * DAY_MS).toISOString()
const policyOf = (raw: string, defaultDays = 30): RetentionPolicy => new RetentionPolicy(parseRetentionRules(raw, 'RETENTION_RULES')!, defaultDays)

/** A journal line as ingest writes it: the head (timestamp, level) first. */
function line (e: { ts: string, level: string, app: string, extra?: Record<string, unknown> }): string {
  return JSON.stringify({ timestamp: e.ts, level: e.level, message: 'm', app_name: e.app, ...e.extra, _id: '0'.repeat(24), received_at: e.ts })
}

t.test('the syntax: conditions, sets of levels, ages, canonical labels', async t => {
  const rules = parseRetentionRules(` ${RULES} , app=a:b|c level=warn|fatal:12h, level=info:forever `, 'RETENTION_RULES')!
  t.same(rules.map(r => r.label), [
    'level=DEBUG|TRACE:3d', 'app=audit:400d', 'app=payments level=ERROR|CRITICAL:90d', 'app=a:b|c level=WARNING|CRITICAL:12h', 'level=INFO:forever'
  ])
  t.same(rules[2], { label: 'app=payments level=ERROR|CRITICAL:90d', apps: ['payments'], levels: ['ERROR', 'CRITICAL'], days: 90 })
  t.equal(rules[3]!.days, 0.5, 'hours are fractions of a day')
  t.same(rules[3]!.apps, ['a:b', 'c'], 'the age is after the last colon: an app may hold one')
  t.equal(rules[4]!.days, 0, 'forever')
  t.equal(parseRetentionRules(undefined, 'RETENTION_RULES'), undefined)
  t.same(loadConfig({ RETENTION_RULES: 'level=debug:3d' }).retentionRules!.map(r => r.label), ['level=DEBUG:3d'])
  t.equal(loadConfig({}).retentionRules, undefined)
})

t.test('a bad rule stops start-up naming it', async t => {
  const cases: Array<[string, RegExp]> = [
    ['level=LOUD:3d', /rule "level=LOUD:3d" has an unknown level "LOUD"/],
    ['app=audit', /rule "app=audit" is not <conditions>:<age>/],
    ['app=audit:400', /rule "app=audit:400" has an age "400"/],
    ['app=audit:0d', /has an age "0d"/],
    ['app=audit:-1d', /has an age "-1d"/],
    ['level=DEBUG:3d,,app=x:1d', /an empty rule/],
    ['level=DEBUG:3d,', /an empty rule/],
    ['host=x:3d', /rule "host=x:3d" has an unknown condition "host"/],
    ['app=:3d', /has a condition "app=" that is not/],
    ['app=a||b:3d', /has an empty app name/],
    ['app=a app=b:3d', /gives app= twice/],
    ['level=INFO level=DEBUG:3d', /gives level= twice/],
    [':3d', /has no condition/],
    ['level=DEBUG:3d, level=debug:5d', /rule "level=debug:5d" has the same conditions as an earlier one/],
    ['level=DEBUG|INFO:3d, level=INFO|DEBUG:5d', /rule "level=INFO\|DEBUG:5d" has the same conditions/],
    [`app=${'x'.repeat(300)}:3d`, /longer than 256 characters/],
    [Array.from({ length: 101 }, (_, i) => `app=a${i}:1d`).join(','), /more than 100 rules/]
  ]
  for (const [raw, message] of cases) {
    let err: unknown
    try {
      loadConfig({ RETENTION_RULES: raw })
    } catch (e) {
      err = e
    }
    t.ok(err instanceof ConfigError && err.variable === 'RETENTION_RULES', `${raw.slice(0, 60)}: a ConfigError for RETENTION_RULES`)
    t.match((err as Error).message, message)
    t.match((err as Error).message, /^Invalid RETENTION_RULES: /)
  }
})

t.test('first match wins; the default decides the rest', async t => {
  const p = policyOf(RULES)
  t.same(p.labels, ['level=DEBUG|TRACE:3d', 'app=audit:400d', 'app=payments level=ERROR|CRITICAL:90d', 'default'])
  t.same(p.days, [3, 400, 90, 30])
  t.equal(p.ruleOf('audit', 'DEBUG'), 0, 'a DEBUG event of audit: the level rule comes first')
  t.equal(p.ruleOf('audit', 'INFO'), 1)
  t.equal(p.ruleOf('payments', 'ERROR'), 2)
  t.equal(p.ruleOf('payments', 'INFO'), 3)
  t.equal(p.ruleOf('web', 'ERROR'), 3)
  t.equal(p.ruleOf(undefined, 'CRITICAL'), 3)
  t.equal(p.longestDays, 400)
  t.equal(p.shortestDays, 3)
  t.equal(policyOf('app=audit:forever').longestDays, 0, 'something kept forever: no TTL')
  t.equal(new RetentionPolicy([], 0).shortestDays, 0)
  t.ok(p.needsApp)
  t.notOk(policyOf('level=DEBUG:3d').needsApp, 'level rules alone never look for the app')
  t.same(p.cutoffs(NOW), [NOW - 3 * DAY_MS, NOW - 400 * DAY_MS, NOW - 90 * DAY_MS, NOW - 30 * DAY_MS])
  t.same(policyOf('app=a:forever', 0).cutoffs(NOW), [-Infinity, -Infinity])
})

t.test('the MongoDB filter of each rule: its conditions and none of an earlier rule\'s', async t => {
  const p = policyOf(RULES)
  const debug = { level: { $in: ['DEBUG', 'TRACE'] } }
  const audit = { app_name: { $in: ['audit'] } }
  const payments = { app_name: { $in: ['payments'] }, level: { $in: ['ERROR', 'CRITICAL'] } }
  t.same(p.filterOf(0), debug)
  t.same(p.filterOf(1), { ...audit, $nor: [debug] })
  t.same(p.filterOf(2), { ...payments, $nor: [debug, audit] })
  t.same(p.filterOf(3), { $nor: [debug, audit, payments] }, 'the default: what no rule matches')
  t.same(new RetentionPolicy([], 30).filterOf(0), {})
})

t.test('start-up warnings: a rule that never applies, a rule the caps cannot hold', async t => {
  const defaults = { maxDocuments: 100000, maxCollectionSize: 1073741824 }
  const settings = { mongodbUri: 'mongodb://localhost', logRetentionDays: 60, maxDocuments: 100000, maxCollectionSize: 0 }
  const warnings = retentionWarnings({ ...settings, retentionRules: parseRetentionRules('app=audit:400d, level=DEBUG|TRACE:3d, app=audit level=DEBUG:1d, app=x:forever', 'R') }, defaults)
  t.equal(warnings.length, 3)
  t.match(warnings[0], /rule "app=audit level=DEBUG:1d" never applies: "app=audit:400d" comes first/)
  t.match(warnings[1], /rule "app=audit:400d" keeps events 400 days, and past 250 events a day of what it matches.*MAX_DOCUMENTS=100000 \(the default\): the cap never deletes what a rule keeps/)
  t.match(warnings[2], /rule "app=x:forever" keeps events forever, and once what it matches pass MAX_DOCUMENTS=100000 \(the default\)/)
  const size = retentionWarnings({ ...settings, maxDocuments: 0, maxCollectionSize: 4000, retentionRules: parseRetentionRules('app=audit:400d', 'R') }, defaults)
  t.equal(size.length, 1)
  t.match(size[0], /past 10 bytes of events a day .* MAX_COLLECTION_SIZE=4000: /)
  t.notMatch(size[0], /the default/)
  t.same(retentionWarnings({ ...settings, retentionRules: parseRetentionRules('level=DEBUG:3d', 'R') }, defaults), [], 'shorter than LOG_RETENTION_DAYS: nothing to say')
  t.same(retentionWarnings({ ...settings, mongodbUri: undefined, retentionRules: parseRetentionRules('app=audit:400d', 'R') }, defaults), [], 'no caps without MongoDB')
  t.same(retentionWarnings({ ...settings, retentionRules: undefined }, defaults), [])
})

t.test('the read side: a line expires by its rule, decided from its head and bytes', async t => {
  let now = NOW
  const filter = new ExpiryFilter(policyOf(RULES), () => now)
  const expired = (e: Parameters<typeof line>[0]): boolean => {
    const buf = Buffer.from(line(e))
    return filter.expiredLine(buf, 0, buf.length, e.ts)
  }
  t.notOk(expired({ ts: ago(1), level: 'DEBUG', app: 'web' }), 'younger than every rule')
  t.ok(expired({ ts: ago(5), level: 'DEBUG', app: 'web' }))
  t.ok(expired({ ts: ago(5), level: 'DEBUG', app: 'audit' }), 'first match wins: DEBUG before audit')
  t.notOk(expired({ ts: ago(100), level: 'INFO', app: 'audit' }))
  t.ok(expired({ ts: ago(500), level: 'INFO', app: 'audit' }), 'older than every rule')
  t.notOk(expired({ ts: ago(60), level: 'ERROR', app: 'payments' }))
  t.ok(expired({ ts: ago(100), level: 'ERROR', app: 'payments' }))
  t.ok(expired({ ts: ago(40), level: 'INFO', app: 'web' }), 'the default')
  t.ok(expired({ ts: ago(40), level: 'INFO', app: 'web', extra: { ctx: { app_name: 'audit' } } }), 'a nested app_name does not pass for the event\'s')
  t.notOk(expired({ ts: ago(100), level: 'INFO', app: 'audit', extra: { ctx: { app_name: 'web' } } }))
  t.notOk(expired({ ts: ago(100), level: 'INFO', app: 'audit', extra: { note: '"app_name":"web"' } }), 'the key\'s bytes inside a string are escaped')
  t.ok(filter.allExpired(ago(401)))
  t.notOk(filter.allExpired(ago(399)))
  t.ok(filter.noneExpired(ago(2)))
  t.notOk(filter.noneExpired(ago(4)))
  // Parsed events (lines without the head).
  t.ok(filter.expiredEvent({ timestamp: ago(40), level: 'INFO', app_name: 'web' }))
  t.notOk(filter.expiredEvent({ timestamp: ago(40), level: 'INFO', app_name: 'audit' }))
  t.notOk(filter.expiredEvent({ timestamp: 7 }))
  // The cut-offs move with the clock.
  now += 2 * DAY_MS
  filter.refresh()
  const buf = Buffer.from(line({ ts: ago(1.5), level: 'DEBUG', app: 'web' }))
  t.ok(filter.expiredLine(buf, 0, buf.length, ago(1.5)), 'two days later, a day-and-a-half-old DEBUG event is past 3 days')

  const forever = new ExpiryFilter(policyOf('app=audit:forever', 0), () => NOW)
  t.notOk(forever.allExpired(ago(10000)))
  t.ok(forever.noneExpired(ago(10000)), 'everything kept forever')
  t.notOk(forever.expiredEvent({ timestamp: ago(10000), app_name: 'x' }))
})

t.test('appOf: the top-level app_name, from the bytes or by parsing', async t => {
  const of = (s: string): string | undefined => appOf(Buffer.from(s), 0, Buffer.byteLength(s))
  t.equal(of(line({ ts: ago(1), level: 'INFO', app: 'café' })), 'café')
  t.equal(of(line({ ts: ago(1), level: 'INFO', app: 'a"b' })), 'a"b', 'an escape is parsed')
  t.equal(of(line({ ts: ago(1), level: 'INFO', app: 'outer', extra: { in: { app_name: 'inner' } } })), 'outer')
  t.equal(of('{"timestamp":"2026-11-27T08:00:00.000Z","level":"INFO","app_name":"a\\u0062"}'), 'ab', 'a \\u escape is parsed')
  t.equal(of('not json'), undefined)
})

t.test('a segment expires when its last event does; its events are counted by rule', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'maap-seg-expiry-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const p = new RetentionPolicy(parseRetentionRules(RULES, 'R')!, 30)
  const lines = [
    line({ ts: ago(10), level: 'DEBUG', app: 'web' }), // expires 3 days after its timestamp
    line({ ts: ago(100), level: 'INFO', app: 'audit', extra: { big: 'x'.repeat(3 * 1024 * 1024) } }), // longer than one read
    JSON.stringify({ level: 'INFO', app_name: 'web', timestamp: ago(20), message: 'no head' }),
    'not an event',
    ''
  ]
  const path = join(dir, 'maap-20260101T000000Z-000001.ndjson')
  await writeFile(path, lines.join('\n') + line({ ts: ago(5), level: 'ERROR', app: 'payments' })) // the last line without its newline
  const e = await segmentExpiry(path, p)
  t.equal(e.expiresAt, NOW - 100 * DAY_MS + 400 * DAY_MS, 'the audit event holds it back longest')
  t.same(e.events, [1, 1, 1, 1])
  await writeFile(path, line({ ts: ago(1), level: 'INFO', app: 'audit' }) + '\n')
  t.equal((await segmentExpiry(path, policyOf('app=audit:forever'))).expiresAt, Infinity)
  await writeFile(path, JSON.stringify({ timestamp: 'when?', level: 'INFO', app_name: 'x' }) + '\n')
  t.equal((await segmentExpiry(path, p)).expiresAt, Infinity, 'a timestamp that does not read never expires')

  const cache = new SegmentExpiries(p)
  const first = await cache.of('s', path, 1, 1)
  t.equal(await cache.of('s', path, 1, 1), first, 'read once')
  t.not(await cache.of('s', path, 2, 1), first, 'a changed file is read again')
  t.same(cache.take('s'), [0, 0, 0, 1])
  t.equal(cache.take('s'), undefined)
})
