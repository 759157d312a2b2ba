// What is different about the body of a browser-key request on POST /logs and /log (ingest.ts):
//
//   raw ─► @fastify/compress (gunzip) ─► limitBrowserBody: past 256 KB ─► 413 + Connection: close, nothing
//                                              │                        stored, the rest never read
//                                              │
//                                              ▼
//   parser: NDJSON, JSON, and text/plain as NDJSON (sendBeacon and simple fetches cannot send other types
//   without a preflight) ─► each event: app_name absent → the key's; equal → kept; other → 403, whole request
//
// A browser key is public, so a request made with it is held to less than BODY_LIMIT: a page's batches are
// small (the browsers' keepalive budget is 64 KB), and anyone can spend a browser key.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { BodyTooLargeError, BrowserKeyAppError } from '../errors'

/** Bytes of a browser-key request body at most, after decompression. */
export const BROWSER_BODY_LIMIT = 256 * 1024

const tooLarge = (limit: number): Error => new BodyTooLargeError(limit, 'the most a browser-key request may send')

/** A stream that passes `limit` bytes and fails past them; it reports the encoded length of its source. */
class LimitedBody extends Transform {
  private received = 0

  constructor (private readonly source: Readable & { receivedEncodedLength?: number }, private readonly limit: number) {
    super()
  }

  /** Fastify checks Content-Length against this (set by @fastify/compress when the body was encoded). */
  get receivedEncodedLength (): number | undefined {
    return this.source.receivedEncodedLength
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length
    if (this.received > this.limit) {
      done(tooLarge(this.limit))
      return
    }
    done(null, chunk)
  }
}

/**
 * A route preParsing hook: a browser-key request's body, cut off past BROWSER_BODY_LIMIT. A body refused
 * is not read on: the 413 goes out with `Connection: close`, and the connection ends with it — a public
 * key must not let anyone keep the collector reading (or decompressing) a body it has already refused.
 */
export async function limitBrowserBody (request: FastifyRequest, reply: FastifyReply, payload: Readable): Promise<Readable> {
  if (request.browserKey === undefined) return payload
  // Said by the client before a byte is read: refuse at once (an encoded body is checked as it is decoded).
  const declared = Number(request.headers['content-length'])
  if (request.headers['content-encoding'] === undefined && declared > BROWSER_BODY_LIMIT) {
    reply.header('connection', 'close')
    throw tooLarge(BROWSER_BODY_LIMIT)
  }
  const limited = new LimitedBody(payload, BROWSER_BODY_LIMIT)
  payload.on('error', err => limited.destroy(err))
  limited.on('error', () => {
    reply.header('connection', 'close')
    // Stop feeding it, and stop decompressing: the rest of the body is never read. The request stream
    // itself stays until the answer is out (destroying it would cut the 413 off); Node ends the
    // connection after a `Connection: close` answer.
    payload.unpipe(limited)
    if (payload !== request.raw) payload.destroy()
  })
  return payload.pipe(limited)
}

/**
 * For a browser-key request: throws 403 when `event` names an app_name other than the key's. Absent, the
 * key's is filled in by ingest (the key's app_name is the request's, as with an `app_name:key` API key).
 */
export function checkBrowserApp (event: unknown, index: number, appName: string): void {
  if (typeof event !== 'object' || event === null) return
  const own = (event as { app_name?: unknown }).app_name
  if (own === undefined || own === appName) return
  throw new BrowserKeyAppError(index, JSON.stringify(own)?.slice(0, 200) ?? String(own), JSON.stringify(appName))
}
