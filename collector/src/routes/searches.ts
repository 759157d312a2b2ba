// POST/GET /searches, GET/PUT/DELETE /searches/:id: saved searches, in the DefinitionStore.
//
//   request ─► key check (app.ts: a read key or the admin key) ─► validateSearch ─► pinned-key check ─► store
//
// A read key pinned to an app reads that app alone (GET /logs), so it may only hold searches it could run
// as they are: those whose query implies `app_name = <its app>`. Others are not listed and answer 403.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ForbiddenError, NameInUseError, UnknownIdError } from '../errors'
import { searchAnswer, validateSearch } from '../alerts/definition'
import { NameTakenError, type DefinitionStore, type SavedSearch } from '../alerts/model'
import { impliedBy } from '../query/implied'
import { parseQuery } from '../query/parse'

/** True when every match of `query` is in `app` (the query implies app_name = app). */
export function confinedTo (query: string, app: string): boolean {
  let apps: string[] | undefined
  try {
    apps = impliedBy(parseQuery(query)).apps
  } catch {
    return false
  }
  return apps !== undefined && apps.length > 0 && apps.every(a => a === app)
}

function mayUse (request: FastifyRequest, query: string): boolean {
  return request.keyAppName === undefined || confinedTo(query, request.keyAppName)
}

function forbidden (request: FastifyRequest): Error {
  return new ForbiddenError(`read key pinned to app "${request.keyAppName ?? ''}" for a search whose query is not confined to that app (add: app_name = ${request.keyAppName ?? ''})`)
}

/** Store errors in the API's terms. */
export function nameTaken (what: string, err: unknown): unknown {
  return err instanceof NameTakenError ? new NameInUseError(what, err.message.slice(0, 200)) : err
}

export function idParam (request: FastifyRequest): string {
  return String((request.params as { id: string }).id)
}

export function unknownId (what: string, id: string): Error {
  return new UnknownIdError(what, id.slice(0, 64))
}

export async function searchRoutes (app: FastifyInstance, opts: { store: () => DefinitionStore }): Promise<void> {
  const found = async (request: FastifyRequest): Promise<SavedSearch> => {
    const id = idParam(request)
    const s = await opts.store().getSearch(id)
    if (s === undefined) throw unknownId('saved search', id)
    if (!mayUse(request, s.query)) throw forbidden(request)
    return s
  }

  app.post('/searches', async (request, reply) => {
    const input = validateSearch(request.body)
    if (!mayUse(request, input.query)) throw forbidden(request)
    try {
      return await reply.code(201).send(searchAnswer(await opts.store().createSearch(input)))
    } catch (err) {
      throw nameTaken('saved search', err)
    }
  })

  app.get('/searches', async request => {
    const all = await opts.store().listSearches()
    return { searches: all.filter(s => mayUse(request, s.query)).map(searchAnswer) }
  })

  app.get('/searches/:id', async request => searchAnswer(await found(request)))

  app.put('/searches/:id', async request => {
    const input = validateSearch(request.body)
    const s = await found(request)
    if (!mayUse(request, input.query)) throw forbidden(request)
    let updated: SavedSearch | undefined
    try {
      updated = await opts.store().updateSearch(s.id, input)
    } catch (err) {
      throw nameTaken('saved search', err)
    }
    if (updated === undefined) throw unknownId('saved search', s.id)
    return searchAnswer(updated)
  })

  app.delete('/searches/:id', async (request, reply) => {
    const s = await found(request)
    if (!(await opts.store().deleteSearch(s.id))) throw unknownId('saved search', s.id)
    return await reply.code(204).send()
  })
}
