// What Fastify and its plugins answer on their own, in the collector's terms: every error a client can
// receive carries a code of ERROR_CODES (documented in the README, ## Errors), never an FST_… one.
//
//   route / hook / parser ─► error ─► collectorError() ─► { statusCode, code: MAAP_…, message }
//                                          ├─ already ours: as it is
//                                          ├─ a framework error we know: ours, with a message naming the problem
//                                          └─ anything else: MAAP_BAD_REQUEST (4xx, status kept) or MAAP_INTERNAL_ERROR
//
// Errors we can raise at their source are raised there (the JSON parser, @fastify/compress's hooks, the
// rate limiter's and under-pressure's builders in app.ts); this maps what Fastify and @fastify/static
// raise inside themselves.
import type { FastifyError, FastifyRequest } from 'fastify'
import {
  BadRequestError, BadUrlError, BodyTooLargeError, ERROR_CODES, IncompleteBodyError, InternalError, NotFoundError,
  PreconditionFailedError, RangeNotSatisfiableError, UnsupportedMediaTypeError, type CollectorErrorCode
} from './errors'
import { maskKey } from './browser/log-url'

/** What an error handler answers with. */
export interface CollectorAnswer {
  statusCode: number
  code: CollectorErrorCode
  message: string
}

interface ErrorLike {
  statusCode?: number
  code?: unknown
  name?: string
  message: string
}

/** A header's value for a message: quoted, cut short, "(none)" when absent. */
function shown (value: string | string[] | undefined): string {
  if (value === undefined) return '(none)'
  return JSON.stringify(String(value).slice(0, 100))
}

function isOurs (err: ErrorLike): err is ErrorLike & { code: CollectorErrorCode, statusCode: number } {
  return typeof err.code === 'string' && Object.hasOwn(ERROR_CODES, err.code) && typeof err.statusCode === 'number'
}

function ours (err: FastifyError): CollectorAnswer {
  return { statusCode: err.statusCode!, code: err.code as CollectorErrorCode, message: err.message }
}

/** `err` as the collector answers it; `unmapped` when the fallback was used (worth a log line). */
export function collectorError (err: ErrorLike, request: FastifyRequest): CollectorAnswer & { unmapped?: true } {
  if (isOurs(err)) return { statusCode: err.statusCode, code: err.code, message: err.message }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return ours(new BodyTooLargeError(request.routeOptions.bodyLimit ?? 0, 'BODY_LIMIT'))
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // Every route that reads a body has a catch-all parser with its own advice, so this is a header
      // that does not parse as a media type at all.
      return ours(new UnsupportedMediaTypeError(`Content-Type ${shown(request.headers['content-type'])} is not a media type this route reads`))
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return ours(new IncompleteBodyError(String(request.headers['content-length'])))
    case 'FST_ERR_BAD_URL':
      // A browser key in ?key= is masked: it is never echoed.
      return ours(new BadUrlError(`the URL ${shown(maskKey(request.raw.url ?? ''))} does not decode (a stray or malformed % escape?)`))
    case 'FST_STATIC_FORBIDDEN_PATH':
      // The web page is a fixed set of files: a path @fastify/static refuses names none of them.
      return ours(new NotFoundError(`no file of the web page at ${shown(request.url.split('?')[0])}`))
  }
  // @fastify/send, serving the web page's files, answers with http-errors: a name, no code.
  const file = shown(request.url.split('?')[0])
  switch (err.name) {
    // A folder, or a path it will not serve: either way no file of the page.
    case 'ForbiddenError': return ours(new NotFoundError(`no file of the web page at ${file}`))
    case 'PreconditionFailedError': return ours(new PreconditionFailedError(file))
    case 'RangeNotSatisfiableError': return ours(new RangeNotSatisfiableError(shown(request.headers.range), file))
  }
  const status = err.statusCode ?? 500
  // Nothing we know raises these; the status is kept, and the error handlers log them so they get a code.
  if (status >= 400 && status < 500) return { ...ours(new BadRequestError(err.message)), statusCode: status, unmapped: true }
  return ours(new InternalError())
}
