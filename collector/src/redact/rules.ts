// REDACT_FIELDS and REDACT_PATTERNS as the configuration reads them: checked once at start, so a bad
// entry stops start-up naming it (ConfigError), and kept as plain lists the redactor compiles.
import { ConfigError } from '../errors'
import { DETECTOR_NAMES } from './detectors'

/** The fields the collector decides itself: redacting them would break the event, not protect it. */
const OWN_FIELDS = new Set(['level', 'timestamp', 'app_name', '_id', 'received_at'])
// A segment is a field name without dots or commas; `*` stands for any one name.
const MAX_SEGMENT = 256

function entries (raw: string | undefined): string[] {
  if (raw === undefined) return []
  return raw.split(',').map(e => e.trim()).filter(e => e !== '')
}

/**
 * REDACT_FIELDS: comma-separated names (`password`: that field at any depth) or dotted paths from the
 * event's top (`*.token`, `user.auth.secret`; `*` is any one name), compared without case. Returned
 * lower-cased, without duplicates.
 */
export function parseRedactFields (raw: string | undefined, variable = 'REDACT_FIELDS'): readonly string[] {
  const out: string[] = []
  for (const entry of entries(raw)) {
    const lower = entry.toLowerCase()
    const segments = lower.split('.')
    for (const segment of segments) {
      if (segment === '') throw new ConfigError(variable, `"${entry}" has an empty name between dots`)
      if (segment.length > MAX_SEGMENT) throw new ConfigError(variable, `"${entry.slice(0, 32)}…" has a name longer than ${MAX_SEGMENT} characters`)
      if (segment !== '*' && segment.includes('*')) throw new ConfigError(variable, `"${entry}": \`*\` stands for a whole name, not part of one`)
      if (/\s/.test(segment)) throw new ConfigError(variable, `"${entry}" holds a space`)
    }
    if (segments.length === 1 && lower === '*') throw new ConfigError(variable, '"*" would redact every field')
    if (segments.length === 1 && OWN_FIELDS.has(lower)) {
      throw new ConfigError(variable, `"${entry}" is set by the collector itself (${[...OWN_FIELDS].join(', ')}) and cannot be redacted`)
    }
    if (!out.includes(lower)) out.push(lower)
  }
  return Object.freeze(out)
}

/** REDACT_PATTERNS: comma-separated detector names (email, card, bearer, jwt); none unless named. */
export function parseRedactPatterns (raw: string | undefined, variable = 'REDACT_PATTERNS'): readonly string[] {
  const out: string[] = []
  for (const entry of entries(raw)) {
    const name = entry.toLowerCase()
    if (!DETECTOR_NAMES.includes(name)) {
      throw new ConfigError(variable, `"${entry.slice(0, 64)}" is not a detector; expected some of ${DETECTOR_NAMES.join(', ')} (custom patterns are not offered: see the README)`)
    }
    if (!out.includes(name)) out.push(name)
  }
  return Object.freeze(out)
}
