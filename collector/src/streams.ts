// Waiting on a writable stream's backpressure, shared by the HTTP export and the maap-logs CLI.
import { once } from 'node:events'

/**
 * Resolves at 'drain' or 'close', whichever comes first, and leaves no listener for the other behind:
 * a long stream waits many times, and each left-over listener would stay until the stream ends.
 */
export async function drainedOrClosed (stream: NodeJS.EventEmitter): Promise<void> {
  const stop = new AbortController()
  try {
    await Promise.race([once(stream, 'drain', { signal: stop.signal }), once(stream, 'close', { signal: stop.signal })])
  } finally {
    stop.abort() // the loser's listener goes; its AbortError is taken by the race
  }
}
