// How many events of a request each app_name holds, for the quota check (quota.ts).
//
//   /log, /logs: each accepted event's app_name ─► add() ─┐
//   /v1/logs: the journal lines ─► addLines() ────────────┴─► per app counts (one entry per app)
//
// Batches are mostly one app, so a run of the same app costs a string comparison and an increment; a Map
// is made only when a second app appears.

const APP_KEY = Buffer.from('"app_name":"')
const QUOTE = 0x22
const BACKSLASH = 0x5c
const NEWLINE = 0x0a

export class AppTally {
  #app: string | undefined
  #count = 0
  #more: Map<string, number> | undefined

  add (app: string, events = 1): void {
    if (app === this.#app) {
      this.#count += events
      return
    }
    if (this.#app !== undefined) {
      this.#more ??= new Map()
      this.#more.set(this.#app, (this.#more.get(this.#app) ?? 0) + this.#count)
    }
    const before = this.#more?.get(app)
    if (before !== undefined) this.#more!.delete(app)
    this.#app = app
    this.#count = events + (before ?? 0)
  }

  /**
   * Adds the app_name of each journal line in `lines` (OTLP's lines, which the collector wrote: the
   * event's own app_name is the first `"app_name":` of its line, after the head, the time fields and the
   * _id). Consecutive lines of one app (one resource and scope) are compared as bytes, not decoded.
   */
  addLines (lines: Buffer): void {
    let start = 0
    let prevStart = 0
    let prevEnd = 0
    while (start < lines.length) {
      let end = lines.indexOf(NEWLINE, start)
      if (end === -1) end = lines.length
      const at = lines.indexOf(APP_KEY, start)
      if (at !== -1 && at < end) {
        const from = at + APP_KEY.length
        const to = stringEnd(lines, from, end)
        if (prevEnd > 0 && to - from === prevEnd - prevStart && lines.compare(lines, prevStart, prevEnd, from, to) === 0) {
          this.#count++
        } else {
          const raw = lines.toString('utf8', from, to)
          this.add(raw.includes('\\') ? JSON.parse('"' + raw + '"') as string : raw)
          prevStart = from
          prevEnd = to
        }
      }
      start = end + 1
    }
  }

  /** Each app once, with its events. */
  entries (): Array<[string, number]> {
    const out: Array<[string, number]> = this.#more === undefined ? [] : [...this.#more]
    if (this.#app !== undefined) out.push([this.#app, this.#count])
    return out
  }
}

/** Where the JSON string starting at `from` ends (its closing quote), skipping escapes. */
function stringEnd (buf: Buffer, from: number, limit: number): number {
  for (let i = from; i < limit; i++) {
    const c = buf[i]
    if (c === BACKSLASH) i++
    else if (c === QUOTE) return i
  }
  return limit
}
