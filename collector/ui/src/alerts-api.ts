// The saved-search and alert routes as the page uses them (POST/GET/PUT/DELETE /searches and /alerts,
// /alerts/:id/history, /alerts/:id/test). Saved searches go with the read key, alerts with the admin key.
import { getJson } from './api'

export interface SavedSearch { id: string, name: string, query: string, created_at: string, updated_at: string }

export type Condition =
  | { type: 'each' }
  | { type: 'count', above: number, window: string }
  | { type: 'count', below: number, window: string }

export type Channel =
  | { type: 'webhook', url: string, secret?: string }
  | { type: 'slack', url: string }
  | { type: 'email', to: string[] }

/** What POST and PUT /alerts take. */
export interface AlertInput {
  name: string
  query: string
  condition: Condition
  channels: Channel[]
  group_window: string
  sample: number
  repeat_after: string | null
  enabled: boolean
}

/** What GET /alerts answers for each: the input (secrets and URLs masked) and how it stands. */
export interface Alert extends AlertInput {
  id: string
  state?: 'ok' | 'firing'
  last_notified_at?: string | null
  deliveries?: { pending: number, failed: number }
  created_at?: string
  updated_at?: string
}

export interface NotificationEvent { _id: string, timestamp: string, received_at?: string, level: string, app_name: string, message: string }
export interface Delivery { channel: number, type?: string, status: string, attempts: number, last_error: string | null, delivered_at: string | null }
export interface Notification {
  id: string
  alert_id: string
  state: 'firing' | 'resolved'
  count: number
  events: NotificationEvent[]
  link: string
  range: { from: string, to: string }
  created_at: string
  deliveries: Delivery[]
}
export interface TestResult { channel: number, type: string, ok: boolean, status?: number | null, error?: string | null }

const id = (s: string): string => encodeURIComponent(s)

export const searches = {
  list: async () => (await getJson<{ searches: SavedSearch[] }>('/searches')).searches,
  create: async (name: string, query: string) => await getJson<SavedSearch>('/searches', { method: 'POST', body: { name, query } }),
  update: async (s: SavedSearch, name: string) =>
    await getJson<SavedSearch>(`/searches/${id(s.id)}`, { method: 'PUT', body: { name, query: s.query } }),
  remove: async (s: SavedSearch) => { await getJson<unknown>(`/searches/${id(s.id)}`, { method: 'DELETE' }) }
}

export const alerts = {
  list: async () => (await getJson<{ alerts: Alert[] }>('/alerts', { key: 'admin' })).alerts,
  create: async (a: AlertInput) => await getJson<Alert>('/alerts', { method: 'POST', body: a, key: 'admin' }),
  update: async (alertId: string, a: AlertInput) => await getJson<Alert>(`/alerts/${id(alertId)}`, { method: 'PUT', body: a, key: 'admin' }),
  remove: async (alertId: string) => { await getJson<unknown>(`/alerts/${id(alertId)}`, { method: 'DELETE', key: 'admin' }) },
  history: async (alertId: string) =>
    (await getJson<{ notifications: Notification[] }>(`/alerts/${id(alertId)}/history`, { key: 'admin' })).notifications,
  test: async (alertId: string) =>
    (await getJson<{ results: TestResult[] }>(`/alerts/${id(alertId)}/test`, { method: 'POST', key: 'admin' })).results
}

/**
 * An alert as PUT takes it: only the input's fields (the state fields would be refused as unknown). The
 * masked URLs and secrets go back as they came: the collector keeps the stored ones for an unchanged mask.
 */
export function inputOf (a: Alert): AlertInput {
  return {
    name: a.name,
    query: a.query,
    condition: a.condition,
    channels: a.channels,
    group_window: a.group_window,
    sample: a.sample,
    repeat_after: a.repeat_after ?? null,
    enabled: a.enabled
  }
}
