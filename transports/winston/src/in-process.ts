// The winston transport's shipper without a worker thread (`worker: false`, or the fallback when the
// worker's file cannot be found — a bundled application): the same core, in this thread, behind the
// same surface as the worker client (ShipperThread), so transport.ts does not care which it has.
//
//   log(info) ─► serialise (record.ts) ─► write(line) ─► Shipper (batch, POST, retry) ─► collector
//
// The core is required here, lazily: in worker mode this thread must not load it, nor undici with it
// (test/app-thread.test.ts). A literal require, so bundlers include it.
import { EventEmitter } from 'node:events'
import { THREAD_EVENTS, type FlushResult, type ResolvedOptions, type ShipperOptions, type ShipperStats } from '@maap-event-logger/shipper/app-thread'

/** What the transport needs of a shipper, in a worker or not. */
export interface ShipperHost extends EventEmitter {
  readonly options: ResolvedOptions
  write: (line: string) => boolean
  flush: (timeoutMs?: number) => Promise<FlushResult>
  close: () => Promise<FlushResult>
}

type Core = typeof import('@maap-event-logger/shipper')
type Shipper = InstanceType<Core['Shipper']>

/** The core's events the worker client re-emits too, and 'error'. */
const EVENTS = [...THREAD_EVENTS, 'error'] as const

class InProcessShipper extends EventEmitter implements ShipperHost {
  readonly options: ResolvedOptions
  readonly #shipper: Shipper
  readonly #forget: () => void
  #closing: Promise<FlushResult> | undefined

  constructor (core: Core, options: Omit<ShipperOptions, 'onError'>, heard: () => boolean, resolved: ResolvedOptions) {
    super()
    this.options = resolved
    this.#shipper = new core.Shipper(options, process.env, { prefix: 'maap-winston', heard })
    for (const name of EVENTS) this.#shipper.on(name, (data: unknown) => this.emit(name, data))
    // Without a worker nothing can deliver once the loop is gone: close when it runs empty instead.
    this.#forget = core.closeAtLoopEnd({ close: () => this.close(), stats: (): ShipperStats => this.#shipper.stats() }, 'maap-winston')
  }

  write (line: string): boolean { return this.#shipper.write(line) }

  flush (timeoutMs?: number): Promise<FlushResult> {
    return this.#closing ?? this.#shipper.flush(timeoutMs)
  }

  close (): Promise<FlushResult> {
    if (this.#closing === undefined) {
      this.#forget()
      this.#closing = this.#shipper.close()
    }
    return this.#closing
  }
}

export function startInProcess (options: Omit<ShipperOptions, 'onError'>, heard: () => boolean, resolved: ResolvedOptions): ShipperHost {
  return new InProcessShipper(require('@maap-event-logger/shipper') as Core, options, heard, resolved)
}
