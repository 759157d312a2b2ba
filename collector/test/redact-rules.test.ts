// Redaction's pure parts: the detectors (positives, look-alikes, adversarial 100 KB inputs), the
// redactor's field rules (names at any depth, dotted paths, `*`, case, arrays, any value type), its
// counts, and the settings' errors.
import t from 'tap'
import { loadConfig, ConfigError } from '@maap-event-logger/collector'
import { DETECTORS } from '../src/redact/detectors'
import { Redactor, REDACTED, sumRedaction } from '../src/redact/redactor'
import { parseRedactFields, parseRedactPatterns } from '../src/redact/rules'

/** `s` with one detector applied, and how many matches it replaced. */
function scrub (pattern: string, s: string): { text: string, n: number } {
  const r = new Redactor([], [pattern])
  const text = r.redactText(s)
  return { text, n: r.status().redacted_by_rule[`pattern:${pattern}`]! }
}

t.test('email: addresses in text, not things that only look a little like them', async t => {
  t.same(scrub('email', 'from a.b+tag@mail.example.co.uk, to X_Y%z@EXAMPLE.IO.'), { text: `from ${REDACTED}, to ${REDACTED}.`, n: 2 })
  t.same(scrub('email', 'user@host').n, 0, 'no top-level domain')
  t.same(scrub('email', 'a@b.c1').n, 0, 'a top-level domain is letters, two or more')
  t.same(scrub('email', '@example.com and x@').n, 0, 'no local part, no domain')
  t.same(scrub('email', 'a@@b.com .x@y.org'), { text: `a@@b.com .${REDACTED}`, n: 1 }, 'a local part does not start with a dot: it is left out')
})

t.test('card: 13 to 19 digits, a network\'s first digit, a valid Luhn digit, standing on their own', async t => {
  const valid = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '4111 1111 1111 1111', '4111-1111-1111-1111', '3782 822463 10005']
  for (const v of valid) t.same(scrub('card', `paid with ${v}.`), { text: `paid with ${REDACTED}.`, n: 1 }, v)
  const invalid = [
    '4111111111111112', // Luhn fails
    '1733480000000', // epoch milliseconds: no network starts with 1
    '4111111111', // too short
    '41111111111111111111', // 20 digits
    'id4111111111111111', '4111111111111111x', // digits next to letters (hex ids)
    '4111111 111111111' // a group of seven is not joined
  ]
  for (const v of invalid) t.same(scrub('card', `x ${v} y`).n, 0, v)
  t.same(scrub('card', '12 4111111111111111 5555555555554444'), { text: `12 ${REDACTED} ${REDACTED}`, n: 2 }, 'two cards side by side, after a short number')
})

t.test('bearer: the token after the word, which stays', async t => {
  t.same(scrub('bearer', 'Authorization: Bearer abc.DEF-123_xyz/+~=='), { text: `Authorization: Bearer ${REDACTED}`, n: 1 })
  t.same(scrub('bearer', 'BEARER  sk_live_12345678 then bearer\tAAAA1111BBBB'), { text: `BEARER  ${REDACTED} then bearer\t${REDACTED}`, n: 2 })
  t.same(scrub('bearer', 'the bearer of bad tidings, bearer short1, bearer:abcdefgh12, xbearer abcdefgh12').n, 0, 'words, short tokens, no space, inside a word')
})

t.test('jwt: three base64url segments, the header starting eyJ', async t => {
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'
  t.same(scrub('jwt', `token=${jwt}; next`), { text: `token=${REDACTED}; next`, n: 1 })
  t.same(scrub('jwt', `unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end`), { text: `unsigned ${REDACTED} end`, n: 1 }, 'an empty signature')
  t.same(scrub('jwt', 'eyJhbGciOiJIUzI1NiJ9 alone, eyJ.a.b, xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.s').n, 0, 'no dots, a short header, inside a word')
})

t.test('adversarial 100 KB inputs: every detector gives the right answer on text built to make scanners rescan', async t => {
  const K = 100_000
  const cases: Array<[string, string, number]> = [
    ['email', 'a@'.repeat(K / 2), 0],
    ['email', 'a'.repeat(K) + '@' + 'b.'.repeat(K / 2), 0],
    ['email', 'x@y.zz '.repeat(K / 7), Math.floor(K / 7)],
    ['card', '4 '.repeat(K / 2), 0],
    ['card', '4111-'.repeat(K / 5), 0],
    ['card', '1'.repeat(K), 0],
    ['bearer', 'bearer '.repeat(K / 7), 0],
    ['bearer', 'Bearer ' + 'a'.repeat(K), 0],
    ['bearer', 'bearer bearer1bearer '.repeat(K / 21), Math.floor(K / 21)],
    ['jwt', 'eyJ'.repeat(K / 3), 0],
    // Its first three segments are a token; every later 'eyJ' follows a dot, so it starts none.
    ['jwt', ('eyJ' + 'a'.repeat(20) + '.').repeat(K / 24), 1],
    ['jwt', 'eyJ.'.repeat(K / 4), 0]
  ]
  for (const [pattern, input, n] of cases) t.equal(scrub(pattern, input).n, n, `${pattern}: ${input.slice(0, 24)}… (${input.length} characters)`)
  const chain = ('eyJ' + 'a'.repeat(20) + '.').repeat(3)
  t.equal(scrub('jwt', chain).text, REDACTED + '.', 'a chain of three segments is one token')
})

