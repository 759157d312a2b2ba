// One request with an Idempotency-Key on its way through ingest (ingest.ts has the diagram): its turn on
// the key (or the first answer, sent again), its events' ids, whether a process killed before it logged
// the key had journaled it already, and the record that remembers its answer.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { IdempotencyKeyReusedError } from '../errors'
import { batchKey, type BatchKey } from '../idempotency/batch-key'
import { derivedIds, type IdOf } from '../idempotency/derived-ids'
import type { KeyRecord, StoredAnswer } from '../idempotency/key-log'
import type { KeyStore } from '../idempotency/key-store'

/** What begin() answers for a repeat: the first answer has been sent again. */
export const ANSWERED = Symbol('answered')

export class KeyedBatch {
  private constructor (
    private readonly key: BatchKey,
    private readonly store: KeyStore | undefined,
    /** Ends this request's claim on the key (the store's, or nothing without a store). */
    readonly release: () => void
  ) {}

  /**
   * The request's key: undefined without one; ANSWERED for a repeat (its first answer sent again, or a 422
   * if it does not hold as many events as the first did: a key names one batch); else its turn, which
   * must be released once the request is answered, either way.
   */
  static async begin (store: KeyStore | undefined, request: FastifyRequest, route: string,
    elements: string | unknown[], reply: FastifyReply): Promise<KeyedBatch | typeof ANSWERED | undefined> {
    const key = batchKey(idempotencyKey(request), route, request.keyId)
    if (key === undefined) return undefined
    if (store === undefined) return new KeyedBatch(key, store, () => {})
    const known = await store.begin(key.name)
    if (typeof known === 'function') return new KeyedBatch(key, store, known)
    const events = countElements(elements)
    if (known.events !== events) throw new IdempotencyKeyReusedError(known.events, events)
    store.countReplay()
    await sendAnswer(replayed(reply), known.answer)
    return ANSWERED
  }

  /** The ids of the batch's events by index: the key's time (or the arrival's, `receivedAt`) and its seed. */
  ids (receivedAt: string): IdOf {
    return derivedIds(this.key.seed, this.key.ms ?? Date.parse(receivedAt))
  }

  /** What the store keeps of the answer; undefined when keys are not remembered (IDEMPOTENCY_MAX_KEYS=0). */
  record (events: number, answer: StoredAnswer): KeyRecord | undefined {
    return this.store === undefined ? undefined : { name: this.key.name, at: Date.now(), events, answer }
  }

  /**
   * Whether a killed process journaled this batch whole: its last accepted event (index `last`) is in the
   * journal after the key log's last line — a write cut short keeps a batch's first lines, never its last
   * without them. Then it is remembered now and must not be journaled again. (Cut short, it is journaled
   * again: its derived ids make MongoDB keep one copy of the lines that were there.)
   */
  foundJournaled (last: number, record: KeyRecord | undefined): boolean {
    if (this.store === undefined || record === undefined || last < 0) return false
    if (!this.store.journaledUnlogged(this.key.seed, last)) return false
    this.store.rememberFound(record)
    return true
  }

  /** A batch with nothing acceptable: nothing to journal, its answer is remembered all the same. */
  rememberUnjournaled (record: KeyRecord | undefined): void {
    if (record !== undefined) this.store?.remember(record)
  }
}

/**
 * The request's Idempotency-Key header; for a browser-key request without one, its ?batch= (sendBeacon
 * cannot set headers). Same rules, same store, same scope (the key's id).
 */
function idempotencyKey (request: FastifyRequest): string | string[] | undefined {
  const header = request.headers['idempotency-key']
  if (header !== undefined || request.browserKey === undefined) return header
  return (request.query as Record<string, string | string[] | undefined> | undefined)?.batch
}

/** Marks an answer as the one given to an earlier request with the same key. */
export function replayed (reply: FastifyReply): FastifyReply {
  return reply.header('idempotent-replayed', 'true')
}

/** Sends an answer as stored: a number is the `accepted` of a batch that was all accepted. */
export async function sendAnswer (reply: FastifyReply, answer: StoredAnswer): Promise<FastifyReply> {
  if (typeof answer === 'number') return await reply.code(200).send({ status: 'success', accepted: answer, rejected: [] })
  return await reply.code(answer.status).send(answer.body)
}

/** Elements of a batch as ingest counts them (NDJSON: the lines that are not blank); asked of repeats only. */
function countElements (elements: string | unknown[]): number {
  if (typeof elements !== 'string') return elements.length
  let n = 0
  for (const line of elements.split('\n')) if (line.trim() !== '') n++
  return n
}
