// One request's journal lines, built as UTF-8 bytes in one growing buffer and handed to the journal as
// they are (JournalWriter.append takes a Buffer), so no line is built as a string only to be encoded
// again. The OTLP direct path (otlp/direct-lines.ts) writes its lines' bytes here itself; a line made as
// text (normaliseEvent's) is written in beside them, in the request's order.
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')

export class LineBuffer {
  buf: Buffer
  /** Bytes written so far: the lines are buf[0, pos). */
  pos = 0

  constructor (sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(sizeHint, 4096))
  }

  /** Makes room for `n` more bytes (buf may be replaced; callers re-read it after this). */
  reserve (n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** Appends `s` as UTF-8. */
  text (s: string): void {
    this.reserve(s.length * 3)
    this.pos += this.buf.utf8Write(s, this.pos)
  }

  /** Appends bytes (within what reserve() made room for). */
  put (bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /** Appends a number as JSON.stringify writes it (integers digit by digit: most numbers in logs are). */
  number (n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n < 1e15)) {
      this.latin1(String(n))
      return
    }
    const buf = this.buf
    if (n < 10) {
      buf[this.pos++] = 48 + n
      return
    }
    let digits = 1
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++
    let p = this.pos + digits
    this.pos = p
    if (n <= 0x7fffffff) {
      // Small integers in 32-bit arithmetic.
      do {
        const q = (n / 10) | 0
        buf[--p] = 48 + n - q * 10
        n = q
      } while (n > 0)
      return
    }
    do {
      buf[--p] = 48 + n % 10
      n = Math.floor(n / 10)
    } while (n > 0)
  }

  /**
   * Appends the UTF-8 text src[at, end) as a JSON string: copied as it is when it is ASCII with nothing to
   * escape, else as JSON.stringify writes the text (invalid bytes read as U+FFFD, as Buffer#toString reads
   * them). Takes at most 6 bytes per byte of text, plus 2.
   */
  jsonText (src: Buffer, at: number, end: number): void {
    const buf = this.buf
    const start = this.pos
    buf[start] = 34 // "
    // A short text is checked and copied byte by byte; a longer one checked, then copied in one call.
    const short = end - at < 24
    let p = start + 1
    for (let i = at; i < end; i++) {
      const b = src[i]!
      if (b < 0x20 || b === 0x22 || b === 0x5c || b >= 0x80) {
        this.pos = start + buf.utf8Write(JSON.stringify(src.utf8Slice(at, end)), start)
        return
      }
      if (short) buf[p++] = b
    }
    if (!short) p += src.copy(buf, p, at, end)
    buf[p++] = 34
    this.pos = p
  }

  /** Appends src[at, end) as lowercase hex. */
  hex (src: Uint8Array, at: number, end: number): void {
    const buf = this.buf
    let p = this.pos
    for (let i = at; i < end; i++) {
      const b = src[i]!
      buf[p++] = HEX_DIGITS[b >>> 4]!
      buf[p++] = HEX_DIGITS[b & 0xf]!
    }
    this.pos = p
  }

  /** Appends text known to be one byte per character (digits, base64, names). */
  latin1 (s: string): void {
    this.pos += this.buf.latin1Write(s, this.pos)
  }

  /** What was written; the buffer is the caller's from now on. */
  lines (): Buffer {
    return this.buf.subarray(0, this.pos)
  }
}
