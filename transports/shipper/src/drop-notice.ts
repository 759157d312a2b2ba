// The stderr line for drops, at most one per second. A collector that stays down drops a batch every
// few milliseconds at full rate; one line each would bury the application's own output. The first drop
// is printed at once; later ones are summed and printed a second after the last line (timer unref'd),
// or by flush() when the shipper closes — so the final count always gets out.
import { stderrLine } from './stderr'

const QUIET_MS = 1000

export class DropNotice {
  #pending = 0
  #reasons = new Set<string>()
  #lastLine = 0
  #timer: NodeJS.Timeout | undefined
  readonly #total: () => number

  constructor (total: () => number) {
    this.#total = total
  }

  add (n: number, reason: string): void {
    this.#pending += n
    this.#reasons.add(reason)
    if (Date.now() - this.#lastLine >= QUIET_MS) {
      this.flush()
      return
    }
    this.#timer ??= setTimeout(() => this.flush(), QUIET_MS).unref()
  }

  flush (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending === 0) return
    stderrLine(`maap-shipper: dropped ${this.#pending} records: ${[...this.#reasons].join(', ')} (dropped so far: ${this.#total()})`)
    this.#pending = 0
    this.#reasons.clear()
    this.#lastLine = Date.now()
  }
}
