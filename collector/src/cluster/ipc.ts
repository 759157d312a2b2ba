// Cluster-wide questions (WORKER_COUNT > 1): a worker asks, the primary asks every serving worker, and the
// asker gets every worker's reply (or, for a kind the primary reduces, the primary's result).
//
//   worker A ──{ask id=7 kind}──► primary ──{collect id=42 kind}──► every serving worker (A included)
//      ▲                             │  ◄──{collected id=42 ok value|error}── each, or "no answer" at the timeout
//      └───{answer id=7 ok value}────┘  (replies by worker id; reduce[kind] applied when given)
//
// Used for /metrics (the primary aggregates with prom-client), /status and POST /force-flush. Both sides
// match replies by id and give up at a timeout, so a worker that dies mid-question costs a bounded wait.
// A message carrying our tag that is not one we expect is a bug on one side: it is logged at error level
// and the question it names (if any) fails with it, rather than being skipped silently.

import type { Serializable } from 'node:child_process'

export type AskKind = 'metrics' | 'status' | 'flush'

/** How long the primary waits for every worker on /status and /metrics, and on a force-flush. */
export const ASK_TIMEOUT_MS: Readonly<Record<AskKind, number>> = { status: 2000, metrics: 2000, flush: 300_000 }
const KINDS: ReadonlySet<string> = new Set<AskKind>(['metrics', 'status', 'flush'])

/** The tag every message of ours carries; messages without it (node's, prom-client's) are not ours. */
export const TAG = 'maap-ipc'

export type WorkerReply = { worker_id: number, ok: true, value: unknown } | { worker_id: number, ok: false, error: string }

type Message =
  | { [TAG]: 'ask', id: number, kind: AskKind }
  | { [TAG]: 'answer', id: number, ok: true, value: unknown }
  | { [TAG]: 'answer', id: number, ok: false, error: string }
  | { [TAG]: 'collect', id: number, kind: AskKind }
  | { [TAG]: 'collected', id: number, ok: true, value: unknown }
  | { [TAG]: 'collected', id: number, ok: false, error: string }

/** One end of an IPC channel: `process` in a worker, a cluster `Worker` in the primary. */
export interface Channel {
  send: (message: Serializable, callback?: (err: Error | null) => void) => unknown
  on: (event: 'message', listener: (message: unknown) => void) => unknown
  off: (event: 'message', listener: (message: unknown) => void) => unknown
}

export type IpcLog = (fields: object, msg: string) => void

export class UnexpectedMessageError extends Error {
  constructor (readonly detail: unknown) {
    super(`unexpected cluster message: ${JSON.stringify(detail)}`)
    this.name = 'UnexpectedMessageError'
  }
}

function ours (message: unknown): message is Record<string, unknown> {
  return typeof message === 'object' && message !== null && TAG in message
}

function isId (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v)
}

/** A reply's shape check: `ok` with a value, or an error message. */
function replyOf (m: Record<string, unknown>): { ok: true, value: unknown } | { ok: false, error: string } | undefined {
  if (m.ok === true) return { ok: true, value: m.value }
  if (m.ok === false && typeof m.error === 'string') return { ok: false, error: m.error }
  return undefined
}

function errorText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

// ── worker side ─────────────────────────────────────────────────────────────────────────────────────

export type Handlers = Record<AskKind, () => Promise<unknown>>

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The worker's end: `ask` questions of the whole service, and answer the primary's `collect` with
 * `handlers`. `close()` stops answering and fails what is still waiting.
 */
export class WorkerIpc {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly listener = (message: unknown): void => { this.receive(message) }

  constructor (private readonly channel: Channel, private readonly handlers: Handlers, private readonly log: IpcLog) {
    channel.on('message', this.listener)
  }

