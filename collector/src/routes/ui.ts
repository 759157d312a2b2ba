// The web page: GET / (index.html) and GET /ui/* (its bundled script and stylesheet, built by
// `npm run build:ui` into dist/ui). The page holds no secret, so it needs no key; the data it shows comes
// from the guarded read routes. A strict Content-Security-Policy goes on every answer: nothing but this
// origin's own script, styles and API, no inline code, no framing.
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export const UI_DIR = join(__dirname, '..', 'ui')
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

export async function uiRoutes (app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? UI_DIR
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'the web page is not built (npm run build:ui): GET / answers 404')
    return
  }
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    return payload
  })
  await app.register(fastifyStatic, { root, prefix: '/ui/', index: false, wildcard: true })
  app.get('/', async (_request, reply) => await reply.header('cache-control', 'no-cache').sendFile('index.html'))
}
