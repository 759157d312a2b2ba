// Every error the API answers with, in one place: a stable code, a message and a status code.
import createError from '@fastify/error'

export const NoEventsError = createError('MAAP_NO_EVENTS', 'the body contains no events', 400)
export const InvalidEventError = createError<[string]>('MAAP_INVALID_EVENT', '%s', 400)
export const JournalUnavailableError = createError<[string]>('MAAP_JOURNAL_UNAVAILABLE',
  'events could not be written to the local journal, nothing was stored: %s', 503)
export const MongoUnavailableError = createError<[string, number]>('MAAP_MONGO_UNAVAILABLE',
  'flush failed: %s; %d logs are kept in the journal and will be retried', 503)
