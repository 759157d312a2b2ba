// Methods Node has on every Buffer that @types/node does not declare: what toString() and write() call
// once they have checked their arguments. The hot paths that use them have checked theirs already.
import 'node:buffer'

declare module 'node:buffer' {
  interface Buffer {
    utf8Slice: (start: number, end: number) => string
    latin1Slice: (start: number, end: number) => string
    /** Writes `s` (one byte per character) at `offset`; returns the bytes written. */
    latin1Write: (s: string, offset: number, length?: number) => number
    /** Writes `s` as UTF-8 at `offset`, at most `length` bytes; returns the bytes written. */
    utf8Write: (s: string, offset: number, length?: number) => number
  }
}
