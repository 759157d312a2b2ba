// POST/GET /alerts, GET/PUT/DELETE /alerts/:id, GET /alerts/:id/history, POST /alerts/:id/test.
//
//   request ─► admin key (app.ts) ─► validateAlert (masked values kept on PUT) ─► DefinitionStore
//   GET ─► definition (masked, durations as strings) + state, last_notified_at, deliveries (from the store)
//
// State, from what the store holds: a count alert is what its count state says (for its current revision);
// an `each` alert is firing while its newest notification is younger than its group window.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BadQueryError } from '../errors'
import { alertAnswer, validateAlert } from '../alerts/definition'
import type { AlertDefinition, DefinitionStore } from '../alerts/model'
import { HISTORY_PER_ALERT } from '../alerts/revision'
import { idParam, nameTaken, unknownId } from './searches'

export interface AlertRouteOptions {
  store: () => DefinitionStore
  /** Sends a test notification to every channel of the alert; its result is the answer. */
  test: (alert: AlertDefinition) => Promise<unknown>
  /** Whether SMTP_URL is set: without it, e-mail channels are refused. */
  smtpConfigured: boolean
  now?: () => number
}

const DEFAULT_HISTORY = 100

export async function alertRoutes (app: FastifyInstance, opts: AlertRouteOptions): Promise<void> {
  const now = opts.now ?? Date.now

  const found = async (request: FastifyRequest): Promise<AlertDefinition> => {
    const id = idParam(request)
    const a = await opts.store().getAlert(id)
    if (a === undefined) throw unknownId('alert', id)
    return a
  }

  /** The definition as answered, with where it stands. */
  const withState = async (a: AlertDefinition): Promise<Record<string, unknown>> => {
    const store = opts.store()
    const history = await store.history(a.id, HISTORY_PER_ALERT)
    let pending = 0
    let failed = 0
    for (const n of history) {
      for (const d of n.deliveries) {
        if (d.status === 'pending' || d.status === 'retrying') pending++
        else if (d.status === 'failed') failed++
      }
    }
    const newest = history[0]
    let state: 'ok' | 'firing' = 'ok'
    if (a.condition.type === 'count') {
      const s = await store.countState(a.id)
      if (s !== undefined && s.revision === a.revision) state = s.state
    } else if (newest !== undefined && newest.revision === a.revision) {
      state = now() - Date.parse(newest.created_at) < a.group_window_ms ? 'firing' : 'ok'
    }
    return { ...alertAnswer(a), state, last_notified_at: newest?.created_at ?? null, deliveries: { pending, failed } }
  }

  app.post('/alerts', async (request, reply) => {
    const input = validateAlert(request.body, { smtpConfigured: opts.smtpConfigured })
    try {
      return await reply.code(201).send(await withState(await opts.store().createAlert(input)))
    } catch (err) {
      throw nameTaken('alert', err)
    }
  })

  app.get('/alerts', async () => {
    const alerts = await opts.store().listAlerts()
    return { alerts: await Promise.all(alerts.map(withState)) }
  })

  app.get('/alerts/:id', async request => await withState(await found(request)))

  app.put('/alerts/:id', async request => {
    const previous = await found(request)
    const input = validateAlert(request.body, { smtpConfigured: opts.smtpConfigured, previous })
    let updated: AlertDefinition | undefined
    try {
      updated = await opts.store().updateAlert(previous.id, input)
    } catch (err) {
      throw nameTaken('alert', err)
    }
    if (updated === undefined) throw unknownId('alert', previous.id)
    return await withState(updated)
  })

  app.delete('/alerts/:id', async (request, reply) => {
    const a = await found(request)
    if (!(await opts.store().deleteAlert(a.id))) throw unknownId('alert', a.id)
    return await reply.code(204).send()
  })

  app.get('/alerts/:id/history', async request => {
    const params = request.query as Record<string, unknown>
    for (const key of Object.keys(params)) if (key !== 'limit') throw new BadQueryError(`unknown parameter "${key.slice(0, 64)}"`)
    let limit = DEFAULT_HISTORY
    if (params.limit !== undefined) {
      limit = Number(params.limit)
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= HISTORY_PER_ALERT)) {
        throw new BadQueryError(`limit: expected a whole number from 1 to ${HISTORY_PER_ALERT}`)
      }
    }
    const a = await found(request)
    return { notifications: await opts.store().history(a.id, limit) }
  })

  app.post('/alerts/:id/test', async request => await opts.test(await found(request)))
}
