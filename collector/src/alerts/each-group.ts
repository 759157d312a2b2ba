// One `each` alert's group of matching events, and the notification it becomes. Everything here is decided
// by the journal (its lines, their received_at, their positions), never by when the evaluator ran, so
// re-evaluating a journal rebuilds the same notifications with the same ids:
//
//   first match F ──► group (F.received_at + group_window) ──► closes on the first match at/after it,
//                     joins every match before it              or once the journal's clock passes it
//                                                              ──► Notification (id from alert, revision, journal id and key, F)
import { createHash } from 'node:crypto'
import type { JournalPosition } from '../journal/writer'
import { alertLink, type AlertDefinition, type Delivery, type Notification, type NotificationEvent } from './model'

/** Characters of a notification id: 156 bits of sha256, base64url. */
const ID_LENGTH = 26

export interface Group {
  first: JournalPosition
  /** F.received_at + group_window (ms): a match at or past it starts the next group. */
  deadline: number
  count: number
  events: NotificationEvent[]
  /** Position after the last matching line. */
  end: JournalPosition
  receivedFrom: string
  receivedTo: string
  timestampFrom: string
  timestampTo: string
}

/** `journalId` (journal-id.ts) tells collectors apart: their journals' segment names and offsets can be the same. */
export function notificationId (alertId: string, revision: number, journalId: string, journalKey: string, first: JournalPosition): string {
  return createHash('sha256').update(`${alertId}\n${revision}\n${journalId}\n${journalKey}\n${first.segment}\n${first.offset}`)
    .digest('base64url').slice(0, ID_LENGTH)
}

function text (v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v)
}

/** The event as a notification carries it. */
export function notificationEvent (e: Record<string, unknown>): NotificationEvent {
  return {
    _id: text(e._id),
    timestamp: text(e.timestamp),
    received_at: text(e.received_at),
    level: text(e.level),
    app_name: text(e.app_name),
    message: text(e.message)
  }
}

/** A group started by the matching event `e` (its line from `at` to `end`). */
export function startGroup (def: AlertDefinition, e: NotificationEvent, receivedMs: number, at: JournalPosition, end: JournalPosition): Group {
  return {
    first: at,
    deadline: receivedMs + def.group_window_ms,
    count: 1,
    events: def.sample > 0 ? [e] : [],
    end,
    receivedFrom: e.received_at,
    receivedTo: e.received_at,
    timestampFrom: e.timestamp,
    timestampTo: e.timestamp
  }
}

/** Adds the matching event `e` (as parsed) to `g`: counted always, carried while the sample has room. */
export function joinGroup (g: Group, sample: number, e: Record<string, unknown>, end: JournalPosition): void {
  g.count++
  if (g.events.length < sample) g.events.push(notificationEvent(e))
  g.end = end
  const received = text(e.received_at)
  const timestamp = text(e.timestamp)
  // ISO times of one fixed format: text order is time order.
  if (received < g.receivedFrom) g.receivedFrom = received
  if (received > g.receivedTo) g.receivedTo = received
  if (timestamp < g.timestampFrom) g.timestampFrom = timestamp
  if (timestamp > g.timestampTo) g.timestampTo = timestamp
}

/**
 * The notification of a closed group. created_at is the latest received_at in it: decided by the journal
 * (a close by the clock and a close by the next match give the same notification).
 */
export function groupNotification (def: AlertDefinition, journalId: string, journalKey: string, publicUrl: string, g: Group): Notification {
  const deliveries: Delivery[] = def.channels.map((c, i) => ({
    channel: i, type: c.type, status: 'pending', attempts: 0, last_error: null, delivered_at: null
  }))
  return {
    id: notificationId(def.id, def.revision, journalId, journalKey, g.first),
    alert_id: def.id,
    alert_name: def.name,
    revision: def.revision,
    state: 'firing',
    condition: { type: 'each' },
    count: g.count,
    events: g.events,
    link: alertLink(publicUrl, def.query, { from: g.receivedFrom, to: g.receivedTo }, { from: g.timestampFrom, to: g.timestampTo }),
    range: {
      from: g.receivedFrom,
      to: g.receivedTo,
      journal: {
        from: { journal: journalKey, segment: g.first.segment, offset: g.first.offset },
        to: { journal: journalKey, segment: g.end.segment, offset: g.end.offset }
      }
    },
    created_at: g.receivedTo,
    channels: structuredClone(def.channels),
    deliveries
  }
}
