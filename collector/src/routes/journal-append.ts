// What every ingest route (POST /log, /logs, /v1/logs) does around the journal: the context events are
// normalised in, and the append whose journal errors become the API's 503s (with Retry-After, set by
// the error handler), so that a way in cannot answer them differently.
import { JournalBusyError, JournalUnavailableError } from '../errors'
import { JournalQueueFullError, JournalWriteError } from '../journal/writer'
import type { KeyRecord } from '../idempotency/key-log'
import type { RejectReason } from '../metrics/ingest-counts'
import type { EventLimits, IngestContext } from '../normalise/normalise'
import type { Redactor } from '../redact/redactor'
import type { CollectorService } from '../service'

/** The limits of one event, from the configuration. */
export function eventLimits (config: CollectorService['config']): EventLimits {
  return { maxDepth: config.maxEventDepth, maxFields: config.maxEventFields, maxFieldNameLength: config.maxFieldNameLength }
}

/**
 * The normalisation context of one request: its arrival time, the app_name its key pins, if any, and the
 * redactor when redaction is on.
 */
export function ingestContext (limits: EventLimits, appName: string | undefined, redactor?: Redactor): IngestContext {
  const receivedAt = new Date().toISOString()
  const ctx: IngestContext = appName === undefined ? { limits, receivedAt } : { limits, receivedAt, appName }
  if (redactor !== undefined) ctx.redactor = redactor
  return ctx
}

/**
 * Appends accepted lines (with the batch's idempotency key, if any); a journal that cannot take them is
 * answered 503, after `onRefused` counts why.
 */
export async function appendToJournal (service: CollectorService, lines: string | Buffer, events: number,
  onRefused: (reason: RejectReason) => void = () => {}, record?: KeyRecord): Promise<void> {
  try {
    await service.journal.append(lines, events, record)
  } catch (err) {
    if (err instanceof JournalWriteError) {
      onRefused('journal_unavailable')
      throw new JournalUnavailableError((err.cause as Error).message)
    }
    if (err instanceof JournalQueueFullError) {
      onRefused('journal_busy')
      throw new JournalBusyError()
    }
    throw err
  }
}
