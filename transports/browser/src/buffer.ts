// The events waiting to be sent, as NDJSON lines, bounded in bytes: past the bound the oldest go (and
// are counted), so a page whose collector is away keeps its newest events and its memory.
//
//   push(line) ──► [ oldest … newest ] ──peek(count, bytes)──► a batch body ──remove(n)──►
//                     ▲ drop oldest past maxBytes
//
// Lines are numbered in the order they were pushed; the buffer always holds the contiguous range
// [first, end), which lets flush() wait for "everything logged before me" with two numbers.

/** Bytes of `s` as UTF-8, without encoding it. */
export function utf8Length (s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1 // a surrogate pair: 2 + 2 = 4 bytes
  }
  return n
}

export interface Peeked { count: number, bytes: number, body: string }

export class LineBuffer {
  private lines: string[] = []
  private sizes: number[] = []
  /** Bytes held, newlines included. */
  bytes = 0
  /** The number of the oldest line held. */
  first = 0

  constructor (private readonly maxBytes: number, private readonly onDrop: (count: number) => void) {}

  get length (): number { return this.lines.length }
  /** One past the number of the newest line held. */
  get end (): number { return this.first + this.lines.length }

  /** Adds a line; false when it alone is over the bound (then it is dropped and counted). */
  push (line: string): boolean {
    const size = utf8Length(line) + 1
    if (size > this.maxBytes) {
      this.onDrop(1)
      return false
    }
    let dropped = 0
    while (this.bytes + size > this.maxBytes) {
      this.bytes -= this.sizes.shift()!
      this.lines.shift()
      this.first++
      dropped++
    }
    if (dropped > 0) this.onDrop(dropped)
    this.lines.push(line)
    this.sizes.push(size)
    this.bytes += size
    return true
  }

  /**
   * The oldest lines that fit in `maxCount` and `maxBytes`, as one body; the first line is taken even
   * when it alone is over `maxBytes` unless `strict` (an unload batch must fit its budget or wait).
   */
  peek (maxCount: number, maxBytes: number, strict = false): Peeked {
    let count = 0
    let bytes = 0
    while (count < this.lines.length && count < maxCount) {
      const size = this.sizes[count]!
      if (bytes + size > maxBytes && (count > 0 || strict)) break
      bytes += size
      count++
    }
    return { count, bytes, body: count === 0 ? '' : this.lines.slice(0, count).join('\n') + '\n' }
  }

  /** Removes the `count` oldest lines (after a peek). */
  remove (count: number): void {
    for (let i = 0; i < count; i++) this.bytes -= this.sizes[i]!
    this.lines.splice(0, count)
    this.sizes.splice(0, count)
    this.first += count
  }
}