  /** The primary's answer to `kind`: every worker's reply, or what the primary made of them. */
  async ask (kind: AskKind, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`the cluster primary did not answer "${kind}" within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      this.send({ [TAG]: 'ask', id, kind }, err => {
        if (err === null) return
        this.settle(id)?.reject(new Error(`cannot reach the cluster primary: ${err.message}`))
      })
    })
  }

  close (): void {
    this.channel.off('message', this.listener)
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      this.pending.delete(id)
      p.reject(new Error('closed while waiting for the cluster primary'))
    }
  }

  private settle (id: number): Pending | undefined {
    const p = this.pending.get(id)
    if (p === undefined) return undefined
    clearTimeout(p.timer)
    this.pending.delete(id)
    return p
  }

  private send (message: Message, callback: (err: Error | null) => void = () => {}): void {
    try {
      this.channel.send(message, callback)
    } catch (err) {
      callback(err as Error)
    }
  }

  private receive (message: unknown): void {
    if (!ours(message)) return
    const type = message[TAG]
    if (type === 'collect' && isId(message.id) && typeof message.kind === 'string' && KINDS.has(message.kind)) {
      const id = message.id
      this.handlers[message.kind as AskKind]().then(
        value => this.send({ [TAG]: 'collected', id, ok: true, value }),
        (err: unknown) => this.send({ [TAG]: 'collected', id, ok: false, error: errorText(err) }))
      return
    }
    const reply = type === 'answer' && isId(message.id) ? replyOf(message) : undefined
    if (reply !== undefined) {
      const p = this.settle(message.id as number)
      // An answer after our timeout: the question already failed; nothing to do but say so.
      if (p === undefined) this.log({ id: message.id }, 'late answer from the cluster primary (after the timeout); ignored')
      else if (reply.ok) p.resolve(reply.value)
      else p.reject(new Error(reply.error))
      return
    }
    this.unexpected(message)
  }

  private unexpected (message: Record<string, unknown>): void {
    const err = new UnexpectedMessageError(message)
    this.log({ err: err.message }, 'unexpected cluster message')
    if (isId(message.id)) this.settle(message.id)?.reject(err)
  }
}

// ── primary side ────────────────────────────────────────────────────────────────────────────────────

export interface Member {
  id: number
  channel: Channel
}

export interface RelayOptions {
  /** The workers that serve now (a starting or dead one would never answer). */
  members: () => readonly Member[]
  /** Every worker id of the service, serving or not: those not asked are reported as not serving. */
  workerIds: () => readonly number[]
  timeoutMs: (kind: AskKind) => number
  /** What the primary answers for `kind` instead of the list of replies. */
  reduce?: Partial<Record<AskKind, (replies: WorkerReply[]) => unknown | Promise<unknown>>>
  log: IpcLog
}

interface Collection {
  replies: Map<number, WorkerReply>
  waiting: Set<number>
  finish: () => void
}

/**
 * The primary's end: answers each worker's `ask` by collecting from every serving worker. Call
 * `attach(member)` when a worker is forked and `gone(workerId)` when it exits, so a question does not
 * wait for a worker that can no longer answer.
 */
export class PrimaryRelay {
  private nextId = 1
  private readonly collections = new Map<number, Collection>()
  private readonly detach = new Map<number, () => void>()

  constructor (private readonly opts: RelayOptions) {}

  attach (member: Member): void {
    this.detach.get(member.id)?.()
    const listener = (message: unknown): void => { this.receive(member, message) }
    member.channel.on('message', listener)
    this.detach.set(member.id, () => member.channel.off('message', listener))
  }

  gone (workerId: number): void {
    this.detach.get(workerId)?.()
    this.detach.delete(workerId)
    for (const c of this.collections.values()) this.record(c, { worker_id: workerId, ok: false, error: 'the worker exited before answering' })
  }

  private receive (from: Member, message: unknown): void {
    if (!ours(message)) return
    const type = message[TAG]
    if (type === 'ask' && isId(message.id) && typeof message.kind === 'string' && KINDS.has(message.kind)) {
      const askId = message.id
      void this.collect(message.kind as AskKind).then(
        value => this.answer(from, { [TAG]: 'answer', id: askId, ok: true, value }),
        (err: unknown) => this.answer(from, { [TAG]: 'answer', id: askId, ok: false, error: errorText(err) }))
      return
    }
    const reply = type === 'collected' && isId(message.id) ? replyOf(message) : undefined
    if (reply !== undefined) {
      const c = this.collections.get(message.id as number)
      if (c === undefined) this.opts.log({ worker_id: from.id, id: message.id }, 'late reply from a worker (after the timeout); ignored')
      else this.record(c, { worker_id: from.id, ...reply })
      return
    }
    const err = new UnexpectedMessageError(message)
    this.opts.log({ worker_id: from.id, err: err.message }, 'unexpected cluster message')
    if (isId(message.id)) this.answer(from, { [TAG]: 'answer', id: message.id, ok: false, error: err.message })
  }

  private answer (to: Member, message: Message): void {
    try {
      to.channel.send(message, () => {})
    } catch {
      // The asker exited meanwhile: nobody is waiting for this answer.
    }
  }

  private record (c: Collection, reply: WorkerReply): void {
    if (!c.waiting.delete(reply.worker_id)) return
    c.replies.set(reply.worker_id, reply)
    if (c.waiting.size === 0) c.finish()
  }

  /** Every worker's reply to `kind` (in worker id order), reduced when the primary reduces that kind. */
  async collect (kind: AskKind): Promise<unknown> {
    const id = this.nextId++
    const members = this.opts.members()
    const replies = await new Promise<WorkerReply[]>(resolve => {
      let done = false
      const c: Collection = {
        replies: new Map(),
        waiting: new Set(members.map(m => m.id)),
        finish: () => {
          if (done) return
          done = true
          clearTimeout(timer)
          this.collections.delete(id)
          for (const w of c.waiting) c.replies.set(w, { worker_id: w, ok: false, error: `no answer within ${this.opts.timeoutMs(kind)} ms` })
          c.waiting.clear()
          for (const w of this.opts.workerIds()) {
            if (!c.replies.has(w)) c.replies.set(w, { worker_id: w, ok: false, error: 'not serving (starting or restarting)' })
          }
          resolve([...c.replies.values()].sort((a, b) => a.worker_id - b.worker_id))
        }
      }
      const timer = setTimeout(c.finish, this.opts.timeoutMs(kind))
      this.collections.set(id, c)
      for (const m of members) {
        try {
          m.channel.send({ [TAG]: 'collect', id, kind }, err => {
            if (err !== null) this.record(c, { worker_id: m.id, ok: false, error: `cannot reach the worker: ${err.message}` })
          })
        } catch (err) {
          this.record(c, { worker_id: m.id, ok: false, error: `cannot reach the worker: ${errorText(err)}` })
        }
      }
      if (members.length === 0) c.finish()
    })
    const reduce = this.opts.reduce?.[kind]
    return reduce === undefined ? replies : await reduce(replies)
  }
}
