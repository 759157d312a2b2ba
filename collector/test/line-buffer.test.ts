// The byte-writing helpers of the OTLP direct path: each writes what its text twin (String, isoFromMillis,
// newObjectIdHex) writes, and the buffer grows without losing what it holds.
import t from 'tap'
import { LineBuffer } from '../src/journal/line-buffer'
import { isoFromMillis, MAX_DATE_MS, writeIsoFromMillis } from '../src/normalise/iso-time'
import { newObjectIdHex, writeObjectIdHex } from '../src/normalise/object-id'

t.test('number() writes what String() does', async t => {
  const numbers = [0, 9, 10, 99, 100, 4242, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 999999999999999, 1e15, 2 ** 53 - 1, 1e21, -0, -1, -4242, 0.5, 12.5, 1e-7, 5e-324, 1e300]
  const out = new LineBuffer(0)
  for (const n of numbers) {
    out.number(n)
    out.text(' ')
  }
  t.equal(out.lines().toString('latin1'), numbers.map(n => String(n) + ' ').join(''))
})

t.test('the buffer grows past its first size and keeps what it held', async t => {
  const out = new LineBuffer(0)
  const first = out.buf
  const text = 'é'.repeat(3000) + '\n'
  for (let i = 0; i < 5; i++) out.text(text)
  out.reserve(10)
  out.put(Buffer.from('0123456789'))
  t.not(out.buf, first, 'a larger buffer was taken')
  t.equal(out.lines().toString('utf8'), text.repeat(5) + '0123456789')
})

t.test('writeIsoFromMillis writes isoFromMillis\'s 24 characters', async t => {
  const buf = Buffer.alloc(26, '.')
  for (const ms of [0, 1, 999.9, 1767225600123.75, 1767225600999, 1767225601000, MAX_DATE_MS]) {
    writeIsoFromMillis(buf, 1, ms)
    t.equal(buf.toString('latin1'), '.' + isoFromMillis(ms) + '.', String(ms))
  }
})

t.test('writeObjectIdHex draws from the same counter as newObjectIdHex', async t => {
  const now = 1767225600000
  const a = newObjectIdHex(now)
  const buf = Buffer.alloc(24)
  writeObjectIdHex(buf, 0, now)
  const b = buf.toString('latin1')
  const c = newObjectIdHex(now)
  t.match(b, /^[0-9a-f]{24}$/)
  t.equal(b.slice(0, 18), a.slice(0, 18), 'same seconds and process bytes')
  t.equal(parseInt(b.slice(18), 16), (parseInt(a.slice(18), 16) + 1) & 0xffffff, 'the next count')
  t.equal(parseInt(c.slice(18), 16), (parseInt(b.slice(18), 16) + 1) & 0xffffff)
})