t.test('quick tests settle strings without a match', async t => {
  t.notOk(DETECTORS.email!.quick('no at sign'))
  t.notOk(DETECTORS.card!.quick('123 456'))
  t.notOk(DETECTORS.bearer!.quick('Basic abc'))
  t.notOk(DETECTORS.jwt!.quick('eyj lower'))
})

t.test('fields: names at any depth, paths from the top, `*`, case, arrays, every value type', async t => {
  const r = Redactor.compile(['password', 'authorization', '*.token', 'user.auth.secret', 'list.key'], [])!
  const event = {
    level: 'info',
    app_name: 'a',
    message: 'password is not a value',
    PassWord: { nested: 'object', n: 1 },
    headers: { Authorization: 42, accept: 'json' },
    token: 'top level: not *.token',
    a: { TOKEN: ['x'], b: { token: 'too deep for *.token' } },
    user: { auth: { secret: null, other: 'kept' }, secret: 'kept' },
    list: [{ key: true, value: 'kept' }, { key: 'k' }]
  }
  t.ok(r.redact(event))
  t.same(event, {
    level: 'info',
    app_name: 'a',
    message: 'password is not a value',
    PassWord: REDACTED,
    headers: { Authorization: REDACTED, accept: 'json' },
    token: 'top level: not *.token',
    a: { TOKEN: REDACTED, b: { token: 'too deep for *.token' } },
    user: { auth: { secret: REDACTED, other: 'kept' }, secret: 'kept' },
    list: [{ key: REDACTED, value: 'kept' }, { key: REDACTED }]
  })
  t.same(r.status().redacted_by_rule, { 'field:password': 1, 'field:authorization': 1, 'field:*.token': 1, 'field:user.auth.secret': 1, 'field:list.key': 2 })
  t.notOk(r.redact({ message: 'm', other: { password_hint: 'x' } }), 'nothing matched: false, nothing counted')
  t.equal(r.status().redacted_by_rule['field:password'], 1)
})

t.test('detectors reach every string value and message, numbers for cards; the collector\'s own fields are left alone', async t => {
  const r = Redactor.compile(['message'], [])!
  const whole = { message: 'anything' }
  r.redact(whole)
  t.same(whole, { message: REDACTED }, 'message may be named: the whole of it goes')

  const d = Redactor.compile([], ['email', 'card'])!
  const event = { level: 'a@b.io', app_name: 'x@y.io', timestamp: 'c@d.io', message: 'to a@b.io', deep: [{ s: 'x@y.io' }], n: 4111111111111111, m: 1733480000000, k: 4111111111111112 }
  t.ok(d.redact(event))
  t.same(event, { level: 'a@b.io', app_name: 'x@y.io', timestamp: 'c@d.io', message: `to ${REDACTED}`, deep: [{ s: REDACTED }], n: REDACTED, m: 1733480000000, k: 4111111111111112 })
  t.same(d.status(), { rules: ['pattern:email', 'pattern:card'], redacted_by_rule: { 'pattern:email': 2, 'pattern:card': 1 } })
  t.same(d.countsByRule(), [['pattern:email', 2], ['pattern:card', 1]])
  t.equal(Redactor.compile([], []), undefined, 'no rules: no redactor')
})

t.test('workers\' counts add up', async t => {
  const a = { rules: ['pattern:email'], redacted_by_rule: { 'pattern:email': 2 } }
  const b = { rules: ['pattern:email'], redacted_by_rule: { 'pattern:email': 3 } }
  t.same(sumRedaction([a, undefined, b]), { rules: ['pattern:email'], redacted_by_rule: { 'pattern:email': 5 } })
  t.equal(sumRedaction([null, null]), null)
})

t.test('settings: parsed once, lower-cased; a bad entry stops start-up naming it', async t => {
  const config = loadConfig({ LOG_DIR: '/tmp', REDACT_FIELDS: ' Password, *.Token ,password,,', REDACT_PATTERNS: 'EMAIL, jwt' })
  t.same(config.redactFields, ['password', '*.token'])
  t.same(config.redactPatterns, ['email', 'jwt'])
  t.same(loadConfig({ LOG_DIR: '/tmp' }).redactFields, [])
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ REDACT_FIELDS: 'a..b' }, /Invalid REDACT_FIELDS: "a\.\.b" has an empty name/],
    [{ REDACT_FIELDS: 'pass*' }, /Invalid REDACT_FIELDS: "pass\*": `\*` stands for a whole name/],
    [{ REDACT_FIELDS: '*' }, /Invalid REDACT_FIELDS: "\*" would redact every field/],
    [{ REDACT_FIELDS: 'ok, App_Name' }, /Invalid REDACT_FIELDS: "App_Name" is set by the collector itself/],
    [{ REDACT_FIELDS: 'a b' }, /holds a space/],
    [{ REDACT_FIELDS: 'x'.repeat(300) }, /longer than 256/],
    [{ REDACT_PATTERNS: 'email, ssn' }, /Invalid REDACT_PATTERNS: "ssn" is not a detector; expected some of email, card, bearer, jwt/]
  ]
  for (const [env, message] of bad) t.throws(() => loadConfig({ LOG_DIR: '/tmp', ...env }), { name: 'ConfigError', message }, JSON.stringify(env))
  t.ok(new ConfigError('X', 'y'))
  t.same(parseRedactFields(undefined), [])
  t.same(parseRedactPatterns(undefined), [])
})
