// The application/json body parser of every route that reads one. It parses exactly as Fastify's own
// does with onProtoPoisoning and onConstructorPoisoning 'ignore' (JSON.parse after a leading BOM), but
// refuses with the collector's codes, and says where the JSON broke: Fastify's answers only that it did.
import type { FastifyRequest } from 'fastify'
import { InvalidJsonError, NoEventsError } from '../errors'

export function parseJsonBody (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  const text = body as string
  if (text.length === 0) {
    done(new NoEventsError())
    return
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (err) {
    done(new InvalidJsonError((err as Error).message))
    return
  }
  done(null, parsed)
}
