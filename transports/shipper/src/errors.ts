// Every error the shipper reports, in one place, each with a stable code (the pattern of fastify's
// lib/errors.js): applications match on `code`, never on message text. Each code is documented in
// README.md ("Errors"); test/errors.test.ts fails when one is not.

/** Every code, with when it is reported. */
export const ERROR_CODES = Object.freeze({
  /** Thrown by a constructor: configuration is wrong, nothing started. */
  MAAP_SHIP_INVALID_OPTION: 'an option is wrong (thrown by the constructor; nothing started)',
  /** The collector refused records for good (4xx other than 408/429, or per-record errors). */
  MAAP_SHIP_REJECTED: 'the collector refused records for good',
  /** A send failed and will be retried (network, timeout, 408, 429, 5xx). */
  MAAP_SHIP_RETRY: 'a send failed and will be retried',
  /** Records were discarded: memory bound without a spool, close deadline, write after close. */
  MAAP_SHIP_DROPPED: 'records were discarded and counted',
  /** The spool directory could not be used (locked, unwritable, unreadable file). */
  MAAP_SHIP_SPOOL: 'the spool directory could not be used',
  /** A record could not be turned into a collector event (e.g. a circular object); it is dropped. */
  MAAP_SHIP_MAP: 'a record could not be serialised and was dropped',
  /** A worker thread and its application thread exchanged a message the receiver does not know. */
  MAAP_SHIP_PROTOCOL: 'the two sides of a worker thread disagree on a message'
})

export type ShipperErrorCode = keyof typeof ERROR_CODES

export class ShipperError extends Error {
  readonly code: ShipperErrorCode
  /** Records the error concerns (0 when it concerns none, e.g. an option). */
  readonly records: number
  /** HTTP status of the collector's answer, when there was one. */
  readonly status: number | undefined

  constructor (code: ShipperErrorCode, message: string, opts: { records?: number, status?: number, cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ShipperError'
    this.code = code
    this.records = opts.records ?? 0
    this.status = opts.status
  }
}

export function invalidOption (name: string, expected: string, got: unknown): ShipperError {
  return new ShipperError('MAAP_SHIP_INVALID_OPTION', `option "${name}" must be ${expected}, got ${JSON.stringify(got)}`)
}
