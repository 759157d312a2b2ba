// Ingest requests refused as a whole for their body — it did not parse, was too large, was encoded in a
// way we do not read, … — are counted like the events a route refuses itself: one event received and
// rejected, by reason, in /metrics and in /status.rejected_total. Their events were never read, so one
// is all that can be said of them.
//
//   body parser / @fastify/compress / Fastify / route ─► error ─► onError (here: count) ─► error handler (answer)
//
// Refusals of the client rather than of its body (no key, wrong key, rate limit, overload, shutting down)
// are not counted as events: the body was not read, and a transport sends it again. Except for browser
// keys: a browser key is public, so its refusals (wrong Origin, another app's event, past its rate limit)
// are what an operator watches for abuse, and each counts as one event under its own reason.
import type { FastifyInstance } from 'fastify'
import type { CollectorErrorCode } from '../errors'
import { collectorError } from '../framework-errors'
import type { IngestCounts, RejectReason } from '../metrics/ingest-counts'

/** The codes that refuse a whole body, and the reason each is counted under. */
export const BODY_REFUSALS: Readonly<Partial<Record<CollectorErrorCode, RejectReason>>> = Object.freeze({
  MAAP_INVALID_JSON: 'invalid_json',
  MAAP_OTLP_UNDECODABLE: 'invalid_otlp',
  MAAP_INVALID_MAPPING: 'invalid_mapping',
  MAAP_BODY_TOO_LARGE: 'body_too_large',
  MAAP_OTLP_TOO_LARGE: 'body_too_large',
  MAAP_UNSUPPORTED_ENCODING: 'bad_encoding',
  MAAP_INVALID_COMPRESSION: 'bad_encoding',
  MAAP_UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  MAAP_INCOMPLETE_BODY: 'incomplete_body'
})

/** What is counted besides, for requests made with a browser key. */
export const BROWSER_REFUSALS: Readonly<Partial<Record<CollectorErrorCode, RejectReason>>> = Object.freeze({
  MAAP_ORIGIN_REFUSED: 'origin_refused',
  MAAP_BROWSER_KEY_APP: 'browser_key_app',
  MAAP_RATE_LIMITED: 'browser_rate_limited'
})

/** Adds the counting hook to the ingest routes' context (call before registering them). */
export function countBodyRefusals (app: FastifyInstance, counts: IngestCounts): void {
  app.addHook('onError', (request, _reply, err, done) => {
    // The route's own refusals (invalid events, journal trouble) are counted where they happen.
    const code = collectorError(err, request).code
    const reason = BODY_REFUSALS[code] ?? (request.browserKey === undefined ? undefined : BROWSER_REFUSALS[code])
    const route = request.routeOptions.url
    if (reason !== undefined && route !== undefined) {
      const c = counts.route(route)
      c.countReceived(1)
      c.countRejected(reason, 1)
    }
    done()
  })
}
