// The journal line of an event that arrived as JSON text, written by splicing that text instead of
// serialising the parsed object again: JSON.stringify of the whole event was a large part of what ingest
// spends on one (npm run bench:ingest measures it). It applies to text that starts the way the transports
// write it,
//   {"level":<name>,"timestamp":<epoch ms or string>,<rest>}
// when the parsed object holds exactly those values (so no later duplicate replaced them) and <rest>
// names none of the collector's own fields at any depth (a later duplicate must not override them when
// the journal is read back). The caller has parsed and checked the whole event, so <rest> is copied as
// it is; the canonical head (journal/line-head.ts) is written in front and _id, received_at appended.

import { lineHead } from '../journal/line-head'

const HEAD = /^\{"level":"([A-Za-z]{1,16})","timestamp":(\d{1,16}|"[^"\\]{1,64}"),/
// Inside a JSON string every '"' is escaped, so a match is a key, or the end of a key holding an escaped
// quote (`x"level`); either way the event is then serialised instead, which writes the same line.
// JSON allows whitespace before the colon: `"level" :` is a key too.
const OWN_KEYS = /"(?:level|timestamp|_id|received_at)"[ \t\r\n]*:/

export interface Canonical {
  level: string
  timestamp: string
  id: string
  receivedAt: string
}

/** The spliced journal line, or undefined when `text` does not qualify (then serialise the object). */
export function spliceLine (text: string, parsed: Record<string, unknown>, c: Canonical): string | undefined {
  const head = HEAD.exec(text)
  if (head === null || parsed.level !== head[1] || text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined
  const ts = head[2]!
  if (ts.charCodeAt(0) === 34 /* " */ ? parsed.timestamp !== ts.slice(1, -1) : parsed.timestamp !== Number(ts)) return undefined
  const rest = text.slice(head[0].length, -1)
  if (OWN_KEYS.test(rest)) return undefined
  return lineHead(c.timestamp, c.level) + rest + ',"_id":"' + c.id + '","received_at":"' + c.receivedAt + '"}'
}
