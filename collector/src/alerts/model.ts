// The shapes saved searches, alerts and notifications share, and the seams between the parts that use them:
//
//   routes/alerts.ts ──► DefinitionStore (definitions, count state, history: MongoDB or LOG_DIR files)
//                              │ onChange
//                              ▼
//   journal ──► alerts/evaluator.ts (each, one reader per journal) ──┐
//   GET /logs counts ──► alerts/count.ts (count, under a lease) ───────┴─► alerts/outbox.ts (synced, LOG_DIR)
//                                                                              │
//                                                 alerts/delivery.ts ◄─────────┘ ──► channels/ (webhook, slack, email)
//                                                        │
//                                                        └─► DefinitionStore.recordDeliveries (history)
//
// Times in definitions are milliseconds inside the collector and duration strings ("30s", "5m", "1h") in
// what the API takes and answers.

export interface SavedSearch {
  id: string
  name: string
  /** The query language (query/parse.ts). */
  query: string
  created_at: string
  updated_at: string
}

export type Condition =
  | { type: 'each' }
  | { type: 'count', above: number, window_ms: number }
  | { type: 'count', below: number, window_ms: number }

export type Channel =
  | { type: 'webhook', url: string, secret?: string }
  | { type: 'slack', url: string }
  | { type: 'email', to: string[] }

export interface AlertDefinition {
  id: string
  name: string
  query: string
  condition: Condition
  channels: Channel[]
  group_window_ms: number
  sample: number
  /** null: a firing count alert is not notified again until it resolves. */
  repeat_after_ms: number | null
  enabled: boolean
  /** Bumped when the query or condition changes, or the alert is enabled again: a new start. */
  revision: number
  /** ISO time: this revision sees events whose received_at is at or after it. */
  active_since: string
  created_at: string
  updated_at: string
}

/** One event as a notification carries it. */
export interface NotificationEvent {
  _id: string
  timestamp: string
  received_at: string
  level: string
  app_name: string
  message: string
}

/** Where a journal position is: a journal (`''` in a single process, `<i>` for cluster worker i, as in tail ids), a segment, a byte offset. */
export interface JournalPoint {
  journal: string
  segment: string
  offset: number
}

/**
 * What a notification covers. `each`: the journal range from its first event's line to the end of its last
 * (positions as in a tail id), and their received_at bounds. `count`: the window counted.
 */
export interface NotificationRange {
  from: string
  to: string
  journal?: { from: JournalPoint, to: JournalPoint }
}

export type DeliveryStatus = 'pending' | 'delivered' | 'retrying' | 'failed'

export interface Delivery {
  /** Index into the alert's channels, as they were when the notification was made. */
  channel: number
  type: Channel['type']
  status: DeliveryStatus
  attempts: number
  last_error: string | null
  delivered_at: string | null
}

export interface Notification {
  /** Decided by the journal (each) or the evaluation (count): the same notification always has the same id. */
  id: string
  alert_id: string
  alert_name: string
  revision: number
  state: 'firing' | 'resolved'
  /** As the API shows it: windows as duration strings. */
  condition: Record<string, unknown>
  count: number
  /** The first `sample` events, oldest first. */
  events: NotificationEvent[]
  /** The page showing exactly these events (query and time range), from PUBLIC_URL. */
  link: string
  range: NotificationRange
  created_at: string
  /** The channels it goes to, as they were when it was made (secrets included: the outbox is local, never served). */
  channels: Channel[]
  deliveries: Delivery[]
}

/** What one attempt to send to one channel came to. */
export interface SendResult {
  ok: boolean
  /** HTTP status, or SMTP reply code, when there was one. */
  status?: number
  /** From Retry-After (seconds or a date), when the receiver gave one. */
  retryAfterMs?: number
  /** At most 1 KB: the receiver's answer or the error. */
  error?: string
  /**
   * Retrying cannot help (an HTTP 4xx other than 408/429, such as Slack's 404/410 for a revoked hook; an SMTP
   * 5xx): the delivery goes straight to 'failed' instead of being retried until ALERT_DELIVERY_TIMEOUT.
   */
  permanent?: boolean
}

export interface ChannelContext {
  smtpUrl: string | undefined
  emailFrom: string
  timeoutMs: number
}

