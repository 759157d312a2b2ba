// The application-thread side of a shipper in a worker thread. write() only serialises and queues;
// lines cross to the worker once per event-loop turn, in one message. The worker is unref'd: it never
// keeps the process alive — call close() (winston: from _final) to deliver before exit.

import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import type { HostMessage, HostReply } from './worker-host'
import type { ShipperOptions } from './options'
import type { ShipperStats } from './stats'

export interface ShipperWorker extends EventEmitter {
  /** Queues a record (objects are JSON-serialised here, on the calling thread). Never throws. */
  write (record: string | object): void
  flush (timeoutMs?: number): Promise<ShipperStats>
  /** Delivers (up to closeTimeout), stops the worker. Idempotent. */
  close (): Promise<ShipperStats>
  readonly worker: Worker
}

export function startShipperWorker (options: Omit<ShipperOptions, 'onError'> = {}): ShipperWorker {
  const worker = new Worker(require.resolve('./worker'), { workerData: { options } })
  worker.unref()
  const events = new EventEmitter() as ShipperWorker
  let lines: string[] = []
  let nextId = 1
  const waiting = new Map<number, (stats: ShipperStats) => void>()
  let closing: Promise<ShipperStats> | undefined
  let exited = false

  const send = (msg: HostMessage): void => { worker.postMessage(msg) }
  const sendLines = (): void => {
    if (lines.length === 0 || exited) return
    send({ code: 'WRITE', lines })
    lines = []
  }
  const request = (msg: { code: 'FLUSH', timeoutMs?: number } | { code: 'CLOSE' }): Promise<ShipperStats> => {
    sendLines()
    const id = nextId++
    // Waiting on a reply is real work: hold the process until it comes.
    worker.ref()
    return new Promise<ShipperStats>(resolve => {
      waiting.set(id, stats => {
        waiting.delete(id)
        if (waiting.size === 0) worker.unref()
        resolve(stats)
      })
      send({ ...msg, id } as HostMessage)
    })
  }

  worker.on('message', (reply: HostReply) => {
    if (reply.code === 'EVENT') {
      if (reply.name !== 'error' || events.listenerCount('error') > 0) events.emit(reply.name, reply.data)
      else process.stderr.write(`maap-shipper: ${(reply.data as { message?: string }).message}\n`)
      return
    }
    waiting.get(reply.id)?.(reply.stats)
  })
  worker.on('error', err => {
    if (events.listenerCount('error') > 0) events.emit('error', err)
    else process.stderr.write(`maap-shipper: worker failed: ${err.message}\n`)
  })
  worker.on('exit', code => {
    exited = true
    if (waiting.size === 0 && closing !== undefined) return
    // The worker is gone without answering: whatever it held is lost. Say so, and release every waiter
    // with counters that cannot be mistaken for a clean delivery.
    const message = `shipper worker exited (code ${code}) with ${waiting.size} request(s) unanswered; undelivered records are lost`
    if (events.listenerCount('error') > 0) events.emit('error', new Error(message))
    else process.stderr.write(`maap-shipper: ${message}\n`)
    const lost: ShipperStats = { sent: 0, retried: 0, dropped: lines.length, spooled: 0, rejected: 0, queued: 0, queuedBytes: 0, spoolFiles: 0 }
    for (const done of [...waiting.values()]) done(lost)
  })

  Object.defineProperty(events, 'worker', { value: worker })
  events.write = (record: string | object): void => {
    if (closing !== undefined || exited) return
    let line: string
    try {
      line = typeof record === 'string' ? record : JSON.stringify(record)
    } catch (err) {
      process.stderr.write(`maap-shipper: record could not be serialised, dropped: ${(err as Error).message}\n`)
      return
    }
    if (lines.length === 0) setImmediate(sendLines)
    lines.push(line)
  }
  events.flush = (timeoutMs?: number) => request(timeoutMs === undefined ? { code: 'FLUSH' } : { code: 'FLUSH', timeoutMs })
  events.close = () => {
    closing ??= request({ code: 'CLOSE' })
    return closing
  }
  return events
}
