// A small protobuf writer for tests: OTLP logs requests built field by field, so a test can make what
// the official serializer never writes (repeated fields, unknown fields, any field order, invalid UTF-8,
// negative enums) as well as what it does.

export type Bytes = Uint8Array

export function varint (n: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(n))
  const out: number[] = []
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
  return Uint8Array.from(out)
}

export const cat = (...parts: Bytes[]): Buffer => Buffer.concat(parts)
const tag = (field: number, wire: number): Bytes => varint((field << 3) | wire)

export const lenField = (field: number, bytes: Bytes | string): Buffer =>
  cat(tag(field, 2), varint(typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length), typeof bytes === 'string' ? Buffer.from(bytes) : bytes)
export const varintField = (field: number, n: number | bigint): Buffer => cat(tag(field, 0), varint(n))

export function fixed64Field (field: number, n: bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt.asUintN(64, n))
  return cat(tag(field, 1), b)
}

export function fixed32Field (field: number, n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return cat(tag(field, 5), b)
}

export function doubleField (field: number, d: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(d)
  return cat(tag(field, 1), b)
}

// AnyValue and KeyValue.
export const str = (s: string | Bytes): Buffer => lenField(1, s)
export const bool = (b: boolean): Buffer => varintField(2, b ? 1 : 0)
export const int = (n: number | bigint): Buffer => varintField(3, n)
export const double = (d: number): Buffer => doubleField(4, d)
export const array = (...values: Bytes[]): Buffer => lenField(5, cat(...values.map(v => lenField(1, v))))
export const kvlist = (...kvs: Bytes[]): Buffer => lenField(6, cat(...kvs.map(kv => lenField(1, kv))))
export const bytes = (b: Bytes): Buffer => lenField(7, b)
export const keyValue = (key: string | Bytes, value?: Bytes): Buffer => cat(lenField(1, key), ...(value === undefined ? [] : [lenField(2, value)]))

/** LogRecord fields (any order, any repeats) → ResourceLogs { resource, scope_logs { scope, records } } → request. */
export const logRecord = (...fields: Bytes[]): Buffer => cat(...fields)
export const scopeLogs = (scope: Bytes, records: Bytes[]): Buffer => cat(lenField(1, scope), ...records.map(r => lenField(2, r)))
export const resourceLogs = (resource: Bytes, scopes: Bytes[]): Buffer => cat(lenField(1, resource), ...scopes.map(s => lenField(2, s)))
export const request = (...resources: Bytes[]): Buffer => cat(...resources.map(r => lenField(1, r)))

/** A seeded generator of numbers in [0, 1) (mulberry32), so a generated case reproduces from its seed. */
export function rng (seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