/** Sends one notification to one channel; never throws (a failure is a SendResult with ok false). */
export type SendToChannel = (channel: Channel, notification: Notification, ctx: ChannelContext) => Promise<SendResult>

export type SearchInput = Pick<SavedSearch, 'name' | 'query'>
export type AlertInput = Omit<AlertDefinition, 'id' | 'revision' | 'active_since' | 'created_at' | 'updated_at'>

/** A count alert's state, shared by every collector (only the lease holder changes it). */
export interface CountState {
  alert_id: string
  revision: number
  state: 'ok' | 'firing'
  /** When it last went firing or resolved, or was notified again. */
  since: string
  last_notified_at: string | null
}

/** Where definitions, count state and history live: MongoDB collections, or files in LOG_DIR. */
export interface DefinitionStore {
  listSearches (): Promise<SavedSearch[]>
  getSearch (id: string): Promise<SavedSearch | undefined>
  /** Rejects with NameTakenError when the name is in use. */
  createSearch (input: SearchInput): Promise<SavedSearch>
  updateSearch (id: string, input: SearchInput): Promise<SavedSearch | undefined>
  deleteSearch (id: string): Promise<boolean>

  listAlerts (): Promise<AlertDefinition[]>
  getAlert (id: string): Promise<AlertDefinition | undefined>
  createAlert (input: AlertInput): Promise<AlertDefinition>
  updateAlert (id: string, input: AlertInput): Promise<AlertDefinition | undefined>
  deleteAlert (id: string): Promise<boolean>

  countState (alertId: string): Promise<CountState | undefined>
  setCountState (state: CountState): Promise<void>

  /** Adds a notification to its alert's history (idempotent by id). */
  recordNotification (n: Notification): Promise<void>
  /** Replaces a notification's deliveries in the history. */
  recordDeliveries (id: string, deliveries: Delivery[]): Promise<void>
  /** Newest first, without channel secrets. */
  history (alertId: string, limit: number): Promise<Array<Omit<Notification, 'channels'>>>

  /** Calls `listener` when definitions change here or (polled) in another process. */
  onChange (listener: () => void): void
  close (): Promise<void>
}

export class NameTakenError extends Error {}

/** A notification's link: the page with the alert's query narrowed to the events' received_at range, over their timestamps. */
export function alertLink (base: string, query: string, received: { from: string, to: string }, timestamps: { from: string, to: string }): string {
  const narrowed = `${query.trim() === '' ? '' : `(${query}) and `}received_at >= ${received.from} and received_at <= ${received.to}`
  const to = new Date(Date.parse(timestamps.to) + 1).toISOString()
  const p = new URLSearchParams({ query: narrowed, from: timestamps.from, to })
  return `${base.replace(/\/+$/, '')}/?${p.toString()}`
}

/** One notification in the outbox, and whether the history (DefinitionStore) has its latest deliveries. */
export interface OutboxEntry {
  notification: Notification
  recorded: boolean
}

/** Where an `each` alert's evaluation stands in one journal: everything before `point` is in a notification or matched nothing. */
export interface AlertPosition {
  alert_id: string
  revision: number
  point: JournalPoint
}

/**
 * The collector's own notifications waiting to be delivered, in LOG_DIR (alerts/outbox.ts). Notifications
 * are never all in memory: open() reads them from disk.
 */
export interface Outbox {
  /** Stores `n` (and, for an `each` alert, its new position) in one record, synced; resolves once on disk. Adding an id already there does nothing. */
  add (n: Notification, advance?: AlertPosition): Promise<void>
  /**
   * Entries with a delivery not yet final (delivered or failed) or not yet recorded in the history, oldest
   * first; those of an alert `skip` names, once recorded, are passed over unread (a deliverer whose lanes
   * for it are taken).
   */
  open (skip?: (alertId: string) => boolean): AsyncGenerator<OutboxEntry>
  /** Stores the deliveries as they are now and whether the history has them (not synced: a crash at worst repeats one delivery). */
  update (id: string, deliveries: Delivery[], recorded: boolean): Promise<void>
  /** Called after each add. */
  onAdded (listener: () => void): void
  stats (): { pending: number, failed: number, notifications: number, bytes: number }
}
