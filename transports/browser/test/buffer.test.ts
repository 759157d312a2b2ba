import t from 'tap'
import { LineBuffer, utf8Length } from '../src/buffer.js'

t.test('UTF-8 length without encoding', async t => {
  for (const s of ['', 'abc', 'é', '€', '😀', 'a€😀é\u0000', '\u07ff\u0800\uffff']) {
    t.equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s))
  }
})

t.test('bounded: the oldest go past maxBytes, counted; one line over the bound alone is dropped', async t => {
  let dropped = 0
  const b = new LineBuffer(20, n => { dropped += n })
  t.ok(b.push('aaaa')) // 5 bytes with its newline
  t.ok(b.push('bbbb'))
  t.ok(b.push('cccc'))
  t.ok(b.push('dddd'))
  t.equal(b.bytes, 20)
  t.ok(b.push('eeeeeeeee')) // 10 bytes: two oldest go
  t.equal(dropped, 2)
  t.same([b.first, b.end, b.length, b.bytes], [2, 5, 3, 20])
  t.notOk(b.push('x'.repeat(20)), 'over the bound by itself')
  t.equal(dropped, 3)
  t.equal(b.end, 5, 'a line that never entered takes no number')
})

t.test('peek and remove: by count and bytes; the first line always, unless strict', async t => {
  const b = new LineBuffer(1000, () => {})
  for (const s of ['a', 'bb', 'ccc']) b.push(s)
  t.same(b.peek(2, 1000), { count: 2, bytes: 5, body: 'a\nbb\n' })
  t.same(b.peek(10, 4), { count: 1, bytes: 2, body: 'a\n' })
  t.same(b.peek(10, 1), { count: 1, bytes: 2, body: 'a\n' }, 'a line over maxBytes still goes alone')
  t.same(b.peek(10, 1, true), { count: 0, bytes: 0, body: '' }, 'strict: it waits')
  b.remove(2)
  t.same([b.first, b.length, b.bytes], [2, 1, 4])
  t.same(b.peek(10, 1000).body, 'ccc\n')
})
