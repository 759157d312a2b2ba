// Waiting on a writable stream's backpressure, shared by the HTTP export and the maap-logs CLI.

/**
 * Resolves at 'drain' or 'close', whichever comes first, and leaves no listener for the other behind:
 * a long stream waits many times, and each left-over listener would stay until the stream ends. Plain
 * listeners, not events.once with an AbortSignal: an export waits here for most of its writes, and a
 * signal and an AbortError each time were a measurable share of its main thread.
 */
export async function drainedOrClosed (stream: NodeJS.EventEmitter): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
}
