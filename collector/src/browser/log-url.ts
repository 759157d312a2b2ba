// The request as the collector's log lines show it (pino's `req` serializer): a browser key may be in the
// URL (?key=), and a key is never logged, so its value is masked.
import type { FastifyRequest } from 'fastify'

/** `url` with the value of every `key` query parameter replaced by `***`. */
export function maskKey (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  // Split on `&` rather than a regular expression: nothing here can backtrack on a client's URL.
  const params = url.slice(q + 1).split('&').map(p => p.startsWith('key=') ? 'key=***' : p)
  return `${url.slice(0, q)}?${params.join('&')}`
}

export function safeRequest (request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: maskKey(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}
