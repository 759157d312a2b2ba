// Requests no route answers: 404 MAAP_NOT_FOUND (Fastify's own 404 has no code), naming the methods the
// path does take when it is one of ours — `GET /log` is a wrong method far more often than a wrong path.
// Still a 404, not a 405: clients and the bad-input corpus have always seen 404 here.
import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../errors'

/** Call before any route is registered: it learns each path's methods as they are added. */
export function installNotFound (app: FastifyInstance): void {
  const methods = new Map<string, Set<string>>()
  app.addHook('onRoute', route => {
    let known = methods.get(route.url)
    if (known === undefined) methods.set(route.url, known = new Set())
    // HEAD comes with every GET by itself; naming it would add nothing.
    for (const method of [route.method].flat()) if (method !== 'HEAD') known.add(method)
  })
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!
    const known = methods.get(path)
    const shown = JSON.stringify(path.slice(0, 200))
    reply.send(new NotFoundError(known === undefined || known.size === 0
      ? `no route ${request.method} ${shown}`
      : `${shown} takes ${[...known].sort().join(' or ')}, not ${request.method}`))
  })
}
