// Every error the collector answers with, in one place (the pattern of fastify's lib/errors.js): a stable
// code, a message template and a status code. Clients match on `code`, never on message text. Each code is
// documented in the collector's README (## Errors); test/errors.test.ts fails when one is not, or when that page names a code
// that does not exist. What Fastify and its plugins raise themselves is answered with one of these (framework-errors.ts).
import createError from '@fastify/error'

/** Every code, with when it is answered. */
export const ERROR_CODES = Object.freeze({
  MAAP_NO_EVENTS: 'POST /log or /logs with a body that holds no event',
  MAAP_INVALID_EVENT: 'an event that is not valid (missing message or app_name, unknown level, bad timestamp, too deep…)',
  MAAP_BAD_IDEMPOTENCY_KEY: 'POST /log or /logs with an Idempotency-Key header that is not one key of 1 to 200 visible ASCII characters',
  MAAP_IDEMPOTENCY_KEY_REUSED: 'POST /log or /logs with an Idempotency-Key already used for a batch with another number of events',
  MAAP_JOURNAL_UNAVAILABLE: 'the local journal could not be written; nothing of the request was stored',
  MAAP_JOURNAL_BUSY: 'too many writes wait for the journal (JOURNAL_MAX_QUEUE_BYTES); nothing was queued',
  MAAP_MONGO_UNAVAILABLE: 'POST /force-flush while MongoDB cannot take the events; they stay in the journal',
  MAAP_FLUSH_INCOMPLETE: 'POST /force-flush with WORKER_COUNT > 1 when a worker could not be asked',
  MAAP_CLUSTER_UNAVAILABLE: 'with WORKER_COUNT > 1, the other workers could not be asked (/status, /metrics, /force-flush)',
  MAAP_UNAUTHORIZED: 'a route that needs a key, asked without one',
  MAAP_FORBIDDEN: 'a key that is not valid for the route',
  MAAP_BAD_QUERY: 'a read route\'s parameter that is unknown or does not parse',
  MAAP_TOO_MANY_TAILS: 'GET /logs/tail past MAX_TAIL_CLIENTS open tails',
  MAAP_TOO_MANY_QUERIES: 'GET /logs, /logs/histogram, /logs/values or /logs/fields while QUERY_CONCURRENCY queries run and QUERY_QUEUE wait, or after waiting QUERY_QUEUE_WAIT for a slot',
  MAAP_QUERY_TIMEOUT: 'GET /logs/histogram, /logs/values, /logs/fields, or a GET /logs page that found nothing yet, that did not finish within QUERY_TIMEOUT',
  MAAP_SHUTTING_DOWN: 'any route but /health and /ready while the collector shuts down',
  MAAP_OTLP_UNDECODABLE: 'POST /v1/logs with a body that is not an OTLP ExportLogsServiceRequest',
  MAAP_OTLP_TOO_LARGE: 'POST /v1/logs whose events, each written out with its resource and scope, come to more than JOURNAL_MAX_QUEUE_BYTES',
  MAAP_UNSUPPORTED_MEDIA_TYPE: 'a Content-Type the route does not read',
  MAAP_INVALID_MAPPING: 'POST /logs with a shipper field mapping in the query string that is not valid',
  MAAP_INVALID_JSON: 'a JSON body (or, on POST /log and /logs without a Content-Type, a JSON array) that does not parse',
  MAAP_BODY_TOO_LARGE: 'a body over BODY_LIMIT bytes, as sent or once decompressed',
  MAAP_UNSUPPORTED_ENCODING: 'a Content-Encoding other than gzip or deflate',
  MAAP_INVALID_COMPRESSION: 'a body that does not decompress as its Content-Encoding says',
  MAAP_INCOMPLETE_BODY: 'a body whose length is not its Content-Length',
  MAAP_NOT_FOUND: 'a method and path no route answers',
  MAAP_BAD_URL: 'a URL that does not decode',
  MAAP_PRECONDITION_FAILED: 'a file of the web page asked for with an If-Match or If-Unmodified-Since it does not meet',
  MAAP_RANGE_NOT_SATISFIABLE: 'a file of the web page asked for with a Range outside it',
  MAAP_RATE_LIMITED: 'an ingest request past RATE_LIMIT_PER_MINUTE, or a browser-key request past BROWSER_RATE_LIMIT_PER_MINUTE for its key and client address',
  MAAP_ORIGIN_REFUSED: 'a browser-key request without an Origin header that is one of that key\'s origins, or a CORS preflight from an origin not in CORS_ORIGINS; nothing was stored',
  MAAP_BROWSER_KEY_SCOPE: 'a browser key (BROWSER_API_KEYS) on any route but POST /logs and /log: it may only send events',
  MAAP_BROWSER_KEY_APP: 'a browser-key request with an event whose app_name is not the key\'s app_name; nothing of the request was stored',
  MAAP_QUOTA_EXCEEDED: 'POST /log, /logs or /v1/logs whose events would take an app past its APP_QUOTAS events a minute; nothing of the request was stored',
  MAAP_OVERLOADED: 'an ingest request while the process is past MAX_HEAP_USED_BYTES or MAX_EVENT_LOOP_DELAY',
  MAAP_BAD_ALERT: 'a saved search or alert body with a field that is missing, unknown or not valid (the message names it)',
  MAAP_UNKNOWN_ID: 'a saved search or alert id that does not exist (or was deleted)',
  MAAP_NAME_TAKEN: 'a saved search or alert created or renamed with a name another one has',
  MAAP_BAD_REQUEST: 'any other request the collector cannot answer as sent',
  MAAP_INTERNAL_ERROR: 'an unexpected error in the collector'
} as const)

