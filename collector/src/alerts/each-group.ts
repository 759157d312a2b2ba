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

export function notificationId (alertId: string, revision: number, journalId: string, first: JournalPosition): string {
  return createHash('sha256').update(`${alertId}\n${revision}\n${journalId}\n${first.segment}\n${first.offset}`)
    .digest('base64url').slice(0, ID_LENGTH)
}

function text (v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v)
}

/** Characters of a message a notification carries: a hundred events stay far under any receiver's limit (and MongoDB's 16 MB). */
export const MAX_MESSAGE_CHARS = 2000
const MAX_FIELD_CHARS = 200

function clip (v: string, max: number): string {
  return v.length <= max ? v : v.slice(0, max - 1) + '…'
}

/** The event as a notification carries it: its message cut at MAX_MESSAGE_CHARS (the link shows it whole). */
export function notificationEvent (e: Record<string, unknown>): NotificationEvent {
  return {
    _id: clip(text(e._id), MAX_FIELD_CHARS),
    timestamp: clip(text(e.timestamp), MAX_FIELD_CHARS),
    received_at: clip(text(e.received_at), MAX_FIELD_CHARS),
    level: clip(text(e.level), MAX_FIELD_CHARS),
    app_name: clip(text(e.app_name), MAX_FIELD_CHARS),
    message: clip(text(e.message), MAX_MESSAGE_CHARS)
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
/** `journal`: its key in positions and tail ids ('' or the worker id), and its identity, which the id is made from. */
export function groupNotification (def: AlertDefinition, journal: { key: string, id: string }, publicUrl: string, g: Group): Notification {
  const journalKey = journal.key
  const deliveries: Delivery[] = def.channels.map((c, i) => ({
    channel: i, type: c.type, status: 'pending', attempts: 0, last_error: null, delivered_at: null
  }))
  return {
    id: notificationId(def.id, def.revision, journal.id, g.first),
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
