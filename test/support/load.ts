// Small HTTP load generators for end-to-end tests: each event carries a unique `seq`, and the caller
// learns exactly which seqs the collector acknowledged.

export interface LoadState {
  acked: Set<number>
  nextSeq: number
  stopped: boolean
  /** Abandon a request (not acknowledged, so nothing is owed) after this long; none by default. */
  requestTimeoutMs?: number
}

export function newLoad (opts: { requestTimeoutMs?: number } = {}): LoadState {
  return { acked: new Set(), nextSeq: 0, stopped: false, ...opts }
}

function timeout (load: LoadState): AbortSignal | undefined {
  return load.requestTimeoutMs === undefined ? undefined : AbortSignal.timeout(load.requestTimeoutMs)
}

/** Sends single events to POST /log until stopped; connection errors (a killed collector) end nothing. */
export async function singleEventClient (url: string, load: LoadState, extra: object = {}): Promise<void> {
  while (!load.stopped) {
    const seq = load.nextSeq++
    try {
      const res = await fetch(`${url}/log`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ level: 'info', message: `single ${seq}`, app_name: 'load', seq, ...extra }),
        signal: timeout(load)
      })
      await res.arrayBuffer()
      if (res.status === 201) load.acked.add(seq)
    } catch {
      if (load.stopped) return
    }
  }
}

/**
 * Sends NDJSON batches of `size` events to POST /logs until stopped; `pauseMs` between batches paces the
 * load (a steady rate for long fault tests, not a wait for anything to happen).
 */
export async function batchClient (url: string, load: LoadState, size: number, pauseMs = 0): Promise<void> {
  while (!load.stopped) {
    if (pauseMs > 0) await new Promise(resolve => setTimeout(resolve, pauseMs))
    const seqs = Array.from({ length: size }, () => load.nextSeq++)
    const body = seqs.map(seq => JSON.stringify({ level: 30, message: `batch ${seq}`, app_name: 'load', seq })).join('\n')
    try {
      const res = await fetch(`${url}/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, signal: timeout(load) })
      const reply = await res.json() as { accepted?: number }
      if (res.status === 200 && reply.accepted === size) for (const s of seqs) load.acked.add(s)
    } catch {
      if (load.stopped) return
    }
  }
}

/** Resolves once `n` events were acknowledged. */
export async function untilAcked (load: LoadState, n: number): Promise<void> {
  while (load.acked.size < n) await new Promise(resolve => setImmediate(resolve))
}