export type CollectorErrorCode = keyof typeof ERROR_CODES

/** createError for a code in ERROR_CODES only, so no code exists that the table (and its documentation) lacks. */
function define<A extends unknown[] = []> (code: CollectorErrorCode, message: string, statusCode: number) {
  return createError<A>(code, message, statusCode)
}

export const NoEventsError = define('MAAP_NO_EVENTS', 'the body contains no events', 400)
export const InvalidEventError = define<[string]>('MAAP_INVALID_EVENT', '%s', 400)
export const BadIdempotencyKeyError = define<[string]>('MAAP_BAD_IDEMPOTENCY_KEY', '%s', 400)
export const IdempotencyKeyReusedError = define<[number, number]>('MAAP_IDEMPOTENCY_KEY_REUSED',
  'this Idempotency-Key was used for a batch of %d events and this one has %d: a key names one batch; send a new key with a new batch', 422)
export const JournalUnavailableError = define<[string]>('MAAP_JOURNAL_UNAVAILABLE',
  'events could not be written to the local journal, nothing was stored: %s', 503)
export const MongoUnavailableError = define<[string, number]>('MAAP_MONGO_UNAVAILABLE',
  'flush failed: %s; %d logs are kept in the journal and will be retried', 503)
/** The message says which key the route needs (auth.ts), or why a ?key= was not taken (browser/identify.ts). */
export const UnauthorizedError = define<[string]>('MAAP_UNAUTHORIZED', '%s', 401)
export const ForbiddenError = define<[string]>('MAAP_FORBIDDEN', 'the %s is not valid', 403)
export const JournalBusyError = define('MAAP_JOURNAL_BUSY',
  'the journal is behind (too many writes waiting); retry shortly', 503)
export const BadQueryError = define<[string]>('MAAP_BAD_QUERY', '%s', 400)
export const TooManyTailsError = define<[number]>('MAAP_TOO_MANY_TAILS',
  'already %d live tails (MAX_TAIL_CLIENTS); retry shortly', 503)
export const TooManyQueriesError = define<[string]>('MAAP_TOO_MANY_QUERIES',
  'too many queries: %s; retry shortly', 503)
export const QueryTimeoutError = define<[number]>('MAAP_QUERY_TIMEOUT',
  'the query did not finish within QUERY_TIMEOUT (%d s): narrow it (a shorter from/to, an app, a level) or raise QUERY_TIMEOUT', 504)
export const ShuttingDownError = define('MAAP_SHUTTING_DOWN',
  'the collector is shutting down; send to another instance or retry shortly', 503)
export const FlushIncompleteError = define<[string, number]>('MAAP_FLUSH_INCOMPLETE',
  'flush incomplete: %s; %d logs were flushed, the rest stay in the journals and are retried', 503)
export const ClusterUnavailableError = define<[string]>('MAAP_CLUSTER_UNAVAILABLE',
  'the other workers could not be asked: %s', 503)
