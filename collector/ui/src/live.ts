// Live: the tail's events at the top of the results, as they are acknowledged.
//
//   tail (sse.ts) → incoming → once a frame ─┬─ at the top and not paused → shown at the top
//                                            └─ scrolled down, or paused  → pending ("N new")
//   "N new", scrolling back up or resuming → pending shown, nothing lost, nothing twice (rows by _id).
// A pause keeps the stream open so "N new" keeps counting; past MAX_PENDING events it closes the stream
// and remembers the last id, and resuming opens a new tail from that id (the tail's Last-Event-ID).
import type { Hit } from './api'
import { apiParams, type Query } from './query'
import type { ResultsView } from './results'
import { openTail, type Tail } from './sse'

const MAX_PENDING = 2000
const TOP_PX = 48

export class Live {
  private tail: Tail | null = null
  private on = false
  private paused = false
  private resumeFrom: string | undefined
  private incoming: Hit[] = []
  private pending: Hit[] = []
  private frame = 0
  private state = 'off'

  constructor (private readonly button: HTMLButtonElement, private readonly badge: HTMLButtonElement,
    private readonly results: ResultsView, private readonly query: () => Query) {
    button.addEventListener('click', () => {
      if (!this.on) { this.on = true; this.paused = false; this.open(undefined) } else if (this.paused) this.resume()
      else this.pause()
    })
    badge.addEventListener('click', () => {
      scrollTo({ top: 0 })
      if (this.paused) this.resume()
      else this.flush()
    })
    addEventListener('scroll', () => { if (!this.paused && scrollY < TOP_PX && this.pending.length > 0) this.flush() }, { passive: true })
    this.render()
  }

  /** The query changed: a running tail starts again on the new filters; a paused one is dropped. */
  restart (): void {
    this.tail?.close()
    this.tail = null
    this.incoming = []
    this.pending = []
    this.resumeFrom = undefined
    if (this.on && !this.paused) this.open(undefined)
    else { this.on = false; this.paused = false; this.state = 'off' }
    this.render()
  }

  private open (from: string | undefined): void {
    const path = `/logs/tail?${apiParams(this.query(), { range: false }).toString()}`
    this.tail = openTail(path, from, {
      onEvent: data => {
        try { this.incoming.push(JSON.parse(data) as Hit) } catch { return }
        if (this.frame === 0) this.frame = requestAnimationFrame(() => this.drain())
      },
      onState: (state, detail) => {
        this.state = state
        this.button.title = detail === undefined ? 'Follow new events as they arrive' : `Reconnecting: ${detail}`
        if (state === 'stopped' && detail !== undefined) {
          // Refused for good (a query that does not parse): off, and the button says why.
          this.tail = null
          this.on = false
          this.button.title = `Live stopped: ${detail}`
        }
        this.render()
      }
    })
  }

  private drain (): void {
    this.frame = 0
    const batch = this.incoming
    this.incoming = []
    if (!this.paused && scrollY < TOP_PX && this.pending.length === 0) {
      this.results.add(batch.reverse(), 'top')
    } else {
      this.pending.push(...batch)
      if (this.pending.length >= MAX_PENDING && this.tail !== null) {
        // Enough held in memory: the journal holds the rest, to be read again from this id.
        this.resumeFrom = this.tail.lastId()
        this.tail.close()
        this.tail = null
        this.state = 'held'
      }
    }
    this.render()
  }

  private flush (): void {
    if (this.pending.length > 0) this.results.add(this.pending.reverse(), 'top')
    this.pending = []
    if (this.tail === null && this.on && !this.paused) {
      this.open(this.resumeFrom)
      this.resumeFrom = undefined
    }
    this.render()
  }

  private pause (): void {
    this.paused = true
    this.render()
  }

  private resume (): void {
    this.paused = false
    scrollTo({ top: 0 })
    this.flush()
  }

  private render (): void {
    const mode = !this.on ? 'off' : this.paused ? 'paused' : this.state
    document.body.dataset.live = mode
    this.button.classList.toggle('on', this.on && !this.paused)
    this.button.classList.toggle('paused', this.paused)
    this.button.setAttribute('aria-pressed', String(this.on && !this.paused))
    this.button.lastChild!.textContent = !this.on ? 'Live' : this.paused ? 'Paused' : mode === 'live' ? 'Live' : 'Connecting…'
    const n = this.pending.length + (this.paused || scrollY >= TOP_PX ? this.incoming.length : 0)
    this.badge.hidden = n === 0
    this.badge.textContent = `${n >= MAX_PENDING ? `${MAX_PENDING.toLocaleString()}+` : n.toLocaleString()} new ${this.paused ? '· resume' : '↑'}`
    document.body.dataset.pending = String(n)
  }
}
