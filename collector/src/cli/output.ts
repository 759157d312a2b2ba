// Where events go: stdout, with its backpressure passed on (a slow pager slows the reading of the
// collector, never fills our memory), and a closed pipe (`maap-logs search | head`) taken as "done".
import type { Writable } from 'node:stream'
import { styleOf } from './style'
import { formatEvent } from './format'
import { drainedOrClosed } from '../streams'

export class Output {
  /** Set once the reader went away (EPIPE): stop reading, exit 0. */
  closed = false
  private readonly style

  constructor (private readonly out: Writable, private readonly opts: { json: boolean, color: boolean, utc: boolean }) {
    this.style = styleOf(opts.color)
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err
      this.closed = true
    })
  }

  /** Writes text as it is; waits while stdout's buffer is full. */
  async raw (text: string): Promise<void> {
    if (this.closed || text === '') return
    if (!this.out.write(text)) await drainedOrClosed(this.out)
  }

  /** One event from its JSON text: that text itself with --json, else a readable line. */
  line (json: string): string {
    if (this.opts.json) return json + '\n'
    let event: unknown
    try {
      event = JSON.parse(json)
    } catch {
      return json + '\n' // not ours to judge: shown as it came
    }
    return this.event(event as Record<string, unknown>)
  }

  /** One parsed event. */
  event (event: Record<string, unknown>): string {
    return this.opts.json ? JSON.stringify(event) + '\n' : formatEvent(event, this.style, this.opts.utc, new Date()) + '\n'
  }
}