export const OtlpUndecodableError = define<[string]>('MAAP_OTLP_UNDECODABLE',
  'the body is not an OTLP ExportLogsServiceRequest: %s', 400)
export const OtlpTooLargeError = define<[number]>('MAAP_OTLP_TOO_LARGE',
  'the request\'s events, each with its resource and scope, come to more than %d bytes; nothing was stored: send smaller batches', 413)
export const UnsupportedMediaTypeError = define<[string]>('MAAP_UNSUPPORTED_MEDIA_TYPE', '%s', 415)
export const InvalidMappingError = define<[string]>('MAAP_INVALID_MAPPING', '%s', 400)
export const InvalidJsonError = define<[string]>('MAAP_INVALID_JSON', 'the body is not valid JSON: %s', 400)
/** The limit, and what sets it: BODY_LIMIT, or the browser-key limit (browser/body.ts). */
export const BodyTooLargeError = define<[number, string]>('MAAP_BODY_TOO_LARGE',
  'the body is over %d bytes (%s, counted after decompression); nothing was stored: send smaller batches', 413)
export const UnsupportedEncodingError = define<[string]>('MAAP_UNSUPPORTED_ENCODING',
  'Content-Encoding "%s" is not accepted: send gzip, deflate, or no Content-Encoding', 415)
export const InvalidCompressionError = define<[string, string]>('MAAP_INVALID_COMPRESSION',
  'the body does not decompress as Content-Encoding "%s" says: %s', 400)
export const IncompleteBodyError = define<[string]>('MAAP_INCOMPLETE_BODY',
  'the body is not as long as its Content-Length (%s bytes) says', 400)
export const NotFoundError = define<[string]>('MAAP_NOT_FOUND', '%s', 404)
export const BadUrlError = define<[string]>('MAAP_BAD_URL', '%s', 400)
export const PreconditionFailedError = define<[string]>('MAAP_PRECONDITION_FAILED',
  'the file %s does not meet the request\'s If-Match or If-Unmodified-Since', 412)
export const RangeNotSatisfiableError = define<[string, string]>('MAAP_RANGE_NOT_SATISFIABLE',
  'Range %s is outside the file %s', 416)
/** The setting passed, and its limit: RATE_LIMIT_PER_MINUTE, or BROWSER_RATE_LIMIT_PER_MINUTE (per key and address). */
export const RateLimitedError = define<[string, number, string]>('MAAP_RATE_LIMITED',
  'past %s (%d requests a minute); retry in %s', 429)
/** A browser-key request from an origin not the key's (browser/identify.ts), or a preflight from one not allowed (browser/cors.ts). */
export const OriginRefusedError = define<[string]>('MAAP_ORIGIN_REFUSED', '%s', 403)
export const BrowserKeyScopeError = define<[string, string]>('MAAP_BROWSER_KEY_SCOPE',
  'a browser key may only send events (POST /logs, POST /log), not %s %s', 403)
export const BrowserKeyAppError = define<[number, string, string]>('MAAP_BROWSER_KEY_APP',
  'event %d has app_name %s but this browser key sends for app_name %s alone (leave app_name out to get it); nothing of the request was stored', 403)
export const QuotaExceededError = define<[string, string, number, number]>('MAAP_QUOTA_EXCEEDED',
  'app_name %s%s is past its quota of %d events a minute (APP_QUOTAS); nothing of the request was stored: retry in %d s', 429)
export const OverloadedError = define<[string]>('MAAP_OVERLOADED', 'the collector is overloaded (%s); retry shortly', 503)
export const BadAlertError = define<[string]>('MAAP_BAD_ALERT', '%s', 400)
export const UnknownIdError = define<[string, string]>('MAAP_UNKNOWN_ID', 'no %s with id "%s"', 404)
export const NameInUseError = define<[string, string]>('MAAP_NAME_TAKEN', 'a %s named "%s" exists already: pick another name', 409)
/** Answered with the status of the error it stands for (framework-errors.ts). */
export const BadRequestError = define<[string]>('MAAP_BAD_REQUEST', '%s', 400)
export const InternalError = define('MAAP_INTERNAL_ERROR', 'internal error', 500)

/** A configuration value that stops start-up (or a key reload): the message names the variable. Not an HTTP answer. */
export class ConfigError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`Invalid ${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}
