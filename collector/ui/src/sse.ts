// GET /logs/tail read with fetch() rather than EventSource, because EventSource cannot send the
// Authorization header (and a key in the URL would end up in logs and history).
//
//   fetch(/logs/tail?filters, Last-Event-ID) → bytes → TextDecoder → lines → messages
//     "event: ready" → onReady          (the stream is live)
//     "id: … data: {…}" → onEvent(id)   (id remembered: a reconnect asks for what follows it)
//   stream ends or fails → wait `retry` ms → fetch again with Last-Event-ID: nothing is lost or repeated.
//   400 (filters the collector refuses) → stopped, with its message: no retry would be answered otherwise.
import { askForKey, authHeaders } from './auth'

export interface TailHandlers {
  onEvent: (data: string, id: string) => void
  onState: (state: 'connecting' | 'live' | 'retrying' | 'stopped', detail?: string) => void
}

export interface Tail {
  /** The id of the last message received: pass it to the next openTail to go on from there. */
  lastId: () => string | undefined
  close: () => void
}

export function openTail (path: string, from: string | undefined, h: TailHandlers): Tail {
  let lastId = from
  let retryMs = 1000
  let stopped = false
  let controller: AbortController | null = null
  let timer: ReturnType<typeof setTimeout> | undefined

  const dispatch = (block: string): void => {
    if (stopped) return
    let event = 'message'
    let data: string[] = []
    let id: string | undefined
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const name = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (name === 'event') event = value
      else if (name === 'data') data.push(value)
      else if (name === 'id') id = value
      else if (name === 'retry' && /^\d+$/.test(value)) retryMs = Number(value)
    }
    if (id !== undefined) lastId = id
    if (event === 'ready') h.onState('live')
    else if (event === 'message' && data.length > 0) h.onEvent(data.join('\n'), lastId ?? '')
    data = []
  }

  const connect = async (): Promise<void> => {
    controller = new AbortController()
    h.onState('connecting')
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() }
      if (lastId !== undefined) headers['last-event-id'] = lastId
      const res = await fetch(path, { headers, signal: controller.signal, cache: 'no-store' })
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel()
        await askForKey(res.status === 403)
        return schedule(0)
      }
      if (!res.ok || res.body === null) {
        const body = await res.json().catch(() => null) as { message?: string } | null
        if (res.status === 400) {
          // The filters themselves were refused: asking again would be refused again.
          stopped = true
          h.onState('stopped', body?.message ?? '400')
          return
        }
        const wait = Number(res.headers.get('retry-after') ?? '')
        return schedule(Number.isFinite(wait) && wait > 0 ? wait * 1000 : retryMs, body?.message ?? `${res.status}`)
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buf = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buf += value.includes('\r') ? value.replace(/\r\n?/g, '\n') : value
        let end: number
        while ((end = buf.indexOf('\n\n')) !== -1) {
          dispatch(buf.slice(0, end))
          buf = buf.slice(end + 2)
        }
      }
      schedule(retryMs, 'the collector closed the stream')
    } catch (err) {
      if (stopped) return
      schedule(retryMs, (err as Error).message)
    }
  }

  function schedule (ms: number, why?: string): void {
    if (stopped) return
    h.onState('retrying', why)
    timer = setTimeout(() => { void connect() }, ms)
  }

  void connect()
  return {
    lastId: () => lastId,
    close: () => {
      stopped = true
      clearTimeout(timer)
      controller?.abort()
      h.onState('stopped')
    }
  }
}
