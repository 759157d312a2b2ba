// The decoder's varints against BigInt arithmetic: one-byte and ten-byte values, the 32/64-bit edges,
// negative numbers (ten bytes on the wire), and every length between, seeded.
import t from 'tap'
import { OtlpDecodeError } from '../../src/otlp/model'
import { Reader } from '../../src/otlp/protobuf'
import { rng, varint } from './encode'

const read = (n: bigint, as: 'uint32' | 'int64'): number | string => {
  const buf = Buffer.from(varint(n))
  const r = new Reader(buf, 20)
  const v = as === 'uint32' ? r.uint32(buf.length) : r.int64(buf.length)
  if (r.pos !== buf.length) throw new Error(`read ${r.pos} of ${buf.length} bytes`)
  return v
}
const int64Of = (n: bigint): number | string => {
  const signed = BigInt.asIntN(64, n)
  return signed >= -(2n ** 53n) + 1n && signed <= 2n ** 53n - 1n ? Number(signed) : signed.toString()
}

t.test('uint32 keeps the low 32 bits; int64 is exact (a number within ±2^53, else decimal text)', async t => {
  const random = rng(3)
  const values = [0n, 1n, 127n, 128n, 300n, 2n ** 28n - 1n, 2n ** 28n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n + 5n,
    2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -2n, -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 63n), 2n ** 64n - 1n]
  for (let i = 0; i < 2000; i++) {
    const bits = BigInt(Math.floor(random() * 64) + 1)
    values.push(BigInt(Math.floor(random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(random() * 2 ** 32)) & (2n ** bits - 1n))
  }
  const wrong = values.filter(v => read(v, 'uint32') !== Number(BigInt.asUintN(32, v)) || read(v, 'int64') !== int64Of(v))
  t.same(wrong.map(String), [])
})

t.test('a varint past 10 bytes, or cut short, is refused', async t => {
  const eleven = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
  const cut = Buffer.from([0xff, 0xff])
  const refused = (read: () => unknown): boolean => {
    try {
      read()
      return false
    } catch (err) {
      return err instanceof OtlpDecodeError
    }
  }
  for (const buf of [eleven, cut]) {
    t.ok(refused(() => new Reader(buf, 20).uint32(buf.length)), `uint32 of ${buf.length} bytes`)
    t.ok(refused(() => new Reader(buf, 20).int64(buf.length)), `int64 of ${buf.length} bytes`)
  }
})
