// maap-logs tail: follows GET /logs/tail until Ctrl-C, and outlives the connection.
//
//   connect (Last-Event-ID: last id seen) ─► ready ─► event, event, : keep-alive, event …
//        ▲                                                         │ dropped, closed, or silent 60 s
//        └──────────── wait: server's retry × 2^failures (≤ 30 s, jittered; Retry-After on 503) ◄┘
//
// Every message's id, the `ready` one included, is where the collector resumes: events that arrived
// while we were away come first on the next connection, none twice. The first connection failing is
// an error (a wrong --url, a stopped collector); a later one is waited out.
import { setTimeout as sleep } from 'node:timers/promises'
import type { CommonOptions } from './args'
import { ApiError, cutReason, get, Unreachable } from './http'
import type { Output } from './output'
import { queryString } from './query'
import type { Notices } from './search'
import { sseBatches } from './sse'

/** Silence past which the connection is taken as dead: four of the collector's default heartbeats. */
const IDLE_MS = 60_000
const MAX_DELAY_MS = 30_000

async function * emptyBody (): AsyncGenerator<Uint8Array> {}

export async function tail (opts: CommonOptions, out: Output, notices: Notices, signal: AbortSignal): Promise<void> {
  const params = queryString(opts.filters)
  let lastId: string | undefined
  let connected = false
  let failures = 0
  let retryMs = 1000
  while (!signal.aborted) {
    const attempt = new AbortController()
    let idle: NodeJS.Timeout | undefined
    const touch = (): void => {
      clearTimeout(idle)
      idle = setTimeout(() => attempt.abort(), IDLE_MS)
    }
    let why: string
    let waitAtLeast = 0
    try {
      touch()
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (lastId !== undefined) headers['last-event-id'] = lastId
      const res = await get(opts, 'logs/tail', params, headers, AbortSignal.any([signal, attempt.signal]))
      for await (const batch of sseBatches(res.body ?? emptyBody())) {
        touch()
        let text = ''
        for (const item of batch) {
          if (item.type === 'retry') retryMs = item.ms
          else if (item.type === 'comment') {
            if (item.text !== 'keep-alive' && item.text !== '') notices.notice(item.text)
          } else {
            if (item.event === 'ready') {
              if (failures > 0) notices.notice('reconnected; resuming right after the last event received')
              connected = true
              failures = 0
            } else {
              text += out.line(item.data)
            }
            if (item.id !== undefined && item.id !== '') lastId = item.id
          }
        }
        await out.raw(text)
        if (out.closed) return
      }
      why = 'the collector ended the stream'
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof ApiError) {
        if (err.status < 500) throw err // a key or a filter it refuses: retrying changes nothing
        why = err.message
        waitAtLeast = err.retryAfterMs ?? 0
      } else if (err instanceof Unreachable) {
        if (!connected) throw err
        why = `collector unreachable (${err.reason})`
      } else {
        why = attempt.signal.aborted ? `nothing from the collector for ${IDLE_MS / 1000} s` : `connection lost (${cutReason(err)})`
      }
    } finally {
      clearTimeout(idle)
    }
    failures++
    const backoff = Math.min(Math.max(retryMs, 100) * 2 ** (failures - 1), MAX_DELAY_MS)
    const delay = Math.max(waitAtLeast, Math.round(backoff * (0.5 + Math.random() / 2)))
    notices.notice(`${why}; reconnecting in ${(delay / 1000).toFixed(1)} s`)
    try {
      await sleep(delay, undefined, { signal })
    } catch {
      return // Ctrl-C while waiting
    }
  }
}
