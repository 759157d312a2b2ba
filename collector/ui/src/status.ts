// The collector at a glance: MongoDB's state and the backlog (GET /status, every few seconds), and
// which store answered the last search. /status is an admin route: with an ADMIN_API_KEY set, a read
// key gets 403 there and the line says so instead of asking for another key.
import { ApiError, getJson } from './api'
import { byId, el } from './dom'

interface Status { mongodb_status?: string, buffer_size?: number | string }

export class StatusLine {
  private readonly host = byId('status')
  private source = ''
  private state: HTMLElement[] = []

  start (): void {
    const tick = async (): Promise<void> => {
      try {
        const s = await getJson<Status>('/status', { askKey: false })
        const mongo = s.mongodb_status ?? 'unknown'
        const label = mongo === 'not_configured' ? 'embedded (no MongoDB)' : `MongoDB ${mongo}`
        this.state = [
          el('span', `pill mongo-${mongo}`, label),
          el('span', 'pill', `backlog ${Number(s.buffer_size ?? 0).toLocaleString()}`)
        ]
      } catch (err) {
        this.state = [el('span', 'pill', err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? 'status needs the admin key'
          : 'collector unreachable')]
      }
      this.render()
    }
    void tick()
    setInterval(() => { void tick() }, 5000)
  }

  answeredBy (source: string): void {
    this.source = source
    this.render()
  }

  private render (): void {
    const parts = [...this.state]
    if (this.source !== '') parts.push(el('span', 'pill', `answered by ${this.source}`))
    this.host.replaceChildren(...parts)
  }
}
