// The request as the collector's log lines show it (pino's `req` serializer): a browser key may be in the
// URL (?key=), and a key is never logged, so its value is masked.
import type { FastifyRequest } from 'fastify'

/** A query parameter's name as the query parser reads it (`%6Bey` is `key`); undefined when it does not decode. */
function paramName (param: string): string | undefined {
  const eq = param.indexOf('=')
  const raw = (eq === -1 ? param : param.slice(0, eq)).replaceAll('+', ' ')
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined
  }
}

/**
 * `url` with the value of every `key` query parameter replaced by `***`: the parameter as the query parser
 * sees it (identify.ts reads it decoded), so `?%6Bey=` is masked too. A name that does not decode is
 * masked as well: better a masked parameter too many than a key in a log line.
 */
export function maskKey (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  // Split on `&` rather than a regular expression: nothing here can backtrack on a client's URL.
  const params = url.slice(q + 1).split('&').map(p => {
    const name = paramName(p)
    if (name !== undefined && name !== 'key') return p
    const eq = p.indexOf('=')
    return eq === -1 ? p : `${p.slice(0, eq)}=***`
  })
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
