// The surroundings of a page, faked for unit tests in Node: a fetch that answers as the test says (or
// holds the request until the test answers it), a clock moved by hand, sendBeacon, and pagehide /
// visibilitychange fired on demand. What Chromium does for real is in test/browser.test.ts.
import type { Answer, Env } from '../src/env.js'

export type Reply = { status: number, body?: unknown, headers?: Record<string, string> } | 'network-error' | 'hold'

export interface SeenRequest {
  url: URL
  init: RequestInit
  body: string
  lines: Array<Record<string, unknown>>
  /** Answers a held request. */
  answer: (reply: Exclude<Reply, 'hold'>) => void
}

export class FakePage {
  time = 1_700_000_000_000
  readonly requests: SeenRequest[] = []
  readonly beacons: Array<{ url: URL, body: string, lines: Array<Record<string, unknown>> }> = []
  /** What sendBeacon answers (false: over the browser's keepalive budget). */
  beaconAccepts = true
  /** Each timer's length as asked for. */
  readonly requested: number[] = []
  private readonly timers = new Map<number, { at: number, fn: () => void }>()
  private seq = 0
  private hide: (() => void) | undefined
  private show: (() => void) | undefined
  listening = false

  constructor (private readonly reply: (req: SeenRequest, n: number) => Reply = () => ({ status: 200, body: { status: 'ok' } }),
    withBeacon = true) {
    if (withBeacon) {
      this.env.sendBeacon = (url, body) => {
        if (!this.beaconAccepts) return false
        this.beacons.push({ url: new URL(url), body, lines: parseLines(body) })
        return true
      }
    }
  }

  get pendingTimers (): number { return this.timers.size }

  readonly env: Env = {
    fetch: async (url, init) => await new Promise<Answer>((resolve, reject) => {
      const body = String(init.body)
      const req: SeenRequest = {
        url: new URL(url),
        init,
        body,
        lines: parseLines(body),
        answer: reply => {
          if (reply === 'network-error') {
            reject(new TypeError('Failed to fetch'))
            return
          }
          const headers = new Map(Object.entries(reply.headers ?? {}))
          resolve({
            status: reply.status,
            headers: { get: name => headers.get(name.toLowerCase()) ?? null },
            text: async () => typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {})
          })
        }
      }
      this.requests.push(req)
      const r = this.reply(req, this.requests.length - 1)
      if (r !== 'hold') req.answer(r)
    }),
    now: () => this.time,
    setTimeout: (fn, ms) => {
      const id = ++this.seq
      this.requested.push(ms)
      this.timers.set(id, { at: this.time + ms, fn })
      return id
    },
    clearTimeout: id => { this.timers.delete(id as number) },
    random: () => 0.5,
    sendBeacon: undefined,
    watchPage: (onHide, onShow) => {
      this.hide = onHide
      this.show = onShow
      this.listening = true
      return () => { this.listening = false }
    }
  }

  pageHidden (): void { this.hide?.() }
  pageShown (): void { this.show?.() }

  /** Moves time on by `ms`, firing each timer that comes due, earliest first, letting promises run between. */
  async advance (ms: number): Promise<void> {
    const end = this.time + ms
    for (;;) {
      await settled()
      let next: [number, { at: number, fn: () => void }] | undefined
      for (const entry of this.timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      this.timers.delete(next[0])
      this.time = Math.max(this.time, next[1].at)
      next[1].fn()
    }
    this.time = end
    await settled()
  }
}

function parseLines (body: string): Array<Record<string, unknown>> {
  return body.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
}

/** Lets every pending promise reaction run (the logger's fetch answers are promises). */
export async function settled (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>(resolve => setImmediate(resolve))
}
