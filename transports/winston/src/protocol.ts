// What the application thread and the transport's worker share beyond the shipper's own messages.

/** `state[0]`: RUNNING until the worker's shipper has closed (delivered, spooled or dropped all). */
export const RUNNING = 0
export const SETTLED = 1

export interface WorkerData {
  /** Shipper options (structured-cloneable: no functions). */
  options: Record<string, unknown>
  /** Int32 flag, RUNNING → SETTLED; the exit handler waits on it with Atomics.wait. */
  state: SharedArrayBuffer
}

/** Extra message, next to the shipper host's WRITE / FLUSH / CLOSE: close now, the process is exiting. */
export interface ExitMessage { code: 'EXIT' }
