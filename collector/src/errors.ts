// Every error the API answers with, in one place: a stable code, a message and a status code.
import createError from '@fastify/error'

/** A configuration value that stops start-up (or a key reload): the message names the variable. */
export class ConfigError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`Invalid ${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}

export const NoEventsError = createError('MAAP_NO_EVENTS', 'the body contains no events', 400)
export const InvalidEventError = createError<[string]>('MAAP_INVALID_EVENT', '%s', 400)
export const JournalUnavailableError = createError<[string]>('MAAP_JOURNAL_UNAVAILABLE',
  'events could not be written to the local journal, nothing was stored: %s', 503)
export const MongoUnavailableError = createError<[string, number]>('MAAP_MONGO_UNAVAILABLE',
  'flush failed: %s; %d logs are kept in the journal and will be retried', 503)
export const UnauthorizedError = createError<[string]>('MAAP_UNAUTHORIZED',
  'this route needs an %s: send "Authorization: Bearer <key>"', 401)
export const ForbiddenError = createError<[string]>('MAAP_FORBIDDEN', 'the %s is not valid', 403)
export const JournalBusyError = createError('MAAP_JOURNAL_BUSY',
  'the journal is behind (too many writes waiting); retry shortly', 503)
export const BadQueryError = createError<[string]>('MAAP_BAD_QUERY', '%s', 400)
export const TooManyTailsError = createError<[number]>('MAAP_TOO_MANY_TAILS',
  'already %d live tails (MAX_TAIL_CLIENTS); retry shortly', 503)
export const ShuttingDownError = createError('MAAP_SHUTTING_DOWN',
  'the collector is shutting down; send to another instance or retry shortly', 503)
export const FlushIncompleteError = createError<[string, number]>('MAAP_FLUSH_INCOMPLETE',
  'flush incomplete: %s; %d logs were flushed, the rest stay in the journals and are retried', 503)
export const ClusterUnavailableError = createError<[string]>('MAAP_CLUSTER_UNAVAILABLE',
  'the other workers could not be asked: %s', 503)
export const OtlpUndecodableError = createError<[string]>('MAAP_OTLP_UNDECODABLE',
  'the body is not an OTLP ExportLogsServiceRequest: %s', 400)
export const UnsupportedMediaTypeError = createError<[string]>('MAAP_UNSUPPORTED_MEDIA_TYPE', '%s', 415)
export const InvalidMappingError = createError<[string]>('MAAP_INVALID_MAPPING', '%s', 400)
